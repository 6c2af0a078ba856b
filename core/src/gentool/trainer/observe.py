"""What the trainer shows and measures besides training: grid labels, finite checks, memory, TensorBoard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from gentool.errors import GentoolError
from gentool.protocols import DataInfo


def grid_labels(model: Any, info: DataInfo, n: int) -> torch.Tensor | None:
    """Labels for a grid of about n conditional samples, class by class (n // classes each, at least one), else None."""
    if not getattr(model, "conditional", False) or not info.labelled:
        return None
    per_row = max(1, n // info.num_classes)
    return torch.arange(info.num_classes).repeat_interleave(per_row)


def first_non_finite(logs: dict[str, Any]) -> tuple[str, float] | None:
    """(key, value) of the first NaN or infinite logged scalar, else None (one device sync for all of them)."""
    values = [torch.as_tensor(v, dtype=torch.float32).reshape(()) for v in logs.values()]
    if not values or bool(torch.isfinite(torch.stack(values)).all()):
        return None
    return next((k, float(v)) for k, v in zip(logs, values) if not bool(torch.isfinite(v)))


def tensorboard_writer(out: Path | None) -> Any:
    """A SummaryWriter logging to out/tensorboard (None for out: only check that tensorboard is installed)."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise GentoolError(
            "trainer.tensorboard=true needs the tensorboard package, which is not installed. Install it with "
            "`pip install 'gentool-core[tensorboard]'` (or `pip install tensorboard`), or drop the option."
        ) from None
    return SummaryWriter(str(out / "tensorboard")) if out is not None else None


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return round(torch.cuda.max_memory_allocated(device) / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
