"""The VAE's priors: the mixture's density, draws and KL estimate against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from gentool_vae import bounds
from gentool_vae.prior import MixturePrior, StandardNormalPrior


def mixture(weights, means, stds) -> MixturePrior:
    prior = MixturePrior(latent_dim=len(means[0]), components=len(weights))
    with torch.no_grad():
        prior.logits.copy_(torch.tensor(weights, dtype=torch.float32).log())
        prior.means.copy_(torch.tensor(means, dtype=torch.float32))
        prior.log_vars.copy_(2 * torch.tensor(stds, dtype=torch.float32).log())
    return prior


def test_mixture_density_matches_scipy():
    prior = mixture([0.2, 0.8], [[0.0, 1.0], [3.0, -1.0]], [[1.0, 0.5], [2.0, 1.5]])
    z = torch.tensor([[0.1, 0.9], [2.5, -2.0], [-4.0, 3.0]])
    expected = np.log(
        0.2 * stats.norm.pdf(z[:, 0], 0.0, 1.0) * stats.norm.pdf(z[:, 1], 1.0, 0.5)
        + 0.8 * stats.norm.pdf(z[:, 0], 3.0, 2.0) * stats.norm.pdf(z[:, 1], -1.0, 1.5)
    )
    with torch.no_grad():
        np.testing.assert_allclose(prior.log_prob(z).numpy(), expected, rtol=1e-5)
        assert prior.log_prob(z.expand(4, 3, 2)).shape == (4, 3)  # any leading shape, as the k-sample bound needs


def test_mixture_draws_follow_weights_and_components():
    prior = mixture([0.25, 0.75], [[-10.0], [10.0]], [[1.0], [2.0]])
    z = prior.sample(20000, torch.Generator().manual_seed(0))[:, 0]
    left, right = z[z < 0], z[z > 0]
    assert len(left) / len(z) == pytest.approx(0.25, abs=0.015)
    assert float(left.mean()) == pytest.approx(-10.0, abs=0.05) and float(left.std()) == pytest.approx(1.0, abs=0.05)
    assert float(right.mean()) == pytest.approx(10.0, abs=0.05) and float(right.std()) == pytest.approx(2.0, abs=0.05)
    again = prior.sample(5, torch.Generator().manual_seed(3))
    torch.testing.assert_close(again, prior.sample(5, torch.Generator().manual_seed(3)))


def test_mixture_kl_estimate_is_unbiased():
    # with one component N(m, s²) the KL has a closed form: the one-sample estimates must average to it
    m, s = np.array([1.0, -0.5, 0.2]), np.array([2.0, 0.5, 1.0])
    prior = mixture([1.0], [m.tolist()], [s.tolist()])
    mean = torch.tensor([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]])
    log_var = torch.tensor([[-1.0, 0.5, 0.0], [0.2, -2.0, 1.0]])
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        draws = torch.stack([prior.kl(mean, log_var, bounds.draw(mean, log_var, g)) for _ in range(20000)])
    sq = np.exp(0.5 * log_var.numpy())
    exact = (np.log(s / sq) + (sq**2 + (mean.numpy() - m) ** 2) / (2 * s**2) - 0.5).sum(axis=1)
    np.testing.assert_allclose(draws.mean(0).numpy(), exact, atol=0.03)
    # the standard prior's KL is the same closed form with m = 0, s = 1, exactly
    standard = StandardNormalPrior(3).kl(mean, log_var, mean).numpy()
    np.testing.assert_allclose(standard, (-np.log(sq) + (sq**2 + mean.numpy() ** 2) / 2 - 0.5).sum(axis=1), rtol=1e-5)


def test_importance_bound_with_a_learned_prior_is_exact_with_the_true_posterior():
    # z ~ N(1, 4), x | z ~ N(z, 1): x ~ N(1, 5) and the posterior is N((4x + 1) / 5, 4 / 5)
    prior = mixture([1.0], [[1.0]], [[2.0]])
    x = torch.tensor([[0.3], [-1.2], [2.0]], dtype=torch.float64)

    def log_likelihood(z, data):
        return torch.tensor(stats.norm.logpdf(data.numpy(), loc=z.numpy(), scale=1.0).sum(axis=1))

    posterior = ((4 * x + 1) / 5, torch.full_like(x, math.log(0.8)))
    with torch.no_grad():
        bound = bounds.iw_bound(
            x, posterior, log_likelihood, 5, torch.Generator().manual_seed(0), prior.double().log_prob
        )
    np.testing.assert_allclose(bound.numpy(), stats.norm.logpdf(x.numpy()[:, 0], 1.0, math.sqrt(5.0)), rtol=1e-6)
