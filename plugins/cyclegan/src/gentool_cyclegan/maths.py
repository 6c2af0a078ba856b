"""The non-adversarial terms of CycleGAN and the channel conversions between grey and RGB domains."""

from __future__ import annotations

import torch

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601, what Pillow's convert("L") uses


def to_channels(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Images (N, C, H, W) with `channels` channels: grey repeated to RGB, RGB to grey by BT.601 luma."""
    c = x.shape[1]
    if c == channels:
        return x
    if c == 1 and channels == 3:
        return x.expand(-1, 3, -1, -1)
    if c == 3 and channels == 1:
        weights = torch.tensor(LUMA, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * weights).sum(1, keepdim=True)
    raise ValueError(f"cannot convert {c}-channel images to {channels} channels")


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference over every element (the reference's nn.L1Loss)."""
    return (a.float() - b.float()).abs().mean()


def cycle_loss(x: torch.Tensor, round_trip: torch.Tensor, weight: float) -> torch.Tensor:
    """weight * mean |F(G(x)) - x|: the image must survive the trip to the other domain and back."""
    return weight * l1(round_trip, x)


def identity_loss(y: torch.Tensor, mapped: torch.Tensor, weight: float) -> torch.Tensor:
    """weight * mean |G(y) - y| for y already in G's target domain (its input converted to G's input channels)."""
    return weight * l1(mapped, y)
