"""A rich progress bar per stage (step, losses, images/s, ETA); silent when stdout is not a terminal."""

from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress


class Progress:
    """Shows one bar per stage; `update` refreshes the shown scalars, `advance` only moves the bar."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stdout.isatty()
        self.bar: RichProgress | None = None
        self.task = None

    def start_stage(self, stage: str, steps: int | None, seconds: float | None, done: int) -> None:
        if not self.enabled:
            return
        self.bar = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[scalars]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self.bar.start()
        self.task = self.bar.add_task(stage, total=steps, completed=done, scalars="")
        self.seconds = seconds

    def update(self, step: int, scalars: dict[str, float], images_per_second: float) -> None:
        if self.bar is None:
            return
        shown = " ".join(f"{k}={v:.4g}" for k, v in list(scalars.items())[:6])
        self.bar.update(self.task, completed=step, scalars=f"{shown} {images_per_second:.0f} img/s")

    def advance(self, step: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=step)

    def end_stage(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
