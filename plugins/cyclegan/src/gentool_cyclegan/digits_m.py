"""`digits-m` (one RGB domain) and `digits-m-pair` (grey digits | digits-m), the plugin's offline demo data.

digits-m is built the way MNIST-M is (Ganin et al. 2016): each of core's embedded digits is blended onto a random
crop, |crop - digit| per channel, here of procedural textures (see `textures.py`) instead of BSDS500 photographs.
Deterministic for a seed; the textures and the crops of each split are drawn from their own seeded streams.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from gentool.api import DataInfo, GentoolError, InMemorySplit, MultiDomainSplit, build
from gentool_cyclegan.config import DigitsMConfig, DigitsMPairConfig
from gentool_cyclegan.textures import blend, random_crops, texture

CLASS_NAMES = tuple(str(d) for d in range(10))
FEATURES = "digits-m"
SPLITS = ("train", "test")


def _check_split(name: str) -> str:
    if name not in SPLITS:
        raise GentoolError(f'Unknown split "{name}". Valid splits: {", ".join(SPLITS)}.')
    return name


@functools.lru_cache(maxsize=4)
def make_textures(seed: int, count: int, size: int = 128) -> np.ndarray:
    """(count, size, size, 3) textures; texture k of seed s is the same whatever `count` is (cached)."""
    return np.stack([texture(seed * 100_003 + k, size) for k in range(count)])


def digits_on_textures(digits: torch.Tensor, textures: np.ndarray, seed: int) -> torch.Tensor:
    """Grey digits (N, 1, H, W) in [0, 1] blended onto seeded random crops: (N, 3, H, W) float32."""
    rng = np.random.default_rng(seed)
    x = digits[:, 0].numpy().astype(np.float64)
    crops = random_crops(rng, textures, len(x), x.shape[-1])
    return torch.from_numpy(blend(x, crops))


class DigitsM:
    """digits-m: 4,000 train / 1,000 test RGB 28x28 digits on textures, labelled 0-9 (core's digits split)."""

    def __init__(self, config: DigitsMConfig | None = None) -> None:
        self.config = config or DigitsMConfig()
        self._splits: dict[str, InMemorySplit] = {}

    def info(self) -> DataInfo:
        return DataInfo("image", (3, 28, 28), 10, len(self.split("train")), CLASS_NAMES, "digits-m", features=FEATURES)

    def split(self, name: str) -> InMemorySplit:
        name = _check_split(name)
        if name not in self._splits:
            digits = build("dataset", "digits").split(name)
            textures = make_textures(self.config.seed, self.config.textures)
            stream = self.config.seed * 2 + SPLITS.index(name)
            self._splits[name] = InMemorySplit(digits_on_textures(digits.x, textures, stream), digits.y)
        return self._splits[name]


class DigitsMPair:
    """Two unaligned domains for translation: A = core's grey digits, B = digits-m (see the module docstring)."""

    def __init__(self, config: DigitsMPairConfig | None = None) -> None:
        self.config = config or DigitsMPairConfig()
        self.a = build("dataset", "digits")
        self.b = DigitsM(DigitsMConfig(seed=self.config.seed, textures=self.config.textures))

    def _domain(self, dataset, split: str, parity: int) -> InMemorySplit:
        data = dataset.split(split)
        if split == "train" and self.config.disjoint:
            return data.subset(np.arange(parity, len(data), 2))
        return data

    def info(self) -> DataInfo:
        a, b = self.a.info(), self.b.info()
        train = [len(self._domain(d, "train", k)) for k, d in enumerate((self.a, self.b))]
        a = DataInfo(a.kind, a.shape, a.num_classes, train[0], a.class_names, "digits", features="digits")
        b = DataInfo(b.kind, b.shape, b.num_classes, train[1], b.class_names, b.name, features=b.features)
        return DataInfo(a.kind, a.shape, a.num_classes, a.train_size, a.class_names, "digits-m-pair",
                        features=a.features, domains=(a, b))

    def split(self, name: str) -> MultiDomainSplit:
        name = _check_split(name)
        return MultiDomainSplit(domains=(self._domain(self.a, name, 0), self._domain(self.b, name, 1)))
