"""What the quantizers share: moving latents between grid and rows, nearest codes, and usage statistics."""

from __future__ import annotations

import torch
from torch import Tensor


def to_rows(z: Tensor) -> Tensor:
    """(N, D, H, W) -> (N*H*W, D), one row per grid position."""
    return z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])


def to_grid(rows: Tensor, like: tuple[int, ...]) -> Tensor:
    """(N*H*W, D) -> (N, D, H, W) for a grid of shape `like` = (N, D', H, W)."""
    n, _, h, w = like
    return rows.view(n, h, w, -1).permute(0, 3, 1, 2).contiguous()


def nearest(rows: Tensor, codebook: Tensor) -> Tensor:
    """Index of the closest code (squared Euclidean distance) for each row: (M, D), (K, D) -> (M,) int64."""
    distances = rows.square().sum(1, keepdim=True) - 2 * rows @ codebook.t() + codebook.square().sum(1)
    return distances.argmin(dim=1)


def usage(indices: Tensor, codebook_size: int) -> dict[str, Tensor]:
    """Batch statistics to log: the fraction of codes used, and the perplexity exp(entropy) of the code histogram."""
    counts = torch.bincount(indices.reshape(-1), minlength=codebook_size).float()
    probs = counts / counts.sum().clamp_min(1)
    entropy = -(probs * probs.clamp_min(1e-12).log()).sum()
    return {"usage": (counts > 0).float().mean().detach(), "perplexity": entropy.exp().detach()}
