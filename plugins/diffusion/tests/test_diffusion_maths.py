"""The maths of both models against closed forms: flow-matching targets and integrators, the DDPM schedule and
forward process, the reverse steps, classifier-free guidance, and the U-Net's shapes."""

from __future__ import annotations

import math

import pytest
import torch

from gentool_diffusion import denoising, flow_matching
from gentool_diffusion.guidance import drop_labels, guided
from gentool_diffusion.unet import UNet

# --- flow matching --------------------------------------------------------------------------------------------------


def test_flow_target_is_the_velocity_of_the_straight_path():
    g = torch.Generator().manual_seed(0)
    noise, data, t = torch.randn(6, 1, 4, 4, generator=g), torch.rand(6, 1, 4, 4, generator=g), torch.rand(6, generator=g)
    x_t, target = flow_matching.training_pair(noise, data, t)
    tc = t[:, None, None, None]
    torch.testing.assert_close(x_t, (1 - tc) * noise + tc * data)
    # for one data point the marginal velocity field is (x1 - x) / (1 - t): every sample's target equals it
    torch.testing.assert_close(target, (data - x_t) / (1 - tc))
    assert torch.equal(flow_matching.training_pair(noise, data, torch.zeros(6))[0], noise)
    assert torch.equal(flow_matching.training_pair(noise, data, torch.ones(6))[0], data)


def test_flow_target_regressed_on_x_t_is_the_closed_form_field_of_gaussian_data():
    # x0 ~ N(0, 1), x1 ~ N(mu, s^2): E[x1 - x0 | x_t] = mu + a (x_t - t mu), a = (t s^2 - (1 - t)) / var(x_t)
    g = torch.Generator().manual_seed(1)
    mu, s, n = 2.0, 0.5, 400_000
    for t in (0.2, 0.5, 0.8):
        x_t, target = flow_matching.training_pair(
            torch.randn(n, 1, generator=g, dtype=torch.float64), mu + s * torch.randn(n, 1, generator=g, dtype=torch.float64),
            torch.full((n,), t, dtype=torch.float64),
        )
        a = (t * s**2 - (1 - t)) / ((1 - t) ** 2 + t**2 * s**2)
        slope = torch.cov(torch.cat([x_t, target], 1).T)[0, 1] / x_t.var()
        assert float(slope) == pytest.approx(a, abs=0.01)
        assert float(target.mean() - slope * x_t.mean()) == pytest.approx(mu - a * t * mu, abs=0.01)


@pytest.mark.parametrize("sampler", ["euler", "heun"])
@pytest.mark.parametrize("steps", [1, 3, 17])
def test_integrators_reach_the_exact_endpoint_of_a_linear_field(sampler, steps):
    # v(x, t) = (mu - x) / (1 - t) carries every x0 along a straight line to mu at t = 1
    mu = torch.tensor([[1.5, -2.0, 0.25]], dtype=torch.float64)
    calls = []

    def velocity(x, t):
        calls.append(1)
        assert t.shape == (len(x),)
        return (mu - x) / (1 - t[:, None]).clamp_min(1e-12)

    x0 = torch.randn(5, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    out = flow_matching.INTEGRATORS[sampler](velocity, x0, steps)
    torch.testing.assert_close(out, mu.expand(5, 3), rtol=0, atol=1e-9)
    assert len(calls) == flow_matching.evaluations(sampler, steps)


def test_heun_is_second_order_on_a_curved_field():
    # dx/dt = x has the solution x0 e^t: halving the step cuts Euler's error about 2x and Heun's about 4x (its last
    # Euler step adds an error of order h^2 too)
    def error(sampler, steps):
        out = flow_matching.INTEGRATORS[sampler](lambda x, t: x, torch.ones(1, dtype=torch.float64), steps)
        return abs(float(out) - math.e)

    assert error("euler", 10) / error("euler", 20) == pytest.approx(2, rel=0.1)
    assert error("heun", 10) / error("heun", 20) == pytest.approx(4, rel=0.1)


def test_training_times_lie_in_the_unit_interval():
    g = torch.Generator().manual_seed(3)
    for kind in ("uniform", "logit-normal"):
        t = flow_matching.sample_times(10_000, kind, generator=g)
        assert float(t.min()) >= 0 and float(t.max()) <= 1 and abs(float(t.mean()) - 0.5) < 0.02
    assert flow_matching.sample_times(10_000, "logit-normal", generator=g).std() < 0.25  # bunched mid-path
    with pytest.raises(ValueError, match="uniform, logit-normal"):
        flow_matching.sample_times(3, "beta")


# --- DDPM -----------------------------------------------------------------------------------------------------------


def test_cosine_schedule_matches_its_formula_and_the_markov_chain():
    T = 1000
    betas = denoising.cosine_betas(T)
    ab = denoising.alpha_bars(betas)
    k = torch.arange(T, dtype=torch.float64)
    f = lambda t: torch.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    torch.testing.assert_close(ab[:-5], (f(k + 1) / f(torch.zeros(1)))[:-5])  # the clip only bites at the very end
    assert bool((ab[1:] < ab[:-1]).all()) and ab[0] > 0.9999 and ab[-1] < 1e-6
    # the chain x_k = sqrt(1 - beta_k) x_{k-1} + sqrt(beta_k) eps, run from x_0 = m, has mean sqrt(ab) m, var 1 - ab
    mean, var = torch.tensor(0.7, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64)
    for i, beta in enumerate(betas):
        mean, var = (1 - beta).sqrt() * mean, (1 - beta) * var + beta
        if i in (0, 250, 999):
            torch.testing.assert_close(mean, ab[i].sqrt() * 0.7)
            torch.testing.assert_close(var, 1 - ab[i])


def test_forward_marginal_has_the_schedules_mean_and_variance():
    ab_all = denoising.alpha_bars(denoising.cosine_betas(1000))
    g = torch.Generator().manual_seed(4)
    x0 = torch.tensor([[-1.0, 0.0, 0.5, 1.0]], dtype=torch.float64).expand(200_000, 4)
    for k in (10, 500, 900):
        ab = ab_all[k].expand(len(x0))
        x = denoising.q_sample(x0, ab, torch.randn(x0.shape, generator=g, dtype=torch.float64))
        torch.testing.assert_close(x.mean(0), ab_all[k].sqrt() * x0[0], atol=0.01, rtol=0)
        torch.testing.assert_close(x.var(0), (1 - ab_all[k]).expand(4), atol=0.01, rtol=0)


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_an_exact_prediction_recovers_the_clean_image_and_the_noise(prediction):
    g = torch.Generator().manual_seed(5)
    x0, noise = torch.rand(8, 1, 3, 3, generator=g, dtype=torch.float64) * 2 - 1, torch.randn(8, 1, 3, 3, generator=g, dtype=torch.float64)
    ab = torch.linspace(0.01, 0.99, 8, dtype=torch.float64)
    x_t = denoising.q_sample(x0, ab, noise)
    got_x0, got_eps = denoising.split(x_t, denoising.target(x0, noise, ab, prediction), ab, prediction, clip=False)
    torch.testing.assert_close(got_x0, x0)
    torch.testing.assert_close(got_eps, noise)


def test_ancestral_step_is_ddim_with_eta_one():
    g = torch.Generator().manual_seed(6)
    x0, eps, z = (torch.randn(4, 5, generator=g, dtype=torch.float64) for _ in range(3))
    ab_t, ab_s = 0.3, 0.6
    x_t = math.sqrt(ab_t) * x0 + math.sqrt(1 - ab_t) * eps
    torch.testing.assert_close(denoising.ancestral_step(x_t, x0, ab_t, ab_s, z), denoising.ddim_step(x0, eps, ab_t, ab_s, 1.0, z))
    # a single-step posterior (s = t - 1) has the variance beta_t (1 - ab_s) / (1 - ab_t) of Ho et al.
    a = denoising.ancestral_step(x_t, x0, ab_t, ab_s, z) - denoising.ancestral_step(x_t, x0, ab_t, ab_s, None)
    beta = 1 - ab_t / ab_s
    torch.testing.assert_close(a, math.sqrt(beta * (1 - ab_s) / (1 - ab_t)) * z)


def test_spaced_steps_run_from_the_last_level_to_the_first():
    assert denoising.spaced_steps(1000, 4) == [999, 666, 333, 0]
    assert denoising.spaced_steps(10, 50) == list(range(9, -1, -1))
    assert denoising.spaced_steps(1000, 1) == [999]


def _reverse(sampler, eta, x_T, seed, steps=10):
    ab = denoising.alpha_bars(denoising.cosine_betas(100))
    g = torch.Generator().manual_seed(seed)
    target = torch.full_like(x_T, 0.3)

    def predict(x, k):  # a denoiser that always believes x0 = 0.3
        return denoising.split(x, denoising.target(target, (x - ab[k].sqrt() * target) / (1 - ab[k]).sqrt(),
                                                   ab[k].expand(len(x)), "eps"), ab[k].expand(len(x)), "eps")

    return denoising.reverse(predict, x_T, ab, steps, sampler, eta, lambda: torch.randn(x_T.shape, generator=g, dtype=x_T.dtype))


def test_ddim_with_eta_zero_is_deterministic_given_the_noise():
    x_T = torch.randn(3, 1, 4, 4, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    a, b = _reverse("ddim", 0.0, x_T, seed=1), _reverse("ddim", 0.0, x_T, seed=2)
    assert torch.equal(a, b)
    torch.testing.assert_close(a, torch.full_like(a, 0.3))  # lands on the denoiser's x0
    c, d = _reverse("ddim", 0.5, x_T, seed=1), _reverse("ancestral", 0.0, x_T, seed=1)
    torch.testing.assert_close(c, torch.full_like(c, 0.3))  # the last step adds no noise
    torch.testing.assert_close(d, torch.full_like(d, 0.3))
    with pytest.raises(ValueError, match="ddim, ancestral"):
        _reverse("euler", 0.0, x_T, seed=1)


# --- guidance and the network ---------------------------------------------------------------------------------------


def test_guidance_scale_zero_and_one_give_the_unconditional_and_conditional_predictions():
    torch.manual_seed(8)
    net = UNet(1, (8, 16), 1, num_classes=3).eval()
    for p in net.parameters():  # the zero-initialised output layers would make every prediction 0
        torch.nn.init.normal_(p, std=0.1)
    x, t, y = torch.randn(4, 1, 8, 8), torch.rand(4), torch.tensor([0, 1, 2, 1])
    nulls = torch.full_like(y, 3)
    with torch.no_grad():
        cond, uncond = net(x, t, y), net(x, t, nulls)
        assert not torch.allclose(cond, uncond)
        torch.testing.assert_close(guided(net, x, t, y, 0.0, 3), uncond)
        torch.testing.assert_close(guided(net, x, t, y, 1.0, 3), cond)
        torch.testing.assert_close(guided(net, x, t, y, 2.5, 3), uncond + 2.5 * (cond - uncond), atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(guided(net, x, t, None, 2.5, 3), net(x, t, None))


def test_label_dropout_replaces_the_given_share_with_the_null_label():
    y = torch.zeros(20_000, dtype=torch.long)
    dropped = drop_labels(y, 10, 0.1, torch.Generator().manual_seed(9))
    assert set(dropped.unique().tolist()) == {0, 10}
    assert float((dropped == 10).float().mean()) == pytest.approx(0.1, abs=0.01)
    assert torch.equal(drop_labels(y, 10, 0.0), y)


@pytest.mark.parametrize(("shape", "widths"), [((1, 28, 28), (8, 16, 16)), ((3, 32, 32), (8, 16)), ((1, 30, 30), (8, 8, 8))])
def test_unet_keeps_the_input_shape_padding_sides_that_do_not_halve(shape, widths):
    net = UNet(shape[0], widths, 2, heads=2)
    out = net(torch.randn(2, *shape), torch.rand(2))
    assert out.shape == (2, *shape) and out.dtype == torch.float32
    out.square().mean().backward()  # every parameter is reachable
    assert all(p.grad is not None for p in net.parameters())
