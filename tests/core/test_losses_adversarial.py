"""Core's adversarial losses, checked against hand-computed values on critics whose scores are known exactly."""

from __future__ import annotations

import math

import pytest
import torch

from gentool.errors import GentoolError
from gentool.losses.adversarial import (
    ForwardKL,
    Hinge,
    LeastSquares,
    NonSaturating,
    WassersteinGP,
    WassersteinGPConfig,
    batch_independent_critic,
    gradient_penalty,
)
from gentool.registry import build

# Data are 1-D points (N, 1); the identity critic scores each point by its value, so the logits are the data.
REAL = torch.tensor([[0.0], [2.0]])
FAKE = torch.tensor([[-1.0], [1.0]])


def identity(x: torch.Tensor) -> torch.Tensor:
    return x[:, 0]


def softplus(v: float) -> float:
    return math.log1p(math.exp(v))


def test_non_saturating_is_the_log_loss():
    d = NonSaturating(None).discriminator(identity, REAL, FAKE)
    # -log sigmoid(r) = softplus(-r) on real; -log(1 - sigmoid(f)) = softplus(f) on fake
    by_hand = (softplus(-0.0) + softplus(-2.0)) / 2 + (softplus(-1.0) + softplus(1.0)) / 2
    assert float(d) == pytest.approx(by_hand, rel=1e-6)
    g = NonSaturating(None).generator(torch.tensor([-1.0, 1.0]))
    assert float(g) == pytest.approx((-math.log(1 / (1 + math.e)) - math.log(1 / (1 + math.exp(-1)))) / 2, rel=1e-6)


def test_non_saturating_stays_finite_for_huge_logits():
    loss = NonSaturating(None)
    assert float(loss.discriminator(identity, torch.tensor([[1e4]]), torch.tensor([[-1e4]]))) == pytest.approx(0.0, abs=1e-6)
    assert float(loss.discriminator(identity, torch.tensor([[-1e4]]), torch.tensor([[1e4]]))) == pytest.approx(2e4)
    logits = torch.tensor([-1e4], requires_grad=True)
    g = loss.generator(logits)
    g.backward()
    assert float(g.detach()) == pytest.approx(1e4) and float(logits.grad) == pytest.approx(-1.0)  # the gradient does not vanish


def test_hinge_values():
    d = Hinge(None).discriminator(identity, REAL, FAKE)
    # real: relu(1 - 0) = 1, relu(1 - 2) = 0; fake: relu(1 - 1) = 0, relu(1 + 1) = 2
    assert float(d) == pytest.approx(0.5 + 1.0)
    assert float(Hinge(None).generator(torch.tensor([-1.0, 3.0]))) == pytest.approx(-1.0)


def test_least_squares_values():
    d = LeastSquares(None).discriminator(identity, REAL, FAKE)
    # real: ((0-1)^2 + (2-1)^2)/2 / 2 = 0.5; fake: ((-1)^2 + 1^2)/2 / 2 = 0.5
    assert float(d) == pytest.approx(1.0)
    assert float(LeastSquares(None).generator(torch.tensor([-1.0, 1.0]))) == pytest.approx(0.5 * (4 + 0) / 2)


def test_wasserstein_gp_on_a_linear_critic():
    # critic(x) = w . x has gradient w everywhere, so the penalty is (|w| - 1)^2 = 16 wherever it is taken
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    real = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    fake = torch.tensor([[0.0, 1.0], [1.0, 1.0]])

    def critic(x):
        return x @ w

    loss = WassersteinGP(WassersteinGPConfig(gp_weight=10.0)).discriminator(critic, real, fake)
    wasserstein = (4.0 + 7.0) / 2 - (3.0 + 8.0) / 2
    assert float(loss.detach()) == pytest.approx(wasserstein + 10.0 * 16.0)
    loss.backward()
    # d/dw: mean(fake) - mean(real) + 10 * 2 (|w| - 1) w / |w|
    expected = (fake.mean(0) - real.mean(0)) + 10.0 * 2 * 4.0 * torch.tensor([3.0, 4.0]) / 5.0
    assert w.grad.tolist() == pytest.approx(expected.tolist(), rel=1e-5)


def test_gradient_penalty_is_taken_at_the_inputs():
    # critic(x) = |x|^2 has gradient 2x; with real == fake every interpolate is that point
    x = torch.tensor([[0.5, 0.0], [1.5, 0.0]])
    penalty = gradient_penalty(lambda v: v.square().sum(1), x, x.clone())
    assert float(penalty.detach()) == pytest.approx(((2 * 0.5 - 1) ** 2 + (2 * 1.5 - 1) ** 2) / 2)


def test_wasserstein_generator_and_drift():
    assert float(WassersteinGP(None).generator(torch.tensor([1.0, 2.0]))) == pytest.approx(-1.5)
    loss = WassersteinGP(WassersteinGPConfig(gp_weight=0.0, drift=0.5)).discriminator(identity, REAL, FAKE)
    assert float(loss) == pytest.approx((0.0 - 1.0) + 0.5 * (0.0 + 4.0) / 2)


@pytest.mark.parametrize("cls", [NonSaturating, Hinge, LeastSquares, WassersteinGP, ForwardKL])
def test_discriminator_loss_sends_no_gradient_to_the_generator(cls):
    fake = FAKE.clone().requires_grad_(True)
    weight = torch.tensor(0.3, requires_grad=True)
    cls(None).discriminator(lambda x: weight * x[:, 0], REAL, fake).backward()
    assert fake.grad is None and weight.grad is not None and float(weight.grad) != 0.0


@pytest.mark.parametrize("cls", [NonSaturating, Hinge, LeastSquares, WassersteinGP, ForwardKL])
def test_a_batch_independent_critic_scores_real_and_fake_in_one_call(cls):
    torch.manual_seed(0)
    patch_critic = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, 2), torch.nn.GroupNorm(4, 4), torch.nn.Conv2d(4, 1, 3))
    calls: list[int] = []

    def critic(x: torch.Tensor) -> torch.Tensor:  # 3x3 patches of logits per image, flattened
        calls.append(len(x))
        return patch_critic(x).reshape(-1)

    n_fake = 5 if cls is WassersteinGP else 3  # the gradient penalty pairs reals with fakes
    real, fake = torch.randn(5, 3, 11, 11), torch.randn(n_fake, 3, 11, 11)
    torch.manual_seed(1)  # the same interpolates for the gradient penalty on both sides
    apart = cls(None).discriminator(critic, real, fake)
    calls_apart, calls[:] = list(calls), []
    torch.manual_seed(1)
    together = cls(None).discriminator(batch_independent_critic(critic), real, fake)
    assert together.item() == pytest.approx(apart.item(), rel=1e-5)
    assert calls_apart[:2] == [5, n_fake] and calls[0] == 5 + n_fake and len(calls) == len(calls_apart) - 1


def test_losses_are_registered_and_options_checked():
    for name, cls in [("nonsaturating", NonSaturating), ("hinge", Hinge), ("lsgan", LeastSquares), ("wasserstein-gp", WassersteinGP), ("forward-kl", ForwardKL)]:
        loss = build("loss", name, {})
        assert isinstance(loss, cls) and loss.role == "adversarial"
    assert build("loss", "wasserstein-gp", {"gp_weight": 5.0}).config.gp_weight == 5.0
    with pytest.raises(GentoolError, match="model.loss_options.gp_wieght"):
        build("loss", "wasserstein-gp", {"gp_wieght": 5.0}, prefix="model.loss_options")


def test_forward_kl_weights_each_fake_by_the_density_ratio():
    # logits 0 and log 3: density ratios 1 and 3, weights normalised to mean 1 are 0.5 and 1.5
    logits = torch.tensor([0.0, math.log(3.0)], requires_grad=True)
    loss = build("loss", "forward-kl", {})
    g = loss.generator(logits)
    assert float(g.detach()) == pytest.approx(-(0.5 * 0.0 + 1.5 * math.log(3.0)) / 2, rel=1e-6)
    g.backward()
    assert logits.grad.tolist() == pytest.approx([-0.25, -0.75], rel=1e-6)
    # the non-saturating loss does the opposite: the fake D finds less real moves more
    ns_logits = torch.tensor([0.0, math.log(3.0)], requires_grad=True)
    NonSaturating(None).generator(ns_logits).backward()
    assert ns_logits.grad.tolist() == pytest.approx([-0.25, -0.125], rel=1e-6)


def test_forward_kl_power_zero_is_the_reverse_kl_and_large_logits_stay_finite():
    logits = torch.tensor([-2.0, 1.0, 5.0], requires_grad=True)
    build("loss", "forward-kl", {"power": 0.0}).generator(logits).backward()
    assert logits.grad.tolist() == pytest.approx([-1 / 3] * 3)
    huge = torch.tensor([1e4, 0.0, -1e4], requires_grad=True)
    g = build("loss", "forward-kl", {}).generator(huge)
    g.backward()
    assert torch.isfinite(g) and huge.grad.tolist() == pytest.approx([-1.0, 0.0, 0.0])
    d = build("loss", "forward-kl", {}).discriminator(identity, REAL, FAKE)
    assert float(d) == pytest.approx(float(NonSaturating(None).discriminator(identity, REAL, FAKE)))
    with pytest.raises(GentoolError, match="power"):
        build("loss", "forward-kl", {"power": -1.0}, prefix="model.loss_options")
