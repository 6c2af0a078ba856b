"""The per-image latent codes of GLO: kept on the unit sphere, moved by projected SGD."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def on_sphere(z: torch.Tensor) -> torch.Tensor:
    """Each row of z divided by its Euclidean norm."""
    return F.normalize(z, dim=1)


def random_latents(n: int, dim: int) -> torch.Tensor:
    """n codes drawn uniformly on the unit sphere of R^dim (normalised Gaussians), from torch's global generator."""
    return on_sphere(torch.randn(n, dim))


def sphere_step(z: torch.Tensor, grad: torch.Tensor, lr: float) -> torch.Tensor:
    """One projected SGD step: (z - lr * grad) put back on the unit sphere."""
    return on_sphere(z - lr * grad)
