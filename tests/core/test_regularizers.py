"""Core's discriminator regularisers: the R1 penalty against hand-computed gradients, DiffAugment's transforms."""

from __future__ import annotations

import math

import pytest
import torch

from gentool.regularizers import AUGMENT_POLICIES, cutout, diff_augment, r1_penalty, translation


def test_r1_is_the_squared_gradient_of_a_linear_critic_and_trains_it():
    w = torch.tensor([3.0, -4.0], requires_grad=True)
    real = torch.randn(6, 2)
    penalty = r1_penalty(lambda x: x @ w, real)
    assert torch.isclose(penalty, torch.tensor(25.0))  # |w|^2 for every sample
    penalty.backward()
    assert torch.allclose(w.grad, 2 * w.detach())  # it trains the critic's weights
    assert r1_penalty(lambda x: x.sum(1) * 0 + 1, real) == 0  # a flat critic pays nothing


def test_r1_averages_per_image_gradients_of_a_quadratic_critic():
    a = torch.randn(1, 2, 3, 3)
    real = torch.randn(5, 2, 3, 3)
    penalty = r1_penalty(lambda x: (x * a).sum(dim=(1, 2, 3)) ** 2 / 2, real)
    # D(x) = (a . x)^2 / 2 has gradient (a . x) a, so |grad|^2 = (a . x)^2 |a|^2
    expected = ((real * a).sum(dim=(1, 2, 3)) ** 2 * a.square().sum()).mean()
    assert torch.allclose(penalty, expected, rtol=1e-5)


def test_translation_moves_the_image_whole_and_fills_with_background():
    torch.manual_seed(0)
    x = torch.full((64, 1, 16, 16), -1.0)
    x[:, :, 6:10, 6:10] = 1.0  # a 4x4 square, 6 px from every border: up to 2 px of shift keeps it whole
    y = translation(x)
    assert y.shape == x.shape
    assert torch.all((y == 1).sum(dim=(1, 2, 3)) == 16)  # the square is moved, not cut or blurred
    assert not torch.equal(y, x) and torch.all((y == -1) | (y == 1))


def test_cutout_blanks_one_square_to_the_background():
    torch.manual_seed(0)
    y = cutout(torch.ones(32, 1, 16, 16))
    blank = (y == -1).sum(dim=(1, 2, 3))
    assert torch.all(blank > 0) and torch.all(blank <= 64)  # one 8x8 square at most, clipped at the borders


def test_every_policy_lets_gradients_through_and_the_empty_policy_is_the_identity():
    x = torch.rand(4, 3, 8, 8, requires_grad=True)
    diff_augment(x, AUGMENT_POLICIES).sum().backward()
    assert x.grad is not None and math.isfinite(float(x.grad.abs().sum())) and x.grad.abs().sum() > 0
    assert diff_augment(x, ()) is x


def test_an_unknown_policy_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="'flip'.*color, translation, cutout"):
        diff_augment(torch.zeros(1, 1, 4, 4), ("flip",))
