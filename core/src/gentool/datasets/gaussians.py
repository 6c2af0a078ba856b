"""`gaussians`: the 2-D Gaussian mixtures used to measure mode collapse (points, not images).

ring: 8 modes at radius * (cos 2πk/8, sin 2πk/8), k = 0..7 (unrolled GAN, Metz et al. 2017: radius 2, std 0.02).
grid: 25 modes at spacing * (i - 2, j - 2), i, j = 0..4, label 5i + j (VEEGAN, Srivastava et al. 2017: the 5x5 grid
{-4, -2, 0, 2, 4}^2); std 0.02 by default for both. Labels are the mode index, balanced over the modes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from gentool.datasets.base import InMemorySplit, check_split, split_indices
from gentool.datasets.configs import GaussiansConfig
from gentool.protocols import DataInfo


def mode_centers_of(config: GaussiansConfig) -> np.ndarray:
    """The (K, 2) float64 mode centres of a layout, in label order."""
    if config.layout == "ring":
        angles = 2 * math.pi * np.arange(8) / 8
        return config.radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    i, j = np.meshgrid(np.arange(5), np.arange(5), indexing="ij")
    return config.spacing * np.stack([i.ravel() - 2, j.ravel() - 2], axis=1).astype(np.float64)


class Gaussians:
    """`count` points (N, 2) from an equal-weight mixture; `mode_centers()` and `mode_std` describe its modes."""

    def __init__(self, config: GaussiansConfig | None = None) -> None:
        self.config = config or GaussiansConfig()
        self._splits: dict[str, InMemorySplit] | None = None

    @property
    def mode_std(self) -> float:
        """The standard deviation of every mode (each coordinate)."""
        return float(self.config.std)

    def mode_centers(self) -> torch.Tensor:
        """Mode centres (K, 2) float32, row k the centre of label k."""
        return torch.from_numpy(mode_centers_of(self.config)).float()

    def _load(self) -> dict[str, InMemorySplit]:
        if self._splits is None:
            c = self.config
            centres = mode_centers_of(c)
            rng = np.random.default_rng(c.seed)
            labels = rng.permutation(np.arange(c.count) % len(centres)).astype(np.int64)
            points = centres[labels] + c.std * rng.standard_normal((c.count, 2))
            whole = InMemorySplit(torch.from_numpy(points).float(), torch.from_numpy(labels))
            train, test = split_indices(c.count, c.test_fraction, c.seed, labels)
            self._splits = {"train": whole.subset(train), "test": whole.subset(test)}
        return self._splits

    def info(self) -> DataInfo:
        k = len(mode_centers_of(self.config))
        names = tuple(f"mode {i}" for i in range(k))
        return DataInfo("points", (2,), k, len(self._load()["train"]), names, "gaussians", features="raw")

    def split(self, name: str) -> InMemorySplit:
        return self._load()[check_split(name)]
