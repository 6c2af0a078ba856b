"""The non-adversarial terms of CycleGAN and the channel conversions between grey and RGB domains."""

from __future__ import annotations

import itertools
from collections.abc import Callable

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


def network_channels(net: torch.nn.Module, default: int) -> int:
    """Channels a feature network takes: those of its first convolution (`default` if it has none)."""
    first = next((m for m in net.modules() if isinstance(m, torch.nn.Conv2d)), None)
    return first.in_channels if first is not None else default


def l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference over every element (the reference's nn.L1Loss)."""
    return (a.float() - b.float()).abs().mean()


def cycle_loss(x: torch.Tensor, round_trip: torch.Tensor, weight: float) -> torch.Tensor:
    """weight * mean |F(G(x)) - x|: the image must survive the trip to the other domain and back."""
    return weight * l1(round_trip, x)


def identity_loss(y: torch.Tensor, mapped: torch.Tensor, weight: float) -> torch.Tensor:
    """weight * mean |G(y) - y| for y already in G's target domain (its input converted to G's input channels)."""
    return weight * l1(mapped, y)


def random_shift(x: torch.Tensor, pixels: int) -> torch.Tensor:
    """Each image (N, C, H, W) moved by its own random whole-pixel offset in [-pixels, pixels] on both axes, edges
    replicated (the reference's random crop of a slightly larger image, without the resize); 0 returns x."""
    if pixels <= 0:
        return x
    n, _, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pixels,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * pixels + 1, (2, n, 1), device=x.device)
    rows = (dy + torch.arange(h, device=x.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx + torch.arange(w, device=x.device))[:, None, None, :]  # (N, 1, 1, W)
    index = torch.arange(n, device=x.device)[:, None, None, None]
    return padded[index, torch.arange(x.shape[1], device=x.device)[None, :, None, None], rows, cols]


def shuffle_channels(x: torch.Tensor) -> torch.Tensor:
    """Each image (N, C, H, W) with its channels in a random order of its own: a colour augmentation that keeps
    every shape; x itself when C is 1."""
    n, c, h, w = x.shape
    if c == 1:
        return x
    order = torch.rand(n, c, device=x.device).argsort(dim=1)
    return x.gather(1, order[:, :, None, None].expand(n, c, h, w))


def shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Images (N, C, H, W) moved down by `dy` and right by `dx` whole pixels (negative: up, left), edges replicated."""
    pad = max(abs(dy), abs(dx))
    if pad == 0:
        return x
    h, w = x.shape[-2:]
    padded = torch.nn.functional.pad(x, (pad,) * 4, mode="replicate")
    return padded[..., pad - dy : pad - dy + h, pad - dx : pad - dx + w]


def median_over_views(
    translate: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, channel_orders: bool, shift: int,
    budget: int = 2**24,
) -> torch.Tensor:
    """The per-pixel median of `translate` over views of the images x (N, C, H, W): every order of their channels
    (with `channel_orders`) and every offset within +-`shift` pixels, each translation moved back by its offset.
    With one view it is `translate(x)`. Images go through in chunks of about `budget` input values over all views."""
    orders = list(itertools.permutations(range(x.shape[1]))) if channel_orders else [tuple(range(x.shape[1]))]
    offsets = [(dy, dx) for dy in range(-shift, shift + 1) for dx in range(-shift, shift + 1)]
    views = len(orders) * len(offsets)
    if views == 1:
        return translate(x)
    chunk = max(1, budget // (views * x[0].numel()))
    medians = []
    for part in x.split(chunk):
        outputs = [shifted(translate(shifted(part[:, list(order)], dy, dx)), -dy, -dx)
                   for order in orders for dy, dx in offsets]
        medians.append(torch.stack(outputs).median(dim=0).values)
    return torch.cat(medians)
