"""What every built-in dataset shares: the in-memory split, seeded splitting, image conversion and root checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

from gentool.errors import GentoolError

SPLITS = ("train", "test")


@dataclass
class InMemorySplit:
    """A split small enough to hold as tensors: `x` float32 (N, C, H, W) in [0, 1] or (N, D) points, `y` int64 (N,).

    The trainer moves it to the device and batches there; `split[i]` also gives `(x_i, label or -1)` like a
    map-style torch dataset, so it can be handed to a DataLoader as well.
    """

    x: torch.Tensor
    y: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.x.dtype != torch.float32:
            raise TypeError(f"InMemorySplit.x must be float32, got {self.x.dtype}")
        if self.y is not None and (self.y.dtype != torch.int64 or self.y.shape != (self.x.shape[0],)):
            raise TypeError(
                f"InMemorySplit.y must be int64 of shape ({self.x.shape[0]},), got {self.y.dtype} {tuple(self.y.shape)}"
            )

    def __len__(self) -> int:
        return self.x.shape[0]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.x[i], int(self.y[i]) if self.y is not None else -1

    def subset(self, index) -> InMemorySplit:
        """The items at `index` (an int array or tensor), in that order."""
        index = torch.as_tensor(np.asarray(index), dtype=torch.int64)
        return InMemorySplit(self.x[index], self.y[index] if self.y is not None else None)


@dataclass
class MultiDomainSplit:
    """One split of unpaired multi-domain data: a split (in-memory or map-style) per domain, of any lengths.

    The trainer batches every domain on its own (independent shuffles, equal batch sizes) into `Batch.domains`;
    `len()` and indexing are domain 0's, so code that knows one domain sees domain 0.
    """

    domains: tuple[Any, ...]

    def __post_init__(self) -> None:
        if len(self.domains) < 2:
            raise TypeError(f"MultiDomainSplit needs at least two domains, got {len(self.domains)}")
        self.domains = tuple(self.domains)

    def __len__(self) -> int:
        return len(self.domains[0])

    def __getitem__(self, i: int) -> Any:
        return self.domains[0][i]


def check_split(name: str) -> str:
    """`name` if it is "train" or "test", else a GentoolError naming the valid splits."""
    if name not in SPLITS:
        raise GentoolError(f'Unknown split "{name}". Valid splits: {", ".join(SPLITS)}.')
    return name


def split_indices(
    n: int, test_fraction: float, seed: int, labels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, test) sorted int64 index arrays over range(n); stratified by `labels` when given.

    The test split holds round(n * test_fraction) items, at least 1 and at most n - 1 (none when n < 2); with
    labels each class gives its proportional share (largest remainders get the rounding).
    """
    n_test = min(n - 1, max(1, round(n * test_fraction))) if n >= 2 else 0
    rng = np.random.default_rng(seed)
    if labels is None:
        test = rng.permutation(n)[:n_test]
    else:
        labels = np.asarray(labels)
        classes, counts = np.unique(labels, return_counts=True)
        quota = counts * (n_test / n)
        take = np.floor(quota).astype(np.int64)
        order = np.argsort(-(quota - take), kind="stable")
        take[order[: n_test - int(take.sum())]] += 1
        test = np.concatenate(
            [rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=False)]
            + [np.zeros(0, np.int64)]
        )
    test = np.sort(test).astype(np.int64)
    train = np.setdiff1d(np.arange(n, dtype=np.int64), test)
    return train, test


def images_to_tensor(array: np.ndarray) -> torch.Tensor:
    """Images (N, H, W) or (N, H, W, C), uint8 in 0..255 or float in [0, 1], as float32 (N, C, H, W) in [0, 1]."""
    if array.ndim == 3:
        array = array[..., None]
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2)
    if tensor.dtype == torch.uint8:
        return tensor.float().div_(255.0).contiguous()
    return tensor.float().contiguous()


def pad_images(x: torch.Tensor, pad: int) -> torch.Tensor:
    """(N, C, H, W) images with `pad` zero pixels added on every side."""
    return F.pad(x, (pad, pad, pad, pad)) if pad else x


def resize_center_crop(image: Image.Image, size: int) -> Image.Image:
    """`image` scaled (bicubic, antialiased) so its shorter side is `size`, then cropped to the central size x size."""
    return ImageOps.fit(image, (size, size), method=Image.Resampling.BICUBIC, centering=(0.5, 0.5))


def root_path(root: str, dataset: str, expected: str, *, folder: bool) -> Path:
    """`root` as a Path when it exists as a folder (`folder=True`) or file; else a GentoolError saying what belongs there."""
    path = Path(root).expanduser()
    ok = path.is_dir() if folder else path.is_file()
    if not ok:
        what = "folder" if folder else "file"
        state = (
            "is not a folder" if folder and path.exists() else "is not a file" if path.exists() else "does not exist"
        )
        raise GentoolError(
            f'The {dataset} dataset reads {expected} from the {what} dataset.root = "{path}", but that path {state}. '
            f"Put the data there or point at it with --set dataset.root=PATH."
        )
    return path
