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


class StepLogs:
    """The logged scalars of the steps since the last log line, kept on the device so that no step waits for it.

    `add` sums each value and notes, per key, the first step whose value was NaN or infinite; a key logged on some
    steps only (a lazy regulariser's) is averaged over the steps that logged it. `first_bad` and `means` read them
    back (one host-device sync each), which the trainer does on logging, grid and checkpoint steps only: a diverging
    run stops at the first of those after the step it diverged at, and names that step.
    """

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.bad: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}  # key -> (first bad step or -1, its value)

    def add(self, step: int, logs: dict[str, Any]) -> None:
        for k, v in logs.items():
            v = torch.as_tensor(v).detach().float().reshape(())
            self.sums[k] = self.sums[k] + v if k in self.sums else v
            self.counts[k] = self.counts.get(k, 0) + 1
            first, value = self.bad.get(k) or (torch.full((), -1, dtype=torch.int64, device=v.device), v)
            new = ~torch.isfinite(v) & (first < 0)
            self.bad[k] = (torch.where(new, step, first), torch.where(new, v, value))

    def first_bad(self) -> tuple[int, str, float] | None:
        """(step, key, value) of the earliest non-finite logged value since the last `means`, else None."""
        if not self.bad:
            return None
        keys = list(self.bad)
        steps = torch.stack([self.bad[k][0].cpu() for k in keys]).tolist()
        found = [(s, k) for s, k in zip(steps, keys) if s >= 0]
        if not found:
            return None
        step, key = min(found)
        return step, key, float(self.bad[key][1])

    def means(self) -> dict[str, float]:
        """The mean of each key over the steps that logged it since the last call, rounded for metrics.jsonl; starts
        a new window."""
        means = {k: round(float(v) / self.counts[k], 6) for k, v in self.sums.items()}
        self.sums, self.counts, self.bad = {}, {}, {}
        return means


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
