"""`npz` reads real .npz files (uint8 and float, with and without labels); `digits` is the embedded default."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gentool.datasets.digits import digits_file
from gentool.errors import GentoolError
from gentool.registry import build


def test_uint8_images_with_labels(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (50, 6, 5), dtype=np.uint8)
    labels = np.arange(50) % 5
    np.savez(tmp_path / "set.npz", images=images, labels=labels)
    data = build("dataset", "npz", {"root": str(tmp_path / "set.npz"), "test_fraction": 0.2})
    info = data.info()
    assert (info.kind, info.shape, info.num_classes, info.train_size) == ("image", (1, 6, 5), 5, 40)
    train, test = data.split("train"), data.split("test")
    assert np.bincount(test.y.numpy()).tolist() == [2] * 5  # stratified: 10 test items, 2 per class
    x = torch.cat([train.x, test.x])
    y = torch.cat([train.y, test.y])
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    # every stored image appears exactly once, scaled to [0, 1], with its own label
    order = np.lexsort(np.round(x.flatten(1).numpy() * 255).astype(int).T)
    expected = np.lexsort(images.reshape(50, -1).T.astype(int))
    assert np.allclose(x.flatten(1).numpy()[order], images.reshape(50, -1)[expected] / 255.0)
    assert y.numpy()[order].tolist() == labels[expected].tolist()


def test_float_rgb_images_without_labels(tmp_path):
    images = np.random.default_rng(1).uniform(0, 1, (20, 4, 4, 3)).astype(np.float32)
    np.savez_compressed(tmp_path / "rgb.npz", images=images)
    data = build("dataset", "npz", {"root": str(tmp_path / "rgb.npz"), "test_fraction": 0.25})
    info = data.info()
    assert info.shape == (3, 4, 4) and info.num_classes == 0 and info.train_size == 15
    train, test = data.split("train"), data.split("test")
    assert train.y is None and test.y is None and train[0][1] == -1
    stored = torch.from_numpy(images).permute(0, 3, 1, 2)
    both = torch.cat([train.x, test.x])
    assert all(any(torch.equal(a, b) for b in stored) for a in both) and len(both) == 20


def test_custom_keys_and_a_stored_split(tmp_path):
    images = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 3, 3), np.uint8)  # image i is all i
    np.savez(
        tmp_path / "s.npz", x=images, y=np.arange(10) % 2, train_index=np.arange(2, 10), test_index=np.array([0, 1])
    )
    data = build("dataset", "npz", {"root": str(tmp_path / "s.npz"), "images_key": "x", "labels_key": "y"})
    test = data.split("test")
    assert torch.allclose(test.x[:, 0, 0, 0] * 255, torch.tensor([0.0, 1.0])) and test.y.tolist() == [0, 1]
    assert len(data.split("train")) == 8


def test_split_is_deterministic_for_a_seed(tmp_path):
    np.savez(tmp_path / "a.npz", images=np.arange(40, dtype=np.uint8).reshape(40, 1, 1))

    def test_values(seed):
        split = build("dataset", "npz", {"root": str(tmp_path / "a.npz"), "seed": seed}).split("test")
        return (split.x.flatten() * 255).round().tolist()

    assert test_values(3) == test_values(3)
    assert test_values(3) != test_values(4)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"pixels": np.zeros((2, 3, 3), np.uint8)}, r'no array "images" \(it holds: pixels\)'),
        ({"images": np.zeros((2, 3, 8, 8), np.uint8)}, r"\(2, 3, 8, 8\).*channels first"),
        ({"images": np.zeros((6, 8), np.uint8)}, r"must be \(N, H, W\) or \(N, H, W, C\)"),
        ({"images": np.full((2, 3, 3), 2.0)}, r"values in \[2.0, 2.0\]; float images must lie in \[0, 1\]"),
        ({"images": np.zeros((2, 3, 3), np.int64)}, r"dtype int64; images must be uint8"),
        (
            {"images": np.zeros((2, 3, 3), np.uint8), "labels": np.zeros(3, int)},
            r"labels must be integers of shape \(2,\)",
        ),
        ({"images": np.zeros((2, 3, 3), np.uint8), "labels": np.array([0, -1])}, "negative values"),
        ({"images": np.zeros((2, 3, 3), np.uint8), "train_index": np.array([0])}, "not its partner"),
    ],
)
def test_bad_contents_are_clear_errors(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(GentoolError, match=message) as err:
        build("dataset", "npz", {"root": str(path)}).info()
    assert str(path) in str(err.value)


def test_missing_or_unreadable_file_is_named(tmp_path):
    with pytest.raises(GentoolError, match="does not exist") as err:
        build("dataset", "npz", {"root": str(tmp_path / "none.npz")}).split("train")
    assert str(tmp_path / "none.npz") in str(err.value) and '"images"' in str(err.value)
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(GentoolError, match="could not be read as a .npz") as err:
        build("dataset", "npz", {"root": str(tmp_path / "junk.npz")}).split("train")


def test_embedded_digits_have_the_documented_split():
    data = build("dataset", "digits")
    info = data.info()
    assert (info.kind, info.shape, info.num_classes, info.train_size) == ("image", (1, 28, 28), 10, 4000)
    assert info.class_names == tuple("0123456789") and info.name == "digits"
    train, test = data.split("train"), data.split("test")
    assert len(train) == 4000 and len(test) == 1000
    assert np.bincount(train.y.numpy()).tolist() == [400] * 10
    assert np.bincount(test.y.numpy()).tolist() == [100] * 10
    with np.load(digits_file()) as raw:  # the file itself, read independently
        images, labels, train_index, test_index = raw["images"], raw["labels"], raw["train_index"], raw["test_index"]
    assert np.allclose(test.x[:, 0].numpy(), images[test_index] / 255.0)
    assert test.y.tolist() == labels[test_index].tolist()
    assert float(train.x.min()) >= 0.0 and float(train.x.max()) <= 1.0 and float(train.x.max()) == 1.0
    assert set(test_index.tolist()).isdisjoint(train_index.tolist())


def test_digits_padding_and_repeatability():
    plain = build("dataset", "digits").split("train")
    padded = build("dataset", "digits", {"pad": 2}).split("train")
    assert padded.x.shape == (4000, 1, 32, 32)
    assert torch.equal(padded.x[:, :, 2:30, 2:30], plain.x) and padded.x[:, :, :2].eq(0).all()
    assert torch.equal(build("dataset", "digits").split("test").x, build("dataset", "digits").split("test").x)
