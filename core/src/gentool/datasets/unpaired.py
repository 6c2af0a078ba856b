"""`unpaired`: two registered datasets as the unaligned domains A and B that translation models learn between.

Nothing pairs an item of A with one of B: the trainer shuffles each domain on its own, so a batch holds unrelated
images of both (`Batch.domains`). Both domains are brought to one square `size`; each keeps its own channels.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from gentool.datasets.base import InMemorySplit, MultiDomainSplit, check_split
from gentool.datasets.configs import UnpairedConfig
from gentool.errors import GentoolError
from gentool.protocols import DataInfo
from gentool.registry import build


def square_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Images (N, C, H, W) centre-cropped to a square and resized (bilinear, antialiased) to size x size."""
    h, w = x.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    x = x[..., top : top + side, left : left + side]
    if side == size:
        return x.contiguous()
    return F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp_(0, 1)


class _ResizedStream(torch.utils.data.Dataset):
    """A map-style split of (x, label) items, each image resized on read."""

    def __init__(self, split: Any, size: int) -> None:
        self.split, self.size = split, size

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        x, y = self.split[i]
        return square_resize(torch.as_tensor(x)[None], self.size)[0], y


class Unpaired:
    """Domains A and B from the `a` and `b` dataset sections; `info().domains` describes each at the common size."""

    def __init__(self, config: UnpairedConfig) -> None:
        self.config = config
        self.parts = [
            build("dataset", section["name"], {k: v for k, v in section.items() if k != "name"},
                  prefix=f"dataset.{key}")
            for key, section in (("a", config.a), ("b", config.b))
        ]
        self._splits: dict[str, MultiDomainSplit] = {}

    def _size(self, infos: list[DataInfo]) -> int:
        for key, info in zip("ab", infos):
            if info.kind != "image" or len(info.shape) != 3:
                raise GentoolError(
                    f'The unpaired dataset needs images in both domains; dataset.{key} ("{info.name}") holds '
                    f"{info.kind} of shape {tuple(info.shape)}."
                )
        return self.config.size or int(infos[0].shape[1])

    def info(self) -> DataInfo:
        infos = [part.info() for part in self.parts]
        size = self._size(infos)
        domains = tuple(  # a feature network declared for the original size may not take the new one
            DataInfo(i.kind, (i.shape[0], size, size), i.num_classes, i.train_size, i.class_names, i.name,
                     i.features if tuple(i.shape[1:]) == (size, size) else "")
            for i in infos
        )
        a = domains[0]
        return DataInfo(a.kind, a.shape, a.num_classes, a.train_size, a.class_names, "unpaired", a.features, domains)

    def split(self, name: str) -> MultiDomainSplit:
        name = check_split(name)
        if name not in self._splits:
            size = self._size([part.info() for part in self.parts])
            self._splits[name] = MultiDomainSplit(tuple(self._resized(part.split(name), size) for part in self.parts))
        return self._splits[name]

    @staticmethod
    def _resized(split: Any, size: int) -> Any:
        if isinstance(split, InMemorySplit):
            return InMemorySplit(square_resize(split.x, size), split.y)
        return _ResizedStream(split, size)
