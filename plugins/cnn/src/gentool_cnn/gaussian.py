"""The full-covariance Gaussian of GLO's paper, fitted to its learned latents (one component of `mixture`)."""

from __future__ import annotations

import torch

JITTER = 1e-5  # added to the covariance's diagonal so its Cholesky factor exists even for few or degenerate codes


def fit_gaussian(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean (D,), lower Cholesky factor (D, D)) of codes z (N, D): the sample mean and unbiased covariance
    (as numpy.cov), plus JITTER on the diagonal. Computed in float64, returned in z's dtype."""
    z64 = z.detach().double()
    mean = z64.mean(dim=0)
    centred = z64 - mean
    cov = centred.T @ centred / max(len(z64) - 1, 1)
    cov = cov + JITTER * torch.eye(z.shape[1], dtype=cov.dtype, device=cov.device)
    return mean.to(z.dtype), torch.linalg.cholesky(cov).to(z.dtype)
