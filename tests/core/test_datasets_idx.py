"""`mnist` and `fashion-mnist` read real IDX files (plain and gzipped) written here in the published format."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from gentool.datasets.idx import read_idx
from gentool.errors import GentoolError
from gentool.registry import build

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array: np.ndarray, type_code: int = 0x08, big_endian_dtype: str = ">u1") -> bytes:
    """The IDX encoding: 0, 0, type code, ndim, each dimension as big-endian uint32, then big-endian values."""
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.astype(big_endian_dtype).tobytes()


def write_set(
    root: Path, n_train: int = 30, n_test: int = 12, gz: bool = False, seed: int = 0
) -> dict[str, np.ndarray]:
    """Four IDX files with random 28x28 images and labels 0..9; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        NAMES[1]: rng.integers(0, 10, n_train).astype(np.uint8),
        NAMES[2]: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        NAMES[3]: rng.integers(0, 10, n_test).astype(np.uint8),
    }
    root.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)
    return arrays


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_mnist_reads_the_four_idx_files(tmp_path, gz):
    arrays = write_set(tmp_path, gz=gz)
    data = build("dataset", "mnist", {"root": str(tmp_path)})
    info = data.info()
    assert (info.kind, info.shape, info.num_classes, info.train_size) == ("image", (1, 28, 28), 10, 30)
    assert info.class_names == tuple("0123456789")
    for split, (images, labels) in {"train": NAMES[:2], "test": NAMES[2:]}.items():
        s = data.split(split)
        assert s.x.dtype == torch.float32 and s.y.dtype == torch.int64
        assert np.allclose(s.x[:, 0].numpy(), arrays[images] / 255.0)
        assert s.y.numpy().tolist() == arrays[labels].tolist()


def test_fashion_mnist_uses_the_same_files_and_names_its_classes(tmp_path):
    write_set(tmp_path)
    info = build("dataset", "fashion-mnist", {"root": str(tmp_path)}).info()
    assert info.num_classes == 10 and info.class_names[0] == "T-shirt/top" and info.class_names[9] == "Ankle boot"
    assert info.name == "fashion-mnist"


def test_pad_gives_32x32_with_a_zero_border(tmp_path):
    arrays = write_set(tmp_path)
    x = build("dataset", "mnist", {"root": str(tmp_path), "pad": 2}).split("train").x
    assert x.shape == (30, 1, 32, 32)
    assert x[:, :, :2].eq(0).all() and x[:, :, :, -2:].eq(0).all()
    assert np.allclose(x[:, 0, 2:30, 2:30].numpy(), arrays[NAMES[0]] / 255.0)


def test_missing_files_are_listed_with_the_folder(tmp_path):
    write_set(tmp_path)
    (tmp_path / NAMES[1]).unlink()
    (tmp_path / NAMES[3]).unlink()
    with pytest.raises(GentoolError) as err:
        build("dataset", "mnist", {"root": str(tmp_path)}).info()
    message = str(err.value)
    assert str(tmp_path) in message and "dataset.root" in message
    missing = message.split("Missing there:")[1]
    assert NAMES[1] in missing and NAMES[3] in missing
    assert NAMES[0] not in missing and NAMES[2] not in missing


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(GentoolError, match="does not exist") as err:
        build("dataset", "mnist", {"root": str(tmp_path / "nowhere")}).split("train")
    assert str(tmp_path / "nowhere") in str(err.value)
    assert all(name in str(err.value) for name in NAMES)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_a_truncated_file_is_named(tmp_path, gz):
    write_set(tmp_path, gz=False)
    path = tmp_path / NAMES[2]
    full = path.read_bytes()
    if gz:  # a gzip stream cut short
        path.unlink()
        path = tmp_path / f"{NAMES[2]}.gz"
        path.write_bytes(gzip.compress(full)[:-20])
    else:  # an IDX file missing its last 100 bytes
        path.write_bytes(full[:-100])
    data_set = build("dataset", "mnist", {"root": str(tmp_path)})
    data_set.split("train")  # the intact files still load
    with pytest.raises(GentoolError) as err:
        data_set.split("test")
    assert str(path) in str(err.value)
    assert ("truncated" if not gz else "decompressed") in str(err.value)


def test_a_file_that_is_not_idx_is_named(tmp_path):
    write_set(tmp_path)
    (tmp_path / NAMES[0]).write_bytes(b"<html>not found</html>")
    with pytest.raises(GentoolError, match="IDX magic number") as err:
        build("dataset", "mnist", {"root": str(tmp_path)}).split("train")
    assert str(tmp_path / NAMES[0]) in str(err.value)


def test_mismatched_counts_are_reported(tmp_path):
    write_set(tmp_path)
    (tmp_path / NAMES[1]).write_bytes(idx_bytes(np.zeros(7, np.uint8)))
    with pytest.raises(GentoolError, match="30 images.*7 labels"):
        build("dataset", "mnist", {"root": str(tmp_path)}).split("train")


def test_read_idx_decodes_big_endian_multibyte_types(tmp_path):
    values = np.array([[1, -2, 300], [-32768, 32767, 0]], dtype=np.int16)
    path = tmp_path / "shorts.idx"
    path.write_bytes(idx_bytes(values, 0x0B, ">i2"))
    out = read_idx(path)
    assert out.shape == (2, 3) and out.tolist() == values.tolist()
    floats = np.array([0.5, -1.25, 3.0], dtype=np.float64)
    (tmp_path / "doubles.idx").write_bytes(idx_bytes(floats, 0x0E, ">f8"))
    assert read_idx(tmp_path / "doubles.idx").tolist() == [0.5, -1.25, 3.0]


def test_trailing_bytes_are_an_error(tmp_path):
    path = tmp_path / "extra.idx"
    path.write_bytes(idx_bytes(np.zeros((2, 2), np.uint8)) + b"\x00")
    with pytest.raises(GentoolError, match="trailing bytes"):
        read_idx(path)
