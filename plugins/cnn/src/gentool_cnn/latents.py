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


def pixel_projection(pixels: int, dim: int, seed: int = 0) -> torch.Tensor:
    """A fixed (pixels, dim) Gaussian projection matrix, the same in every process for the same sizes."""
    return torch.randn(pixels, dim, generator=torch.Generator().manual_seed(seed)) / pixels**0.5


def project_pixels(x: torch.Tensor, projection: torch.Tensor) -> torch.Tensor:
    """Codes on the sphere for images x (N, ...): each image's pixels minus their mean, projected, normalised."""
    flat = x.reshape(len(x), -1)
    return on_sphere((flat - flat.mean(dim=1, keepdim=True)) @ projection.to(flat.device, flat.dtype))
