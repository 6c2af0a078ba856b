"""The shapes feature network on real shapes: accurate, and its features see shape, colour and placement."""

from __future__ import annotations

import pytest
import torch

from gentool.datasets.shapes import Shapes
from gentool.evaluate import Evaluator
from gentool.metrics import frechet_distance
from gentool.metrics.configs import ShapesNetConfig
from gentool.metrics.shapes_classifier import load_shapes_classifier


@pytest.fixture(scope="module")
def data():
    shapes = Shapes()
    return shapes, shapes.split("train"), shapes.split("test"), load_shapes_classifier(ShapesNetConfig())


def features(net, x):
    with torch.no_grad():
        return net(x)


def test_the_shipped_classifier_is_accurate_on_the_test_split(data):
    _, _, test, net = data
    assert (features(net, test.x)["logits"].argmax(1) == test.y).float().mean() >= 0.98


def test_fid_separates_real_shapes_from_wrong_colours_places_and_noise(data):
    _, train, test, net = data
    real = features(net, test.x)["features"]
    fid = {
        "train": frechet_distance(features(net, train.x[:1000])["features"], real),
        "grey": frechet_distance(features(net, test.x.mean(1, keepdim=True).expand(-1, 3, -1, -1))["features"], real),
        "moved": frechet_distance(features(net, torch.roll(test.x, shifts=(6, 6), dims=(2, 3)))["features"], real),
        "noise": frechet_distance(features(net, torch.rand(1000, 3, 32, 32))["features"], real),
    }
    assert fid["train"] * 5 < min(fid["grey"], fid["moved"])
    assert fid["train"] * 50 < fid["noise"]


def test_auto_picks_the_network_named_after_the_dataset(data):
    shapes, *_ = data
    assert Evaluator(torch.nn.Identity(), shapes).network_name() == "shapes"
