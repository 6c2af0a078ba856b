"""Classifier-free guidance (Ho & Salimans 2022): one network trained with and without labels (labels dropped to a
"no label" index at random), combined at sample time as uncond + scale * (cond - uncond)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Network = Callable[[Tensor, Tensor, Tensor | None], Tensor]  # f(x, t, labels)


def drop_labels(labels: Tensor, null: int, p: float, generator: torch.Generator | None = None) -> Tensor:
    """labels with each one replaced by the "no label" index `null` with probability p (label dropout)."""
    if p <= 0:
        return labels
    drop = torch.rand(len(labels), generator=generator).to(labels.device) < p
    return torch.where(drop, torch.full_like(labels, null), labels)


def guided(net: Network, x: Tensor, t: Tensor, labels: Tensor | None, scale: float, null: int) -> Tensor:
    """uncond + scale * (cond - uncond) of the network's outputs; scale 1 is the conditional output alone, 0 the
    unconditional one (each one pass); any other scale runs both halves in a single batch of 2N."""
    if labels is None:
        return net(x, t, None)
    nulls = torch.full_like(labels, null)
    if scale == 1:
        return net(x, t, labels)
    if scale == 0:
        return net(x, t, nulls)
    cond, uncond = net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, nulls])).chunk(2)
    return uncond + scale * (cond - uncond)
