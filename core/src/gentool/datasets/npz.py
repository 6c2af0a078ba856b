"""`npz`: images (and optional labels) from one .npz file, held in memory, with a seeded or stored split."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from gentool.datasets.base import InMemorySplit, check_split, images_to_tensor, root_path, split_indices
from gentool.datasets.configs import NpzConfig
from gentool.errors import GentoolError
from gentool.protocols import DataInfo

SPLIT_KEYS = ("train_index", "test_index")


@dataclass
class NpzContent:
    """A checked .npz: `x` float32 (N, C, H, W) in [0, 1], `y` int64 (N,) or None, `split` (train, test) or None."""

    x: torch.Tensor
    y: torch.Tensor | None
    split: tuple[np.ndarray, np.ndarray] | None

    @property
    def num_classes(self) -> int:
        """Largest label + 1, or 0 when unlabelled."""
        return int(self.y.max()) + 1 if self.y is not None and len(self.y) else 0


def _fail(path: Path, problem: str) -> GentoolError:
    return GentoolError(f'The .npz file "{path}" {problem}')


def _check_images(path: Path, key: str, images: np.ndarray) -> np.ndarray:
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[3] not in (1, 3)) or images.shape[0] == 0:
        hint = (
            " (channels first? store np.transpose(a, (0, 2, 3, 1)))"
            if images.ndim == 4 and images.shape[1] in (1, 3)
            else ""
        )
        raise _fail(
            path,
            f'has "{key}" of shape {images.shape}, but images must be (N, H, W) or (N, H, W, C) with N > 0 and '
            f"C 1 or 3{hint}.",
        )
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.floating):
        lo, hi = float(np.min(images)), float(np.max(images))
        if not (np.isfinite(lo) and np.isfinite(hi) and lo >= 0.0 and hi <= 1.0):
            raise _fail(path, f'has float "{key}" with values in [{lo}, {hi}]; float images must lie in [0, 1].')
        return images
    raise _fail(
        path,
        f'has "{key}" of dtype {images.dtype}; images must be uint8 (0..255) or float in [0, 1] (e.g. a.astype(np.uint8)).',
    )


def _check_labels(path: Path, key: str, labels: np.ndarray, n: int) -> np.ndarray:
    if labels.shape != (n,) or not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == np.bool_):
        raise _fail(
            path,
            f'has "{key}" of shape {labels.shape} and dtype {labels.dtype}; labels must be integers of shape ({n},).',
        )
    if n and labels.min() < 0:
        raise _fail(path, f'has negative values in "{key}"; labels must be 0, 1, 2, ...')
    return labels.astype(np.int64)


def _check_split(path: Path, arrays: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray] | None:
    present = [k for k in SPLIT_KEYS if k in arrays]
    if not present:
        return None
    if len(present) == 1:
        raise _fail(path, f'has "{present[0]}" but not its partner; store both train_index and test_index, or neither.')
    out = []
    for key in SPLIT_KEYS:
        index = arrays[key]
        if (
            index.ndim != 1
            or not np.issubdtype(index.dtype, np.integer)
            or len(index) == 0
            or index.min() < 0
            or index.max() >= n
        ):
            raise _fail(path, f'has "{key}" that is not a non-empty 1-D integer array of positions in [0, {n}).')
        out.append(index.astype(np.int64))
    return out[0], out[1]


def read_npz(root: str | Path, dataset: str, images_key: str = "images", labels_key: str = "labels") -> NpzContent:
    """Read and check a .npz of images, optional labels and an optional stored split; problems are GentoolErrors."""
    path = root_path(str(root), dataset, f'a .npz file holding an "{images_key}" array', folder=False)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise _fail(
            path, f"could not be read as a .npz archive of plain arrays ({type(exc).__name__}: {exc})."
        ) from None
    if images_key not in arrays:
        found = ", ".join(sorted(arrays)) or "no arrays"
        raise _fail(path, f'has no array "{images_key}" (it holds: {found}). Set dataset.images_key to the right name.')
    images = _check_images(path, images_key, arrays[images_key])
    labels = _check_labels(path, labels_key, arrays[labels_key], len(images)) if labels_key in arrays else None
    split = _check_split(path, arrays, len(images))
    y = torch.from_numpy(labels) if labels is not None else None
    return NpzContent(images_to_tensor(images), y, split)


def make_splits(content: NpzContent, test_fraction: float, seed: int) -> dict[str, InMemorySplit]:
    """{"train", "test"} splits: the stored indices when the file had them, else a seeded (stratified) split."""
    whole = InMemorySplit(content.x, content.y)
    if content.split is not None:
        train, test = content.split
    else:
        labels = content.y.numpy() if content.y is not None else None
        train, test = split_indices(len(whole), test_fraction, seed, labels)
    return {"train": whole.subset(train), "test": whole.subset(test)}


class NpzImages:
    """Images from `root` (a .npz): `images` (N, H, W[, C]) uint8 or float in [0, 1], optional int `labels` (N,)."""

    def __init__(self, config: NpzConfig) -> None:
        self.config = config
        self._content: NpzContent | None = None
        self._splits: dict[str, InMemorySplit] | None = None

    def _load(self) -> dict[str, InMemorySplit]:
        if self._splits is None:
            c = self.config
            self._content = read_npz(c.root, "npz", c.images_key, c.labels_key)
            self._splits = make_splits(self._content, c.test_fraction, c.seed)
        return self._splits

    def info(self) -> DataInfo:
        splits = self._load()
        k = self._content.num_classes
        return DataInfo(
            kind="image",
            shape=tuple(splits["train"].x.shape[1:]),
            num_classes=k,
            train_size=len(splits["train"]),
            class_names=tuple(str(i) for i in range(k)),
            name="npz",
            features=self.config.features,
        )

    def split(self, name: str) -> InMemorySplit:
        return self._load()[check_split(name)]
