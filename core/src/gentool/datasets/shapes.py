"""`shapes`: coloured shapes drawn procedurally (vectorised masks), labelled by shape; deterministic for a seed.

Each image has one shape of random size (radius 20-40% of the image side), position (fully inside the image),
colour and background colour. Where the two colours are too alike (mean channel difference below 0.35) the
background is replaced by the colour half a turn away in every channel, so every shape stays visible.
"""

from __future__ import annotations

import numpy as np
import torch

from gentool.datasets.base import InMemorySplit, check_split, split_indices
from gentool.datasets.configs import ShapesConfig
from gentool.protocols import DataInfo

CLASS_NAMES = ("circle", "square", "triangle", "diamond", "cross", "ring")
MIN_CONTRAST = 0.35


def shape_mask(k: int, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Boolean mask of shape class `k` given pixel offsets dx, dy from the shape's centre and its radius r.

    The arrays broadcast together (e.g. dx (N, 1, W), dy (N, H, 1), r (N, 1, 1) give (N, H, W) masks);
    y grows downwards; every shape fits in the disc of radius r around its centre.
    """
    ax, ay = np.abs(dx), np.abs(dy)
    if k == 0:  # circle
        return dx * dx + dy * dy <= r * r
    if k == 1:  # square of side 1.4 r
        return np.maximum(ax, ay) <= 0.7 * r
    if k == 2:  # upright equilateral triangle: apex (0, -r), base corners (±0.866 r, 0.5 r)
        return (dy <= 0.5 * r) & (ax <= (dy + r) * (0.866 / 1.5))
    if k == 3:  # diamond
        return ax + ay <= r
    if k == 4:  # plus-shaped cross, arms 0.44 r wide
        return ((ax <= 0.7 * r) & (ay <= 0.22 * r)) | ((ay <= 0.7 * r) & (ax <= 0.22 * r))
    d2 = dx * dx + dy * dy  # k == 5: ring
    return (d2 <= r * r) & (d2 >= (0.55 * r) ** 2)


def draw_shapes(count: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 (count, size, size, 3), labels int64 (count,)); labels are balanced and shuffled."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % len(CLASS_NAMES)).astype(np.int64)
    r = (rng.uniform(0.2, 0.4, count) * size).astype(np.float32)
    cx = (rng.uniform(0, 1, count) * (size - 2 * r) + r).astype(np.float32)
    cy = (rng.uniform(0, 1, count) * (size - 2 * r) + r).astype(np.float32)
    fg = rng.uniform(0, 1, (count, 3))
    bg = rng.uniform(0, 1, (count, 3))
    alike = np.abs(fg - bg).mean(axis=1) < MIN_CONTRAST
    bg[alike] = (fg[alike] + 0.5) % 1.0
    fg, bg = np.rint(fg * 255).astype(np.uint8), np.rint(bg * 255).astype(np.uint8)
    grid = np.arange(size, dtype=np.float32) + 0.5  # pixel centres
    mask = np.empty((count, size, size), dtype=bool)
    for k in range(len(CLASS_NAMES)):
        members = np.flatnonzero(labels == k)
        for start in range(0, len(members), 4096):  # chunks bound the memory of the temporaries
            i = members[start : start + 4096]
            dx = grid[None, None, :] - cx[i, None, None]
            dy = grid[None, :, None] - cy[i, None, None]
            mask[i] = shape_mask(k, dx, dy, r[i, None, None])
    images = np.where(mask[..., None], fg[:, None, None, :], bg[:, None, None, :])
    return images, labels


class Shapes:
    """`count` RGB images of `size` x `size` with one shape each, 6 classes; a seeded stratified train/test split."""

    def __init__(self, config: ShapesConfig | None = None) -> None:
        self.config = config or ShapesConfig()
        self._splits: dict[str, InMemorySplit] | None = None

    def _load(self) -> dict[str, InMemorySplit]:
        if self._splits is None:
            c = self.config
            images, labels = draw_shapes(c.count, c.size, c.seed)
            x = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0).contiguous()
            whole = InMemorySplit(x, torch.from_numpy(labels))
            train, test = split_indices(c.count, c.test_fraction, c.seed, labels)
            self._splits = {"train": whole.subset(train), "test": whole.subset(test)}
        return self._splits

    def info(self) -> DataInfo:
        c = self.config
        train = self._load()["train"]
        return DataInfo(
            "image", (3, c.size, c.size), len(CLASS_NAMES), len(train), CLASS_NAMES, "shapes", features="shapes"
        )

    def split(self, name: str) -> InMemorySplit:
        return self._load()[check_split(name)]
