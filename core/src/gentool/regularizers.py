"""Regularisers any adversarial model may use: the R1 penalty for D (Mescheder et al. 2018), differentiable
augmentation (DiffAugment, Zhao et al. 2020) and a nearest-fake coverage term for G (after IMLE, Li & Malik 2018).

DiffAugment applies the same kind of random, differentiable transforms to real and fake images before D, so D
cannot memorise a small training set and G still learns through them. Images are in [-1, 1] (background -1);
each call draws fresh parameters per sample from torch's global generator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import get_args

import torch
import torch.nn.functional as F
from torch import Tensor

from gentool.config import AugmentPolicy
from gentool.layers import eager

AUGMENT_POLICIES: tuple[str, ...] = get_args(AugmentPolicy)


def r1_penalty(critic: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """Mean over the batch of |grad_x D(x)|^2 at the real data, with `critic` returning (N,) logits: the
    zero-centred penalty that keeps D flat on the data (back-propagates into D's weights; fp32 under autocast; a
    compiled critic runs eagerly here)."""
    real = real.detach().requires_grad_(True)
    with eager():
        logits = critic(real).float()
    (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
    return grad.float().square().sum() / len(real)


def nearest_fake_pull(real: Tensor, fake: Tensor, pool: int = 1) -> Tensor:
    """IMLE's objective (Li & Malik 2018) as a term for a generator: the mean over the real examples of the squared
    distance, per value, to the nearest of the fakes, images first average-pooled `pool` x `pool` (points as they
    are). Only the fakes get a gradient: each real example pulls the fake nearest to it, so a region of the data that
    the fakes leave thin draws fakes towards it, which an adversarial loss alone does not ask for (fp32 under
    autocast)."""
    real, fake = real.detach().float(), fake.float()
    if real.dim() == 4 and pool > 1:
        pool = min(pool, *real.shape[-2:])  # images smaller than the pool become one value per channel
        real, fake = F.avg_pool2d(real, pool), F.avg_pool2d(fake, pool)
    real, fake = real.flatten(1), fake.flatten(1)
    with torch.no_grad():
        nearest = torch.cdist(real, fake).argmin(dim=1)
    return (fake[nearest] - real).square().mean()


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
    """Shift each image by up to `ratio` of its size in each direction, filling with the background (-1)."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), device=x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), device=x.device)
    # source row and column of each output pixel in the padded image, whose index 0 and h + 1 are background
    rows = (torch.arange(h, device=x.device).view(1, h, 1) - dy + 1).clamp(0, h + 1).expand(n, h, w)
    cols = (torch.arange(w, device=x.device).view(1, 1, w) - dx + 1).clamp(0, w + 1).expand(n, h, w)
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)
    batch = torch.arange(n, device=x.device).view(n, 1, 1).expand(n, h, w)
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2)


def cutout(x: Tensor, ratio: float = 0.5) -> Tensor:
    """Blank one square of `ratio` of the size per image, at a random place (clipped at the borders), to the
    background (-1)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), device=x.device) - cw // 2
    rows = torch.arange(h, device=x.device).view(1, h, 1)
    cols = torch.arange(w, device=x.device).view(1, 1, w)
    inside = (rows >= top) & (rows < top + ch) & (cols >= left) & (cols < left + cw)
    return torch.where(inside.unsqueeze(1), torch.full_like(x, -1.0), x)


_TRANSFORMS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: Tensor, policy: tuple[str, ...] | list[str]) -> Tensor:
    """x transformed by each named policy in turn (any of AUGMENT_POLICIES); x itself for an empty policy."""
    for name in policy:
        transform = _TRANSFORMS.get(name)
        if transform is None:
            raise ValueError(f"Unknown augmentation policy {name!r}; the policies are {', '.join(AUGMENT_POLICIES)}.")
        x = transform(x)
    return x
