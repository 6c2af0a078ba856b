"""Core's regularisers: the R1 penalty against hand-computed gradients, DiffAugment's transforms, the nearest-fake
pull against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch

from gentool.regularizers import AUGMENT_POLICIES, cutout, diff_augment, nearest_fake_pull, r1_penalty, translation


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


def test_nearest_fake_pull_pulls_each_real_points_nearest_fake_only():
    real = torch.tensor([[0.0, 0.0], [10.0, 0.0], [9.0, 1.0]])
    fake = torch.tensor([[1.0, 0.0], [0.0, 3.0], [-5.0, -5.0]], requires_grad=True)
    pull = nearest_fake_pull(real, fake)
    # nearest fakes: (1, 0) for all three reals; squared distances 1, 81, 64+1, over 3 reals x 2 values
    assert torch.isclose(pull, torch.tensor((1 + 81 + 65) / 6))
    pull.backward()
    assert fake.grad[1:].abs().sum() == 0  # fakes nearest to no real example are left where they are
    # d/df of sum_i |f - r_i|^2 / 6 = (3 f - sum r) / 3: towards the reals' mean
    assert torch.allclose(fake.grad[0], (3 * fake[0].detach() - real.sum(0)) / 3)


def test_nearest_fake_pull_recruits_fakes_towards_a_mode_they_left():
    torch.manual_seed(0)
    real = torch.cat([torch.randn(32, 2) * 0.1 + 4, torch.randn(32, 2) * 0.1 - 4])  # two modes
    fake = (torch.randn(64, 2) * 0.5 + 3.5).requires_grad_(True)  # every fake near the first mode
    nearest_fake_pull(real, fake).backward()
    pulled = fake.grad.abs().sum(1) > 0
    assert 0 < pulled.sum() < 64  # only fakes nearest to some real example
    lone = (fake.detach() + 4).norm(dim=1).argmin()  # the fake nearest to the left mode takes all its 32 pulls:
    assert torch.all(fake.grad[lone] > 0)  # descent moves it down and left, towards (-4, -4)...
    assert fake.grad[lone].norm() > 10 * fake.grad[pulled].norm(dim=1).median()  # ...far harder than the others


def test_nearest_fake_pull_matches_images_after_pooling():
    real = torch.zeros(1, 1, 4, 4)
    real[..., :2, :2] = 1.0  # one bright 2x2 corner
    near = torch.zeros(1, 1, 4, 4)
    near[..., 0, 0] = near[..., 1, 1] = 2.0  # the same mean in that corner, other pixels
    fake = torch.cat([near, real + 0.3])
    assert nearest_fake_pull(real, fake, pool=2) == 0  # pooled, the first fake is the same image
    assert torch.isclose(nearest_fake_pull(real, fake, pool=1), torch.tensor(0.09))  # pixel by pixel, the second
    # a pool wider than the image compares whole-image means: 0.25 for the real, 0.25 and 0.55 for the fakes
    assert nearest_fake_pull(real, fake, pool=8) == 0


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
