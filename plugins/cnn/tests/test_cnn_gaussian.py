"""The Gaussian GLO fits to its latents, checked against numpy."""

from __future__ import annotations

import numpy as np
import torch

from gentool_cnn.gaussian import JITTER, fit_gaussian
from gentool_cnn.mixture import sample_mixture


def test_fit_matches_numpy_mean_and_covariance():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6)) + rng.normal(size=6)
    mean, chol = fit_gaussian(torch.tensor(z, dtype=torch.float64))
    np.testing.assert_allclose(mean.numpy(), z.mean(axis=0), rtol=1e-10, atol=1e-12)
    cov = (chol @ chol.T).numpy()
    np.testing.assert_allclose(cov, np.cov(z, rowvar=False) + JITTER * np.eye(6), rtol=1e-9, atol=1e-12)
    assert np.allclose(np.triu(chol.numpy(), 1), 0), "the factor is lower triangular"


def test_fit_survives_fewer_codes_than_dimensions():
    z = torch.nn.functional.normalize(torch.randn(3, 8, generator=torch.Generator().manual_seed(1)), dim=1)
    mean, chol = fit_gaussian(z)
    assert torch.isfinite(chol).all() and torch.isfinite(mean).all()


def test_draws_follow_the_fitted_gaussian_and_repeat_with_the_same_generator():
    mean = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]])
    chol = torch.tensor(np.linalg.cholesky(cov))
    single = (torch.ones(1, dtype=torch.float64), mean[None], chol[None])  # a one-component mixture
    draws = sample_mixture(single, 40_000, torch.Generator().manual_seed(0)).numpy()
    np.testing.assert_allclose(draws.mean(axis=0), mean.numpy(), atol=0.03)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), cov, atol=0.05)
    first = sample_mixture(single, 5, torch.Generator().manual_seed(3))
    assert torch.equal(first, sample_mixture(single, 5, torch.Generator().manual_seed(3)))
