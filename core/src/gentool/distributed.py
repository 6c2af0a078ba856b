"""Helpers for code that must agree across torchrun ranks; all are no-ops in a single process."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch
import torch.distributed as dist


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum `tensor` over ranks in place (and return it); EMA codebook statistics use this."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Average `tensor` over ranks in place (and return it)."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        tensor /= dist.get_world_size()
    return tensor


def all_reduce_max(value: float, device: torch.device | str = "cpu") -> float:
    """The largest of the ranks' `value`s (so that every rank takes the same decision from it)."""
    if not is_distributed():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return float(tensor.item())


def all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate along dim 0 the tensors every rank holds (sizes may differ between ranks)."""
    if not is_distributed():
        return tensor
    size = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [torch.zeros_like(size) for _ in range(world_size())]
    dist.all_gather(sizes, size)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros((longest, *tensor.shape[1:]), dtype=tensor.dtype, device=tensor.device)
    padded[: tensor.shape[0]] = tensor
    parts = [torch.empty_like(padded) for _ in range(world_size())]
    dist.all_gather(parts, padded)
    return torch.cat([p[: int(s.item())] for p, s in zip(parts, sizes)])


@contextlib.contextmanager
def process_group(device: str = "auto") -> Iterator[None]:
    """Join the torchrun process group for the block (nccl when the run uses CUDA, gloo otherwise); nothing when not
    launched so. `device` is the run's device choice (auto, cpu, cuda, mps)."""
    if not launched_by_torchrun() or is_distributed():
        yield
        return
    on_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    backend = "nccl" if on_cuda else "gloo"
    dist.init_process_group(backend=backend)
    try:
        yield
        dist.barrier()
    finally:
        dist.destroy_process_group()
