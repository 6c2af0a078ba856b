"""Log-likelihood bounds of a Gaussian-latent model: the ELBO and the importance-weighted bound (Burda et al. 2016).

log p(x) >= E_{z_1..z_k ~ q(z|x)} log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x); k = 1 is the ELBO, and the bound
tightens as k grows. Everything here is per image, in nats.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

LOG_2PI = math.log(2 * math.pi)

NATS_PER_DIM = {"bce": 0.0, "mse": 0.5 * math.log(math.pi), "l2": 0.5 * math.log(math.pi), "l1": math.log(2.0)}
"""The per-dimension constant that turns a summed reconstruction loss into -log p(x|z): "mse" is a Gaussian with
variance 1/2 (-log p = sum (x - m)^2 + D/2 log pi), "l1" a Laplace with scale 1, "bce" a Bernoulli (no constant)."""


def gaussian_log_density(z: Tensor, mean: Tensor, log_var: Tensor) -> Tensor:
    """log N(z; mean, diag(exp(log_var))) summed over the last dim."""
    return -0.5 * (LOG_2PI + log_var + (z - mean).square() / log_var.exp()).sum(dim=-1)


def standard_normal_log_density(z: Tensor) -> Tensor:
    """log N(z; 0, I) summed over the last dim."""
    return -0.5 * (LOG_2PI + z.square()).sum(dim=-1)


def kl_to_standard_normal(mean: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(mean, exp(log_var)) || N(0, I)) per row, in closed form."""
    return 0.5 * (mean.square() + log_var.exp() - 1.0 - log_var).sum(dim=-1)


def draw(mean: Tensor, log_var: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """z = mean + sigma * eps (reparameterised), eps drawn on the CPU from `generator` when one is given."""
    eps = torch.randn(mean.shape, generator=generator, dtype=mean.dtype).to(mean.device)
    return mean + (0.5 * log_var).exp() * eps


def elbo(
    x: Tensor,
    posterior: tuple[Tensor, Tensor],
    log_likelihood: Callable[[Tensor, Tensor], Tensor],
    generator: torch.Generator | None = None,
    kl: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None,
) -> Tensor:
    """E_q log p(x|z) - KL(q(z|x) || p(z)) per image, with one z per image; `kl(mean, log_var, z)` gives the KL
    term (default: in closed form against N(0, I))."""
    mean, log_var = posterior
    z = draw(mean, log_var, generator)
    divergence = kl(mean, log_var, z) if kl is not None else kl_to_standard_normal(mean, log_var)
    return log_likelihood(z, x) - divergence


def iw_bound(
    x: Tensor,
    posterior: tuple[Tensor, Tensor],
    log_likelihood: Callable[[Tensor, Tensor], Tensor],
    k: int,
    generator: torch.Generator | None = None,
    log_prior: Callable[[Tensor], Tensor] | None = None,
) -> Tensor:
    """logsumexp_i(log p(x|z_i) + log p(z_i) - log q(z_i|x)) - log k per image, z_1..z_k ~ q(z|x); `log_prior`
    gives log p(z) (default: N(0, I))."""
    mean, log_var = posterior
    n, d = mean.shape
    mean_k = mean.unsqueeze(0).expand(k, n, d)
    log_var_k = log_var.unsqueeze(0).expand(k, n, d)
    z = draw(mean_k, log_var_k, generator)  # (k, N, D)
    x_k = x.unsqueeze(0).expand(k, *x.shape).reshape(k * n, *x.shape[1:])
    log_px = log_likelihood(z.reshape(k * n, d), x_k).view(k, n)
    log_pz = (log_prior or standard_normal_log_density)(z)
    log_w = log_px + log_pz - gaussian_log_density(z, mean_k, log_var_k)
    return torch.logsumexp(log_w, dim=0) - math.log(k)
