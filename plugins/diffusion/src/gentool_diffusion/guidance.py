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


def null_like(labels: Tensor, null: int) -> Tensor:
    """"No label" for each of `labels`: the index `null` for int64 labels (N,), for class weights (N, K) the one-hot
    weights of column `null` (K + 1 columns; `labels` then get a zero column there, see `pad_weights`)."""
    if labels.is_floating_point():
        return torch.nn.functional.one_hot(torch.full((len(labels),), null, device=labels.device), null + 1).to(labels)
    return torch.full_like(labels, null)


def pad_weights(labels: Tensor, null: int) -> Tensor:
    """Class weights (N, K) with a zero weight for the "no label" column appended (int64 labels unchanged)."""
    if labels.is_floating_point() and labels.shape[1] == null:
        return torch.nn.functional.pad(labels, (0, 1))
    return labels


def guided(net: Network, x: Tensor, t: Tensor, labels: Tensor | None, scale: float, null: int) -> Tensor:
    """uncond + scale * (cond - uncond) of the network's outputs; scale 1 is the conditional output alone, 0 the
    unconditional one (each one pass); any other scale runs both halves in a single batch of 2N. `labels` are int64
    (N,) or class weights (N, K)."""
    if labels is None:
        return net(x, t, None)
    labels, nulls = pad_weights(labels, null), null_like(labels, null)
    if scale == 1:
        return net(x, t, labels)
    if scale == 0:
        return net(x, t, nulls)
    cond, uncond = net(torch.cat([x, x]), torch.cat([t, t]), torch.cat([labels, nulls])).chunk(2)
    return uncond + scale * (cond - uncond)
