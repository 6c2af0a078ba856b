"""The generated datasets: `shapes` (labelled coloured shapes) and `gaussians` (2-D mixtures with known modes)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from gentool.datasets.shapes import CLASS_NAMES
from gentool.registry import build


def _classify(image: np.ndarray) -> str:
    """A hand-made shape classifier from the foreground's bounding box (the corner pixel is background)."""
    fg = np.any(image != image[0, 0], axis=-1)
    rows, cols = np.flatnonzero(fg.any(1)), np.flatnonzero(fg.any(0))
    box = fg[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = box.shape
    quarter = max(1, h // 4)
    widths = box.sum(1)
    if not box[(h - 1) // 2 : (h + 2) // 2, (w - 1) // 2 : (w + 2) // 2].any():
        return "ring"  # hollow centre
    if box.mean() > 0.9:
        return "square"  # fills its box
    if widths[:quarter].mean() < 0.5 * widths[-quarter:].mean():
        return "triangle"  # narrow top, wide base
    if box.mean() > 0.7:
        return "circle"  # pi/4 of its box
    a, b = h // 3, w // 3
    corners = np.concatenate([box[:a, :b].ravel(), box[:a, -b:].ravel(), box[-a:, :b].ravel(), box[-a:, -b:].ravel()])
    return "diamond" if corners.mean() > 0.05 else "cross"  # a cross leaves its box's corners empty


def test_shapes_are_labelled_by_shape():
    data = build("dataset", "shapes", {"count": 600, "seed": 3})
    info = data.info()
    assert (info.kind, info.shape, info.num_classes) == ("image", (3, 32, 32), 6)
    assert info.class_names == CLASS_NAMES and len(CLASS_NAMES) >= 4
    split = data.split("train")
    images = (split.x.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    predicted = np.array([CLASS_NAMES.index(_classify(im)) for im in images])
    for k, name in enumerate(CLASS_NAMES):
        members = split.y.numpy() == k
        assert (predicted[members] == k).mean() >= 0.85, name


def test_shapes_have_two_contrasting_colours_and_balanced_classes():
    data = build("dataset", "shapes", {"count": 600, "test_fraction": 0.1})
    train, test = data.split("train"), data.split("test")
    assert len(train) == 540 and len(test) == 60
    assert np.bincount(torch.cat([train.y, test.y]).numpy()).tolist() == [100] * 6
    assert np.bincount(test.y.numpy()).tolist() == [10] * 6
    x = train.x
    assert x.dtype == torch.float32 and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    for image in x[:50]:
        colours = torch.unique(image.flatten(1).T, dim=0)
        assert len(colours) == 2  # one shape colour, one background
        assert (colours[0] - colours[1]).abs().mean() >= 0.35 - 1 / 255


def test_shapes_are_deterministic_for_a_seed_and_fast():
    start = time.perf_counter()
    first = build("dataset", "shapes", {"count": 5000, "seed": 7}).split("train")
    elapsed = time.perf_counter() - start
    again = build("dataset", "shapes", {"count": 5000, "seed": 7}).split("train")
    other = build("dataset", "shapes", {"count": 5000, "seed": 8}).split("train")
    assert torch.equal(first.x, again.x) and torch.equal(first.y, again.y)
    assert not torch.equal(first.x, other.x)
    assert elapsed < 5.0  # vectorised: about 0.3 s on one core


def test_shapes_size_option():
    data = build("dataset", "shapes", {"count": 60, "size": 16})
    assert data.info().shape == (3, 16, 16) and data.split("test").x.shape[1:] == (3, 16, 16)


def test_ring_of_eight_gaussians():
    data = build("dataset", "gaussians", {"count": 8000})
    centres = data.mode_centers()
    angles = [2 * math.pi * k / 8 for k in range(8)]
    expected = torch.tensor([[2 * math.cos(a), 2 * math.sin(a)] for a in angles], dtype=torch.float32)
    assert centres.shape == (8, 2) and torch.allclose(centres, expected, atol=1e-6)
    assert data.mode_std == 0.02
    info = data.info()
    assert (info.kind, info.shape, info.num_classes, info.train_size) == ("points", (2,), 8, 7200)
    _check_points(data, centres, 0.02)


def test_grid_of_twenty_five_gaussians():
    data = build("dataset", "gaussians", {"layout": "grid", "count": 5000, "std": 0.05})
    centres = data.mode_centers()
    assert centres.shape == (25, 2) and data.mode_std == 0.05
    assert sorted(map(tuple, centres.tolist())) == [
        (float(a), float(b)) for a in range(-4, 5, 2) for b in range(-4, 5, 2)
    ]
    assert data.info().num_classes == 25
    _check_points(data, centres, 0.05)


def _check_points(data, centres: torch.Tensor, std: float) -> None:
    train, test = data.split("train"), data.split("test")
    points, labels = torch.cat([train.x, test.x]), torch.cat([train.y, test.y])
    assert points.dtype == torch.float32 and points.shape[1] == 2 and labels.dtype == torch.int64
    k = len(centres)
    assert np.bincount(labels.numpy(), minlength=k).tolist() == [len(points) // k] * k
    nearest = torch.cdist(points, centres).argmin(dim=1)
    assert torch.equal(nearest, labels)  # every point belongs to the mode it is labelled with
    spread = (points - centres[labels]).std(dim=0)
    assert torch.allclose(spread, torch.full((2,), std), rtol=0.05)


def test_gaussians_are_deterministic_for_a_seed():
    a = build("dataset", "gaussians", {"seed": 1}).split("train")
    b = build("dataset", "gaussians", {"seed": 1}).split("train")
    c = build("dataset", "gaussians", {"seed": 2}).split("train")
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and not torch.equal(a.x, c.x)


@pytest.mark.parametrize("name", ["shapes", "gaussians"])
def test_train_and_test_do_not_share_items(name):
    data = build("dataset", name, {"count": 300})
    train = {tuple(row) for row in data.split("train").x.flatten(1).tolist()}
    test = {tuple(row) for row in data.split("test").x.flatten(1).tolist()}
    assert len(train) + len(test) == 300 and not train & test
