"""`mnist` and `fashion-mnist`: the four standard IDX files (plain or gzipped) read from `root`, held in memory.

IDX format: 2 zero bytes, a type code (0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64),
the number of dimensions, then each dimension as a big-endian uint32, then the values, big-endian, row-major.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

from gentool.datasets.base import InMemorySplit, check_split, images_to_tensor, pad_images
from gentool.datasets.configs import MnistConfig
from gentool.errors import GentoolError
from gentool.protocols import DataInfo

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
ALL_FILES = FILES["train"] + FILES["test"]
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def _bad(path: Path, problem: str) -> GentoolError:
    return GentoolError(f'The IDX file "{path}" {problem} Replace it with an intact copy of the original file.')


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in an IDX file (gzipped when the name ends in .gz), in native byte order.

    A wrong magic number, a truncated file or trailing bytes are GentoolErrors naming the file.
    """
    path = Path(path)
    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise _bad(path, f"could not be read or decompressed ({type(exc).__name__}: {exc}).") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES or data[3] == 0:
        raise _bad(path, f"does not start with an IDX magic number (first bytes: {data[:4].hex() or 'none'}).")
    dtype, ndim = np.dtype(IDX_TYPES[data[2]]), data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise _bad(path, f"is truncated: it ends inside its header ({len(data)} bytes, {header} expected).")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(data) != expected:
        state = "is truncated" if len(data) < expected else "has trailing bytes"
        raise _bad(
            path, f"{state}: its header declares shape {dims}, {expected:,} bytes in all, but it holds {len(data):,}."
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def find_idx_files(root: str, dataset: str) -> dict[str, Path]:
    """Each of the four standard file names mapped to its path in `root` (plain or .gz); a GentoolError listing
    exactly which are missing and where they are expected otherwise."""
    folder = Path(root).expanduser()
    found: dict[str, Path] = {}
    for name in ALL_FILES:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    missing = [name for name in ALL_FILES if name not in found]
    if missing:
        where = f'folder "{folder}"' + ("" if folder.is_dir() else " (which does not exist)")
        raise GentoolError(
            f"The {dataset} dataset reads the four standard IDX files {', '.join(ALL_FILES)} (each may be gzipped, "
            f"with .gz added to the name) from the {where}, set by dataset.root. Missing there: {', '.join(missing)}. "
            "Put the files there or point at their folder with --set dataset.root=PATH."
        )
    return found


def read_pair(images_path: Path, labels_path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W) uint8 and labels (N,) int64 from an IDX pair, checked against each other."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise _bad(images_path, f"holds {images.dtype} of shape {images.shape}; expected unsigned bytes (N, H, W).")
    if labels.ndim != 1 or labels.dtype != np.uint8 or (len(labels) and labels.max() >= num_classes):
        raise _bad(
            labels_path,
            f"holds {labels.dtype} of shape {labels.shape}; expected unsigned bytes (N,) below {num_classes}.",
        )
    if len(images) != len(labels):
        raise GentoolError(
            f'The IDX files "{images_path}" ({len(images)} images) and "{labels_path}" ({len(labels)} labels) '
            "do not match; they must come from the same release."
        )
    return images, labels.astype(np.int64)


class Mnist:
    """MNIST from IDX files in `root`: 28x28 gray (plus `pad` per side), 10 classes, the official 60,000/10,000 split."""

    dataset_name = "mnist"
    class_names = MNIST_CLASSES
    features = "digits"  # the feature network that suits the data (core's digits classifier)

    def __init__(self, config: MnistConfig) -> None:
        self.config = config
        self._splits: dict[str, InMemorySplit] = {}

    def _load(self, name: str) -> InMemorySplit:
        if name not in self._splits:
            files = find_idx_files(self.config.root, self.dataset_name)
            images_name, labels_name = FILES[name]
            images, labels = read_pair(files[images_name], files[labels_name], len(self.class_names))
            x = pad_images(images_to_tensor(images), self.config.pad)
            self._splits[name] = InMemorySplit(x, torch.from_numpy(labels))
        return self._splits[name]

    def info(self) -> DataInfo:
        train = self._load("train")
        k = len(self.class_names)
        return DataInfo(
            "image", tuple(train.x.shape[1:]), k, len(train), self.class_names, self.dataset_name, self.features
        )

    def split(self, name: str) -> InMemorySplit:
        return self._load(check_split(name))


class FashionMnist(Mnist):
    """Fashion-MNIST (Zalando): the MNIST file names and format, 10 clothing classes."""

    dataset_name = "fashion-mnist"
    class_names = FASHION_CLASSES
    features = ""  # no shipped classifier suits clothes: the evaluator's fallback rule decides and says so
