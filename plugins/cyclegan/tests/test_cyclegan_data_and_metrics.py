"""The demo data (digits-m, digits-m-pair), its feature network and the translation metrics against hand values."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import gentool.api as api
from gentool_cyclegan.config import CycleGANConfig
from gentool_cyclegan.maths import to_channels
from gentool_cyclegan.model import CycleGAN
from gentool_cyclegan.textures import blend, random_crops, texture


def test_blend_inverts_the_crop_under_the_strokes_as_mnist_m_does():
    digits = np.array([[[0.0, 1.0], [0.5, 0.0]]])
    crops = np.array([[[[0.2, 0.4, 0.9], [0.2, 0.4, 0.9]], [[0.2, 0.4, 0.9], [1.0, 0.0, 0.5]]]])
    out = blend(digits, crops)
    assert out.shape == (1, 3, 2, 2)
    assert np.allclose(out[0, :, 0, 0], [0.2, 0.4, 0.9])  # background: the crop itself
    assert np.allclose(out[0, :, 0, 1], [0.8, 0.6, 0.1])  # full stroke: 1 - crop
    assert np.allclose(out[0, :, 1, 0], [0.3, 0.1, 0.4])  # half stroke: |crop - 0.5|


def test_textures_are_seeded_coloured_and_cropped_inside():
    a, b = texture(1, 64), texture(1, 64)
    assert np.array_equal(a, b) and not np.array_equal(a, texture(2, 64))
    assert a.shape == (64, 64, 3) and a.min() >= 0 and a.max() <= 1
    assert np.abs(a[..., 0] - a[..., 1]).mean() > 0.02  # colour, not grey
    crops = random_crops(np.random.default_rng(0), np.stack([a, texture(3, 64)]), 5, 28)
    assert crops.shape == (5, 28, 28, 3)


def test_digits_m_holds_core_digits_on_textures_with_their_labels():
    data = api.build("dataset", "digits-m", {"textures": 5})
    digits = api.build("dataset", "digits").split("test")
    test = data.split("test")
    assert test.x.shape == (1000, 3, 28, 28) and torch.equal(test.y, digits.y)
    info = data.info()
    assert info.shape == (3, 28, 28) and info.num_classes == 10 and info.features == "digits-m"
    again = api.build("dataset", "digits-m", {"textures": 5}).split("test")
    assert torch.equal(test.x, again.x)
    # where a digit has a full stroke, the pixel is 1 - background; its luma then differs from the digit-free crops
    stroke = digits.x[:, 0] > 0.99
    assert stroke.any()


def test_the_pair_trains_on_disjoint_digits_and_tests_on_all():
    pair = api.build("dataset", "digits-m-pair", {"textures": 5})
    info = pair.info()
    assert [d.shape for d in info.domains] == [(1, 28, 28), (3, 28, 28)]
    assert [d.features for d in info.domains] == ["digits", "digits-m"]
    train, test = pair.split("train"), pair.split("test")
    digits = api.build("dataset", "digits").split("train")
    a, b = train.domains
    assert len(a) == len(b) == 2000
    assert torch.equal(a.x, digits.x[0::2])  # even-numbered digits in A, odd-numbered under B's textures
    assert torch.equal(b.y, digits.y[1::2])
    assert [len(d) for d in test.domains] == [1000, 1000]


def test_the_shipped_digits_m_classifier_reads_digits_m():
    net = api.build("features", "digits-m", {})
    test = api.build("dataset", "digits-m").split("test")
    with torch.no_grad():
        out = net(test.x)
    assert out["features"].shape == (1000, 128) and out["logits"].shape == (1000, 10)
    assert (out["logits"].argmax(1) == test.y).double().mean() > 0.95


class ChannelSwap(nn.Module):
    """A translation "model" that only converts channels: grey <-> RGB (its round trip of a grey image is exact)."""

    directions = ("a2b", "b2a")

    def __init__(self, info):
        super().__init__()
        self.info = info
        self.anchor = nn.Parameter(torch.zeros(()))

    def translate(self, x, direction):
        return to_channels(x, 3 if direction == "a2b" else 1)


def test_metrics_on_a_channel_swap_equal_the_untranslated_figures():
    dataset = api.build("dataset", "digits-m-pair", {"textures": 5})
    model = ChannelSwap(dataset.info())
    results = api.evaluate(model, dataset, [("translation-fid", {}), ("class-preservation", {}), ("cycle", {})])
    fid, cls, cyc = results["translation-fid"], results["class-preservation"], results["cycle"]
    for d in ("a2b", "b2a"):
        assert fid[d] == pytest.approx(fid[f"{d}_untranslated"]) and fid[f"{d}_ratio"] == pytest.approx(1.0)
        assert cls[d] == pytest.approx(cls[f"{d}_untranslated"])
    assert cyc["a2b"] == pytest.approx(0.0, abs=1e-6)  # grey -> RGB -> grey is exact
    assert cyc["b2a"] > 0.05  # RGB -> grey loses the colour
    assert cls["b2a"] < 0.5 and fid["a2b"] > 10  # untranslated, each domain is hard to read for the other's judge


def test_translation_metrics_translate_with_the_runs_sample_options():
    dataset = api.build("dataset", "digits-m-pair", {"textures": 5})
    torch.manual_seed(0)
    model = CycleGAN(CycleGANConfig(width=8, blocks=1, disc_width=8), dataset.info()).eval().requires_grad_(False)
    plain = api.evaluate(model, dataset, [("cycle", {})])["cycle"]
    views = api.evaluate(model, dataset, [("cycle", {})],
                         sample_options={"channel_orders": True, "view_directions": ["b2a"]})["cycle"]
    assert views["b2a"] != pytest.approx(plain["b2a"], abs=1e-5)  # b -> a takes the median over channel orders
    assert views["a2b"] != pytest.approx(plain["a2b"], abs=1e-5)  # a -> b -> a comes back through it too


def test_translation_metrics_do_not_apply_to_a_sampling_model():
    dataset = api.build("dataset", "digits")
    info = dataset.info()

    class Noise(nn.Module):
        conditional = False

        def __init__(self):
            super().__init__()
            self.info = info

        def sample(self, n, labels=None, generator=None):
            return torch.rand(n, *info.shape, generator=generator)

    results = api.evaluate(Noise(), dataset, [("cycle", {})], samples=10)
    assert results["cycle"]["error"].startswith("not applicable")
