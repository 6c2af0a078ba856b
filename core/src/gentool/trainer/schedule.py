"""Budgets per stage and learning-rate factors."""

from __future__ import annotations

import math

from gentool.protocols import Stage


def stage_budgets(stages: list[Stage], steps: int | None, minutes: float | None) -> list[tuple[int | None, float | None]]:
    """(steps, seconds) per stage: the step budget split by share (every stage gets at least one step), or the
    time budget split by share when only minutes are given."""
    total = sum(s.share for s in stages) or 1.0
    if steps is not None:
        counts = [max(1, round(steps * s.share / total)) for s in stages]
        counts[-1] = max(1, steps - sum(counts[:-1])) if len(stages) > 1 else steps
        return [(c, None) for c in counts]
    return [(None, minutes * 60 * s.share / total) for s in stages]


def lr_factor(schedule: str, warmup_steps: int, stage_step: int, progress: float, decay_start: float = 0.5) -> float:
    """Multiplier of each optimizer's base learning rate: linear warm-up, then constant, cosine to zero, or
    ("linear-decay") constant until `decay_start` of the stage and linear to zero after it."""
    warm = min(1.0, (stage_step + 1) / warmup_steps) if warmup_steps else 1.0
    progress = min(1.0, progress)
    if schedule == "cosine":
        return warm * 0.5 * (1 + math.cos(math.pi * progress))
    if schedule == "linear-decay":
        return warm * min(1.0, (1.0 - progress) / (1.0 - decay_start))
    return warm
