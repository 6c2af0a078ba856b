"""Differentiable augmentation (DiffAugment, Zhao et al. 2020): the same random transforms on real and fake images
before the discriminator, differentiable so the generator learns through them; it keeps D from memorising a
small training set.

Images are in [-1, 1]; each call draws fresh parameters per sample from torch's global generator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

POLICIES = ("color", "translation", "cutout")


def color(x: Tensor) -> Tensor:
    """Random brightness (+-0.5), saturation (x0..2, colour images only) and contrast (x0.5..1.5) per sample."""
    n = len(x)
    x = x + (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) - 0.5)
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (torch.rand(n, 1, 1, 1, device=x.device, dtype=x.dtype) + 0.5) + mean


def translation(x: Tensor, ratio: float = 0.125) -> Tensor:
    """Shift each sample by up to `ratio` of its size in each direction, filling with the background (-1)."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1) - dy  # source row of each output row
    cols = torch.arange(w, device=x.device).view(1, 1, w) - dx
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)  # index 0 and h + 1 are background
    rows = (rows + 1).clamp(0, h + 1).expand(n, h, w)
    cols = (cols + 1).clamp(0, w + 1).expand(n, h, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1).expand(n, h, w)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Blank one square of `ratio` of the size per sample at a random place (to the background, -1)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device)
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    top, left = cy - ch // 2, cx - cw // 2  # a ch x cw square around (cy, cx), clipped at the borders
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return torch.where(inside.unsqueeze(1), torch.full_like(x, -1.0), x)


def diff_augment(x: Tensor, policy: tuple[str, ...]) -> Tensor:
    """x transformed by each named policy in turn (any of POLICIES)."""
    for name in policy:
        x = {"color": color, "translation": translation, "cutout": cutout}[name](x)
    return x
