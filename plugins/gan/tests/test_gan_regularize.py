"""The `gan` model's discriminator regularisers: the R1 penalty's value, DiffAugment's transforms, both in training."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gentool.api import DataInfo, GentoolError, train
from gentool_gan.config import GANConfig
from gentool_gan.model import GAN
from gentool_gan.regularize import cutout, diff_augment, r1_penalty, translation

FAST = {"log_every": 1, "sample_every": 1000, "checkpoint_every": 1000, "grid_size": 16}


def test_r1_is_the_squared_gradient_of_the_critic_at_the_reals():
    w = torch.tensor([3.0, -4.0], requires_grad=True)
    real = torch.randn(6, 2)
    penalty = r1_penalty(lambda x: x @ w, real)
    assert torch.isclose(penalty, torch.tensor(25.0))  # |w|^2 for every sample
    penalty.backward()
    assert torch.allclose(w.grad, 2 * w.detach())  # it trains the critic's weights
    assert r1_penalty(lambda x: x.sum(1) * 0 + 1, real) == 0  # a flat critic pays nothing


def test_translation_shifts_the_image_and_fills_with_background():
    torch.manual_seed(0)
    x = torch.full((64, 1, 16, 16), -1.0)
    x[:, :, 6:10, 6:10] = 1.0  # a 4x4 square, 6 px from every border: up to 2 px of shift keeps it whole
    y = translation(x)
    assert y.shape == x.shape
    assert torch.all((y == 1).sum(dim=(1, 2, 3)) == 16)  # the square is moved, not cut or blurred
    assert not torch.equal(y, x) and torch.all((y == -1) | (y == 1))


def test_cutout_blanks_a_square_to_the_background():
    torch.manual_seed(0)
    x = torch.ones(32, 1, 16, 16)
    y = cutout(x)
    blank = (y == -1).sum(dim=(1, 2, 3))
    assert torch.all(blank > 0) and torch.all(blank <= 64)  # one 8x8 square at most, clipped at the borders


def test_augmentation_lets_gradients_through_and_the_empty_policy_is_the_identity():
    x = torch.rand(4, 1, 8, 8, requires_grad=True)
    diff_augment(x, ("translation", "cutout")).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert diff_augment(x, ()) is x


@pytest.mark.parametrize("dataset, model", [
    ({"name": "digits"}, {"augment": ["translation", "cutout"], "r1_gamma": 1.0, "r1_every": 2}),
    ({"name": "gaussians", "count": 200}, {"r1_gamma": 0.1}),
])
def test_regularised_runs_train(tmp_path, dataset, model):
    raw = {"model": {"name": "gan", "batch_size": 8, "width": 8, "mlp_width": 16, **model}, "dataset": dataset,
           "steps": 2, "out": str(tmp_path / "run"), "trainer": FAST}
    run = train(raw)
    records = [json.loads(line) for line in (run.dir / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["d_loss"]) for r in records)


def test_augmenting_points_is_refused_by_name():
    with pytest.raises(GentoolError, match=r"augment=\['translation'\].*points"):
        GAN(GANConfig(augment=["translation"]), DataInfo("points", (2,)))


def test_an_unknown_policy_is_refused_with_the_choices():
    with pytest.raises(Exception, match="translation.*cutout"):
        GANConfig(augment=["flip"])
