"""`image-folder` reads real PNG/JPEG files written with Pillow: class subfolders, corrupt files, streaming."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gentool.datasets import folder as folder_module
from gentool.datasets.base import InMemorySplit
from gentool.errors import GentoolError
from gentool.registry import build

RED, BLUE = (255, 0, 0), (0, 0, 255)


def solid(path: Path, colour, size=(40, 24), mode="RGB", fmt="PNG") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, format=fmt)


@pytest.fixture
def classes(tmp_path) -> Path:
    """8 red "cat" images (one a JPEG), 4 blue "dog" images, a garbage .png and a truncated .png among the dogs."""
    root = tmp_path / "pets"
    for i in range(7):
        solid(root / "cat" / f"{i:02d}.png", RED)
    solid(root / "cat" / "07.jpg", RED, fmt="JPEG")
    for i in range(4):
        solid(root / "dog" / "nested" / f"{i:02d}.PNG", BLUE, size=(24, 40))
    (root / "dog" / "garbage.png").write_bytes(b"this is not an image at all")
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    noisy.save(root / "dog" / "cut.png")
    data = (root / "dog" / "cut.png").read_bytes()
    (root / "dog" / "cut.png").write_bytes(data[: len(data) // 2])  # valid header, missing half its pixels
    (root / "notes.txt").write_text("ignored")
    return root


def _options(root: Path, **extra):
    return {"root": str(root), "size": 16, "test_fraction": 0.25, **extra}


def test_class_subfolders_give_labels_and_corrupt_files_are_reported_once_and_skipped(classes):
    data = build("dataset", "image-folder", _options(classes))
    with pytest.warns(UserWarning) as record:
        info = data.info()
        test = data.split("test")
    messages = " ".join(str(w.message) for w in record)
    assert str(classes / "dog" / "garbage.png") in messages and str(classes / "dog" / "cut.png") in messages
    assert messages.count("garbage.png") == 1 and messages.count("cut.png") == 1
    assert (info.kind, info.shape, info.num_classes, info.class_names) == ("image", (3, 16, 16), 2, ("cat", "dog"))
    train = data.split("train")
    assert isinstance(train, InMemorySplit)
    # 12 readable files: 3 to test (25%), 2 cats and 1 dog by stratification; the cut file decodes in neither
    assert len(train) + len(test) == 12 and info.train_size == len(train)
    assert np.bincount(test.y.numpy()).tolist() == [2, 1]
    for split in (train, test):
        assert split.x.dtype == torch.float32 and split.x.shape[1:] == (3, 16, 16)
        expected = torch.tensor([[1.0, 0, 0], [0, 0, 1.0]])[split.y]  # cat red, dog blue
        assert torch.allclose(split.x.mean(dim=(2, 3)), expected, atol=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # listed once: a second look at the same folder warns no more
        build("dataset", "image-folder", _options(classes)).split("train")


def test_streaming_reads_files_lazily_with_the_same_split_and_values(classes):
    with pytest.warns(UserWarning):
        memory = build("dataset", "image-folder", _options(classes, in_memory=True)).split("train")
    stream = build("dataset", "image-folder", _options(classes, in_memory=False)).split("train")
    assert isinstance(stream, torch.utils.data.Dataset) and not isinstance(stream, InMemorySplit)
    names = [Path(p).name for p in stream.paths]
    assert "cut.png" not in names or len(stream) == len(memory) + 1
    readable = [i for i, n in enumerate(names) if n != "cut.png"]
    for k, i in enumerate(readable):
        x, label = stream[i]
        assert x.dtype == torch.float32 and x.shape == (3, 16, 16)
        assert label == int(memory.y[k]) and torch.allclose(x, memory.x[k])
    loader = torch.utils.data.DataLoader(stream, batch_size=4)
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 16, 16) and y.dtype == torch.int64


def test_a_file_that_fails_to_decode_while_streaming_is_reported_and_replaced(tmp_path):
    root = tmp_path / "flat"
    for i in range(9):
        solid(root / f"{i}.png", (0, 255, 0))
    noisy = Image.fromarray(np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8))
    noisy.save(root / "cut.png")
    (root / "cut.png").write_bytes((root / "cut.png").read_bytes()[:300])
    data = build("dataset", "image-folder", {"root": str(root), "size": 8, "in_memory": False, "test_fraction": 0.1})
    items = [data.split(s) for s in ("train", "test")]
    where = [(s, i) for s in items for i, p in enumerate(s.paths) if p.endswith("cut.png")]
    assert len(where) == 1
    split, i = where[0]
    with pytest.warns(UserWarning, match="cut.png"):
        x, label = split[i]
    assert label == -1 and torch.allclose(x, torch.tensor([0.0, 1.0, 0.0])[:, None, None].expand(3, 8, 8))


def test_auto_streams_a_folder_above_the_memory_limit(classes, monkeypatch):
    with pytest.warns(UserWarning):
        small = build("dataset", "image-folder", _options(classes)).split("train")
    assert isinstance(small, InMemorySplit)
    monkeypatch.setattr(folder_module, "AUTO_MEMORY_LIMIT_BYTES", 16 * 16 * 3 * 4 * 11)  # just under 12 images
    assert isinstance(build("dataset", "image-folder", _options(classes)).split("train"), folder_module.FolderStream)


def test_unlabelled_folder_grayscale_and_transparency(tmp_path):
    root = tmp_path / "flat"
    for i in range(5):
        solid(root / f"red{i}.png", RED, size=(30, 30))
    for i in range(5):
        solid(root / f"clear{i}.png", (0, 0, 0, 0), size=(30, 30), mode="RGBA")  # fully transparent
    data = build("dataset", "image-folder", {"root": str(root), "size": 8, "channels": 1, "test_fraction": 0.2})
    info = data.info()
    assert info.num_classes == 0 and info.class_names == () and info.shape == (1, 8, 8)
    train, test = data.split("train"), data.split("test")
    assert train.y is None and len(train) == 8 and len(test) == 2
    values = torch.cat([train.x, test.x]).flatten(1)
    red_gray = (255 * 19595 + 0x8000 >> 16) / 255  # ITU-R 601-2 luma of pure red, as Pillow rounds it
    expected = sorted([red_gray] * 5 + [1.0] * 5)  # transparent pixels become white
    assert torch.allclose(values.mean(1).sort().values, torch.tensor(expected), atol=1 / 255)
    assert torch.allclose(values.std(1), torch.zeros(10), atol=1e-6)


def test_split_is_deterministic_for_a_seed(classes):
    def test_files(seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            split = build("dataset", "image-folder", _options(classes, in_memory=False, seed=seed)).split("test")
        return sorted(split.paths)

    assert test_files(0) == test_files(0)
    assert any(test_files(0) != test_files(s) for s in (1, 2, 3))


def test_missing_or_empty_root_is_a_clear_error(tmp_path):
    with pytest.raises(GentoolError, match="does not exist") as err:
        build("dataset", "image-folder", {"root": str(tmp_path / "absent")}).info()
    assert str(tmp_path / "absent") in str(err.value)
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(GentoolError, match=r"found no \.png, \.jpg, \.jpeg files") as err:
        build("dataset", "image-folder", {"root": str(tmp_path / "empty")}).info()
    assert str(tmp_path / "empty") in str(err.value)
