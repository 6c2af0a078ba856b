"""StyleGAN2's path-length regulariser and the learning-rate/beta correction of lazy regularisation (every
`interval` steps, scaled by the interval), which keeps Adam's effective step the same (StyleGAN2 appendix B).
The R1 penalty and DiffAugment are core's (`gentool.api.r1_penalty`, `diff_augment`)."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def path_length_penalty(images: Tensor, ws: Tensor, pl_mean: Tensor, decay: float = 0.01) -> Tensor:
    """Mean of (|J_w^T y| - a)^2 for y ~ N(0, I) / sqrt(H W), where `a` (the buffer `pl_mean`, updated here in
    place) is a running mean of the lengths; `images` must depend on `ws` (N, num_ws, w_dim)."""
    noise = torch.randn_like(images) / math.sqrt(images.shape[2] * images.shape[3])
    (grad,) = torch.autograd.grad((images * noise).sum(), ws, create_graph=True)
    lengths = grad.square().sum(dim=2).mean(dim=1).sqrt()
    with torch.no_grad():
        pl_mean.lerp_(lengths.mean().float(), decay)
    return (lengths - pl_mean).square().mean()


def lazy_adam_hyper(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """Adam's lr and betas for a network regularised every `interval` steps: with c = interval / (interval + 1),
    lr * c and beta ** c, because each minibatch makes (interval + 1) / interval updates on average."""
    if interval <= 0:
        return lr, betas
    c = interval / (interval + 1)
    return lr * c, (betas[0] ** c, betas[1] ** c)
