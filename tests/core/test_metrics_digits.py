"""Sanity of the digits feature network on real digits: orderings a user of FID, KID, IS and precision would expect."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gentool.datasets.digits import Digits
from gentool.metrics import frechet_distance
from gentool.metrics.configs import DigitsNetConfig
from gentool.metrics.digits_classifier import load_digits_classifier
from gentool.metrics.inception_score import inception_score
from gentool.metrics.kid import kernel_inception_distance
from gentool.metrics.precision_recall import precision_recall


def blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = int(3 * sigma)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = (k[:, None] * k[None]) / k.sum() ** 2
    return F.conv2d(x, k[None, None], padding=radius)


@pytest.fixture(scope="module")
def outputs():
    """Network outputs for the test split, 1,000 random train digits, 1,000 noise images and blurred train digits."""
    data, net = Digits(), load_digits_classifier(DigitsNetConfig())
    train = data.split("train").x[torch.randperm(4000, generator=torch.Generator().manual_seed(0))[:1000]]
    images = {"test": data.split("test").x, "train": train,
              "noise": torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(1)),
              "blur1": blur(train, 1.0), "blur2": blur(train, 2.0)}
    with torch.no_grad():
        result = {name: net(x) for name, x in images.items()}
    return result, data.split("test").y


def test_the_shipped_classifier_is_accurate_on_the_test_split(outputs):
    out, labels = outputs
    assert (out["test"]["logits"].argmax(1) == labels).float().mean() >= 0.98


def test_fid_of_real_digits_is_far_below_noise_and_rises_with_blur(outputs):
    out, _ = outputs
    fid = {name: frechet_distance(out[name]["features"], out["test"]["features"]) for name in out}
    assert fid["test"] == pytest.approx(0.0, abs=1e-6)
    assert fid["train"] * 100 < fid["noise"]
    assert fid["train"] < fid["blur1"] < fid["blur2"]


def test_kid_and_precision_of_real_digits_against_noise(outputs):
    out, _ = outputs
    real_kid, _, _ = kernel_inception_distance(out["test"]["features"], out["train"]["features"])
    noise_kid, _, _ = kernel_inception_distance(out["test"]["features"], out["noise"]["features"])
    assert abs(real_kid) * 100 < noise_kid
    precision, recall = precision_recall(out["test"]["features"], out["train"]["features"])
    assert precision > 0.75 and recall > 0.75
    assert precision_recall(out["test"]["features"], out["noise"]["features"])[0] < 0.05


def test_inception_score_of_real_test_digits_is_near_ten(outputs):
    out, _ = outputs
    score, _ = inception_score(out["test"]["logits"], splits=10)
    assert 9.0 < score <= 10.0
    assert inception_score(out["noise"]["logits"], splits=10)[0] < score / 2


def test_a_users_own_weights_load_and_a_missing_or_foreign_file_is_refused_by_name(tmp_path):
    from safetensors.torch import load_file, save_file

    from gentool.errors import GentoolError
    from gentool.metrics.digits_classifier import WEIGHTS
    from gentool.metrics.shapes_classifier import WEIGHTS as SHAPES_WEIGHTS

    state = load_file(str(WEIGHTS))
    state["head.bias"] = state["head.bias"] + 100 * F.one_hot(torch.tensor(3), 10).to(state["head.bias"].dtype)
    own = tmp_path / "own.safetensors"
    save_file(state, str(own))
    net = load_digits_classifier(DigitsNetConfig(weights=str(own)))
    with torch.no_grad():  # these weights, not the shipped ones: a head that always says 3
        assert torch.equal(net(Digits().split("test").x[:50])["logits"].argmax(1), torch.full((50,), 3))
    with pytest.raises(GentoolError, match=r'weights file ".*nope.safetensors" \(option `weights`\) does not exist'):
        load_digits_classifier(DigitsNetConfig(weights=str(tmp_path / "nope.safetensors")))
    with pytest.raises(GentoolError, match=r'shapes_classifier.safetensors" does not hold digits classifier weights'):
        load_digits_classifier(DigitsNetConfig(weights=str(SHAPES_WEIGHTS)))
    text = tmp_path / "notes.safetensors"
    text.write_text("not a weights file")
    with pytest.raises(GentoolError, match="does not hold digits classifier weights"):
        load_digits_classifier(DigitsNetConfig(weights=str(text)))
