"""Priors p(z) of the VAE: the standard normal, or a learned mixture of diagonal Gaussians.

A VAE's samples come from p(z), but what the decoder learned to decode is the aggregate posterior
q(z) = E_x q(z|x). Under N(0, I) the two differ: classes whose posteriors sit in a small region (the thin 1s of
digits) are drawn less often than they occur. A mixture prior trained jointly with the ELBO follows q(z) (the
"mixture of Gaussians" prior that Tomczak & Welling, *VAE with a VampPrior*, 2018, compare against), so samples
follow the data's class balance more closely; its KL term has no closed form and is a one-sample estimate.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gentool_vae.bounds import gaussian_log_density, kl_to_standard_normal, standard_normal_log_density


class StandardNormalPrior(nn.Module):
    """p(z) = N(0, I); its KL to a diagonal Gaussian posterior is exact (closed form)."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim

    def log_prob(self, z: Tensor) -> Tensor:
        """log p(z) summed over the last dim."""
        return standard_normal_log_density(z)

    def kl(self, mean: Tensor, log_var: Tensor, z: Tensor) -> Tensor:
        """KL(q(z|x) || p(z)) per row (`z`, a draw from q, is not needed)."""
        return kl_to_standard_normal(mean, log_var)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws (on the CPU, from `generator`)."""
        return torch.randn(n, self.latent_dim, generator=generator)


class MixturePrior(nn.Module):
    """p(z) = sum_k pi_k N(z; mu_k, diag(sigma_k²)) with learned weights, means and variances."""

    def __init__(self, latent_dim: int, components: int) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.logits = nn.Parameter(torch.zeros(components))
        self.means = nn.Parameter(torch.randn(components, latent_dim))
        self.log_vars = nn.Parameter(torch.zeros(components, latent_dim))

    def log_prob(self, z: Tensor) -> Tensor:
        """log p(z) for z (..., latent_dim), by log-sum-exp over the components."""
        per_component = gaussian_log_density(z.unsqueeze(-2), self.means, self.log_vars)  # (..., K)
        return torch.logsumexp(per_component + self.logits.log_softmax(0), dim=-1)

    def kl(self, mean: Tensor, log_var: Tensor, z: Tensor) -> Tensor:
        """log q(z|x) - log p(z) at the posterior draw z: an unbiased one-sample estimate of the KL, per row."""
        return gaussian_log_density(z, mean, log_var) - self.log_prob(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n draws on the CPU: a component by its weight, then its Gaussian (noise from `generator`)."""
        weights = self.logits.detach().float().softmax(0).cpu()
        picks = torch.multinomial(weights, n, replacement=True, generator=generator)
        eps = torch.randn(n, self.latent_dim, generator=generator)
        means, log_vars = self.means.detach().float().cpu(), self.log_vars.detach().float().cpu()
        return means[picks] + (0.5 * log_vars[picks]).exp() * eps


def build_prior(name: str, latent_dim: int, components: int) -> nn.Module:
    """The prior named by the `prior` option ("standard" or "mixture")."""
    if name == "mixture":
        return MixturePrior(latent_dim, components)
    return StandardNormalPrior(latent_dim)


__all__ = ["MixturePrior", "StandardNormalPrior", "build_prior"]
