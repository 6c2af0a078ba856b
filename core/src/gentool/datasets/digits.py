"""`digits`: the 5,000 MNIST digits embedded in gentool-core (see docs/datasets.md for provenance and licence)."""

from __future__ import annotations

from importlib import resources

from gentool.datasets.base import InMemorySplit, check_split, pad_images
from gentool.datasets.configs import DigitsConfig
from gentool.datasets.npz import make_splits, read_npz
from gentool.protocols import DataInfo

CLASS_NAMES = tuple(str(d) for d in range(10))


def digits_file():
    """The embedded `digits.npz` (images, labels, train_index, test_index), built by scripts/build_digits.py."""
    return resources.files("gentool.datasets") / "data" / "digits.npz"


class Digits:
    """Grayscale digits 0-9, 28x28 (plus `pad` zero pixels per side), 4,000 train / 1,000 test, 400/100 per class."""

    def __init__(self, config: DigitsConfig | None = None) -> None:
        self.config = config or DigitsConfig()
        self._splits: dict[str, InMemorySplit] | None = None

    def _load(self) -> dict[str, InMemorySplit]:
        if self._splits is None:
            with resources.as_file(digits_file()) as path:
                splits = make_splits(read_npz(path, "digits"), 0.0, 0)  # the file's stored split
            pad = self.config.pad
            self._splits = {k: InMemorySplit(pad_images(s.x, pad), s.y) for k, s in splits.items()}
        return self._splits

    def info(self) -> DataInfo:
        train = self._load()["train"]
        return DataInfo("image", tuple(train.x.shape[1:]), 10, len(train), CLASS_NAMES, "digits", features="digits")

    def split(self, name: str) -> InMemorySplit:
        return self._load()[check_split(name)]
