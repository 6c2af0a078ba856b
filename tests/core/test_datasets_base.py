"""Shared dataset helpers, registration, the contract every built-in dataset keeps, and the promise that
`import gentool.datasets` imports no torch."""

from __future__ import annotations

import gzip
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from gentool.datasets.base import InMemorySplit, check_split, images_to_tensor, resize_center_crop, split_indices
from gentool.errors import GentoolError
from gentool.registry import build, registry

BUILTIN = {"digits", "mnist", "fashion-mnist", "image-folder", "npz", "shapes", "gaussians"}


def test_every_builtin_dataset_is_registered_with_a_summary_and_config():
    assert set(registry().names("dataset")) >= BUILTIN
    for name in BUILTIN:
        component = registry().get("dataset", name)
        assert component.summary and component.distribution == "gentool-core"
        fields = component.config_model().model_fields
        assert all(f.description for f in fields.values()), name


def test_importing_the_datasets_package_and_configs_imports_no_torch():
    code = (
        "import sys, gentool.datasets, gentool.datasets.configs\n"
        "gentool.datasets.register_builtin(lambda *a, **k: None)\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_unknown_option_fails_before_any_work():
    with pytest.raises(GentoolError, match='Unknown key "dataset.sise".*Did you mean "size"'):
        build("dataset", "image-folder", {"sise": 64}, prefix="dataset")


def test_split_indices_partition_the_items_deterministically():
    train, test = split_indices(103, 0.1, seed=5)
    assert len(test) == 10 and len(train) == 93
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(103))
    again = split_indices(103, 0.1, seed=5)
    assert np.array_equal(again[0], train) and np.array_equal(again[1], test)
    assert not np.array_equal(split_indices(103, 0.1, seed=6)[1], test)


def test_split_indices_stratify_by_label():
    labels = np.array([0] * 60 + [1] * 30 + [2] * 10)
    train, test = split_indices(100, 0.2, seed=0, labels=labels)
    # 20 test items shared 60:30:10, i.e. 12, 6 and 2
    assert np.bincount(labels[test]).tolist() == [12, 6, 2]
    assert np.bincount(labels[train]).tolist() == [48, 24, 8]


def test_split_indices_keep_at_least_one_item_on_each_side():
    train, test = split_indices(3, 0.01, seed=0)
    assert len(test) == 1 and len(train) == 2
    train, test = split_indices(3, 0.99, seed=0)
    assert len(test) == 2 and len(train) == 1


def test_images_to_tensor_makes_float_nchw_in_unit_range():
    gray = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # (1, 2, 2)
    x = images_to_tensor(gray)
    assert x.dtype == torch.float32 and x.shape == (1, 1, 2, 2)
    assert torch.allclose(x[0, 0], torch.tensor([[0.0, 1.0], [0.2, 0.4]]))
    rgb = np.zeros((2, 3, 4, 3), dtype=np.float64)
    rgb[1, :, :, 2] = 0.5
    y = images_to_tensor(rgb)
    assert y.shape == (2, 3, 3, 4) and y[1, 2].eq(0.5).all() and y[1, :2].eq(0).all()


def test_resize_center_crop_keeps_the_centre_of_a_wide_image():
    pixels = np.zeros((32, 64, 3), np.uint8)
    pixels[:, :16] = (0, 255, 0)
    pixels[:, 16:48] = (0, 0, 255)  # the central 32x32 square is blue
    pixels[:, 48:] = (255, 0, 0)
    out = np.asarray(resize_center_crop(Image.fromarray(pixels), 16))
    assert out.shape == (16, 16, 3)
    assert (out[:, 1:-1] == (0, 0, 255)).all()  # only the outermost columns may blend with the cropped bands


def test_resize_center_crop_keeps_the_middle_rows_of_a_tall_image():
    rows = np.repeat(np.arange(0, 256, 4, dtype=np.uint8)[:, None], 16, axis=1)  # 64x16, row r has value 4r
    out = np.asarray(resize_center_crop(Image.fromarray(rows), 8)).astype(int)
    assert out.shape == (8, 8)
    # the central 16 rows (24..39) hold 96..156; resizing keeps their increasing order
    assert out.min() >= 96 - 8 and out.max() <= 156 + 8
    assert (np.diff(out[:, 0]) > 0).all()


def test_in_memory_split_checks_types_and_acts_as_a_map_style_dataset():
    split = InMemorySplit(torch.rand(4, 1, 2, 2), torch.tensor([3, 1, 0, 2]))
    assert len(split) == 4
    x, label = split[1]
    assert x.shape == (1, 2, 2) and label == 1
    assert InMemorySplit(torch.rand(2, 2))[0][1] == -1
    sub = split.subset([2, 0])
    assert sub.y.tolist() == [0, 3] and torch.equal(sub.x[1], split.x[0])
    with pytest.raises(TypeError):
        InMemorySplit(torch.zeros(2, 2, dtype=torch.float64))
    with pytest.raises(TypeError):
        InMemorySplit(torch.rand(2, 2), torch.tensor([0, 1], dtype=torch.int32))


def test_unknown_split_name_is_a_clear_error():
    assert check_split("test") == "test"
    with pytest.raises(GentoolError, match='Unknown split "val". Valid splits: train, test'):
        build("dataset", "gaussians").split("val")


def _write_sources(root) -> dict[str, dict]:
    """Options for every file-based dataset, pointing at small real files written under `root`."""
    rng = np.random.default_rng(0)
    mnist = root / "mnist"
    mnist.mkdir()
    for name, shape in [("train-images-idx3-ubyte", (20, 28, 28)), ("t10k-images-idx3-ubyte", (6, 28, 28))]:
        array = rng.integers(0, 256, shape, dtype=np.uint8)
        header = bytes([0, 0, 0x08, 3]) + np.array(shape, ">u4").tobytes()
        (mnist / f"{name}.gz").write_bytes(gzip.compress(header + array.tobytes()))
        labels = rng.integers(0, 10, shape[0]).astype(np.uint8)
        label_name = name.replace("images-idx3", "labels-idx1")
        (mnist / label_name).write_bytes(
            bytes([0, 0, 0x08, 1]) + np.array([shape[0]], ">u4").tobytes() + labels.tobytes()
        )
    np.savez(root / "set.npz", images=rng.integers(0, 256, (20, 8, 8, 3), dtype=np.uint8), labels=np.arange(20) % 4)
    for k in range(12):
        folder = root / "images" / ("a" if k % 2 else "b")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)).save(folder / f"{k}.png")
    return {
        "mnist": {"root": str(mnist)},
        "fashion-mnist": {"root": str(mnist)},
        "npz": {"root": str(root / "set.npz")},
        "image-folder": {"root": str(root / "images"), "size": 8},
        "image-folder-streamed": {"root": str(root / "images"), "size": 8, "in_memory": False},
        "shapes": {"count": 60},
        "gaussians": {"count": 80},
        "digits": {},
    }


@pytest.mark.parametrize(
    "case", ["digits", "mnist", "fashion-mnist", "npz", "image-folder", "image-folder-streamed", "shapes", "gaussians"]
)
def test_every_dataset_keeps_the_dataset_contract(tmp_path, case):
    options = _write_sources(tmp_path)[case]
    data = build("dataset", case.replace("-streamed", ""), options, prefix="dataset")
    info = data.info()
    assert info.kind in ("image", "points") and info.name == case.replace("-streamed", "")
    assert len(info.class_names) == info.num_classes
    assert info.train_size == len(data.split("train")) > 0
    for name in ("train", "test"):
        split = data.split(name)
        assert len(split) > 0
        items = [split[i] for i in range(min(len(split), 8))]
        for x, label in items:
            assert x.dtype == torch.float32 and tuple(x.shape) == info.shape
            if info.kind == "image":
                assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
            assert isinstance(label, int)
            assert (0 <= label < info.num_classes) if info.labelled else label == -1
        if isinstance(split, InMemorySplit):
            assert (split.y is not None) == info.labelled
        else:
            assert isinstance(split, torch.utils.data.Dataset)
