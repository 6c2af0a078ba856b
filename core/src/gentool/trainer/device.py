"""Choosing the device and the mixed-precision mode."""

from __future__ import annotations

import torch

from gentool.errors import GentoolError


def pick_device(choice: str, local_rank: int = 0) -> torch.device:
    """`auto` takes CUDA, then MPS, then the CPU; an explicit choice that is not available is an error."""
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if choice == "auto":
        choice = "cuda" if cuda else "mps" if mps else "cpu"
    if choice == "cuda":
        if not cuda:
            raise GentoolError('Device "cuda" was asked for but no CUDA GPU is available. Valid here: cpu, auto.')
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if choice == "mps" and not mps:
        raise GentoolError('Device "mps" was asked for but MPS is not available. Valid here: cpu, auto.')
    return torch.device(choice)


def pick_precision(choice: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype (None: full fp32). `auto` is bf16 on CUDA when supported, else fp32."""
    if choice == "fp32":
        return None
    if choice == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else None
    if choice == "fp16" and device.type != "cuda":
        raise GentoolError(f'trainer.precision "fp16" needs a CUDA device (device here: {device.type}). Use bf16 or fp32.')
    return torch.float16 if choice == "fp16" else torch.bfloat16
