"""PNG output: image grids with Pillow; loss curves and scatter plots of 2-D samples with matplotlib.

matplotlib is imported inside the plotting functions only (Agg, no pyplot and no global state), so importing this
module, and commands that draw nothing such as `gentool list`, never pay for it. Every file is written atomically.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from gentool.rundir import write_atomically

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
RECORD_FIELDS = ("step", "stage", "time")  # the fields of a metrics.jsonl record that are not logged scalars
LOG_DECADES = 2.0
PANEL = (4.3, 3.0)  # inches per curve panel, margins included
MARGINS = (0.75, 0.2, 0.35, 0.55)  # inches inside a panel: left (tick labels, y label), right, top (title), bottom  # a panel whose positive values span at least this many decades gets a log y axis


def _write_png(image: Image.Image, path: Path) -> None:
    """`image` as a PNG file at `path`, written atomically (a kill leaves the old file or the new one)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    write_atomically(Path(path), buffer.getvalue())


def grid_image(images, nrow: int | None = None, pad: int = 2) -> Image.Image:
    """A grid of images (N, C, H, W) in [0, 1] (torch or numpy), `nrow` per row (default: square)."""
    array = images.detach().cpu().float().numpy() if hasattr(images, "detach") else np.asarray(images, np.float32)
    n, c, h, w = array.shape
    nrow = nrow or max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / nrow)
    canvas = np.ones((rows * (h + pad) + pad, nrow * (w + pad) + pad, 3), np.float32)
    pixels = np.clip(array, 0, 1).transpose(0, 2, 3, 1)
    if c == 1:
        pixels = np.repeat(pixels, 3, axis=3)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        canvas[top : top + h, left : left + w] = pixels[i, :, :, :3]
    return Image.fromarray((canvas * 255 + 0.5).astype(np.uint8))


# -- matplotlib ------------------------------------------------------------------------------------------------------
def _figure(width: float, height: float) -> Any:
    """A matplotlib Figure drawn by the Agg canvas (no pyplot, no display, safe in any thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def figure_png(figure: Any) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, facecolor="white")
    return buffer.getvalue()


def _points(values) -> np.ndarray:
    return np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, np.float64)[:, :2]


def scatter_png(points, reference=None) -> bytes:
    """A scatter plot of 2-D points (N, 2) on equal axes; `reference` points, if given, are drawn underneath in grey."""
    figure = _figure(4.4, 4.2)
    axes = figure.add_subplot()
    if reference is not None:
        ref = _points(reference)
        axes.scatter(ref[:, 0], ref[:, 1], s=4, c="#bbbbbb", linewidths=0, label="real (test split)")
    pts = _points(points)
    axes.scatter(pts[:, 0], pts[:, 1], s=4, c=COLOURS[0], linewidths=0, label="samples")
    axes.set_aspect("equal", adjustable="datalim")
    axes.set_xlabel("x\u2081")
    axes.set_ylabel("x\u2082")
    axes.grid(True, color="#eeeeee")
    axes.legend(loc="upper right", fontsize=8, markerscale=3)
    return figure_png(figure)


def series(records: list[dict]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray]]:
    """{(stage, key): (steps, values)} of every finite logged scalar in metrics.jsonl records, in record order."""
    out: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for rec in records:
        for key, value in rec.items():
            if key in RECORD_FIELDS or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value) and "step" in rec:
                out.setdefault((str(rec.get("stage", "")), key), []).append((float(rec["step"]), float(value)))
    return {k: (np.array([p[0] for p in v]), np.array([p[1] for p in v])) for k, v in out.items()}


def smooth(values: np.ndarray) -> np.ndarray:
    """A centred moving average over a tenth of the points, its window shrunk symmetrically near the ends (the first
    and last points are kept), so the smoothed line neither lags behind the raw one nor bends at its ends."""
    n = len(values)
    idx = np.arange(n)
    half = np.minimum(np.minimum(idx, n - 1 - idx), max(1, n // 20))
    sums = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    return (sums[idx + half + 1] - sums[idx - half]) / (2 * half + 1)


def wants_log_scale(values: list[np.ndarray]) -> bool:
    """True when every value is positive and they span at least LOG_DECADES decades."""
    joined = np.concatenate(values) if values else np.zeros(0)
    return bool(len(joined)) and bool((joined > 0).all()) and math.log10(joined.max() / joined.min()) >= LOG_DECADES


def curves_figure(runs: Mapping[str, list[dict]]) -> Any:
    """One panel per (stage, logged key), x the step: every run's raw values as a faint line and their smoothed
    values over it, in one colour per run, on the panel's shared axes. `runs` maps a label ("" for a lone run) to
    its metrics.jsonl records. None when nothing was logged."""
    per_run = {label: series(records) for label, records in runs.items()}
    panels = list(dict.fromkeys(key for s in per_run.values() for key in s))  # in the order first logged
    if not panels:
        return None
    cols = min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    legend = 0.45 if len(runs) > 1 else 0.0
    width, height = PANEL[0] * cols, PANEL[1] * rows + legend
    figure = _figure(width, height)
    stages = {stage for stage, _ in panels}
    (left, right, top, bottom), (w, h) = MARGINS, PANEL
    for i, (stage, key) in enumerate(panels):
        r, c = divmod(i, cols)  # axes placed by hand: a layout engine would double the drawing time
        box = [(c * w + left) / width, (height - legend - (r + 1) * h + bottom) / height,
               (w - left - right) / width, (h - top - bottom) / height]
        axes = figure.add_axes(box)
        drawn = []
        for j, (label, run_series) in enumerate(per_run.items()):
            if (stage, key) not in run_series:
                continue
            steps, values = run_series[(stage, key)]
            colour = COLOURS[j % len(COLOURS)]
            drawn.append(values)
            if len(values) == 1:
                axes.plot(steps, values, "o", color=colour, markersize=4, label=label or None)
            elif len(values) < 8:
                axes.plot(steps, values, color=colour, linewidth=1.5, label=label or None)
            else:
                axes.plot(steps, values, color=colour, linewidth=0.8, alpha=0.3)
                axes.plot(steps, smooth(values), color=colour, linewidth=1.6, label=label or None)
        if wants_log_scale(drawn):
            axes.set_yscale("log")
        axes.set_title(f"{stage}: {key}" if len(stages) > 1 else key, fontsize=10)
        axes.set_xlabel("step")
        axes.set_ylabel(key)
        axes.grid(True, color="#eeeeee")
        axes.tick_params(labelsize=8)
    if len(runs) > 1:
        handles, labels = [], []
        for axes in figure.axes:
            for handle, label in zip(*axes.get_legend_handles_labels()):
                if label not in labels:
                    handles.append(handle)
                    labels.append(label)
        figure.legend(handles, labels, loc="upper center", ncols=min(len(labels), 5), fontsize=9, frameon=False)
    return figure


def curves_png(runs: Mapping[str, list[dict]]) -> bytes | None:
    """`curves_figure(runs)` as PNG bytes, or None when nothing was logged."""
    figure = curves_figure(runs)
    return None if figure is None else figure_png(figure)


# -- files -----------------------------------------------------------------------------------------------------------
def save_samples(samples, path: Path, nrow: int | None = None, reference=None) -> None:
    """Write `samples` as a PNG: a grid for images (N, C, H, W), a scatter plot for points (N, D)."""
    if samples.dim() == 2:
        write_atomically(Path(path), scatter_png(samples, reference))
    else:
        _write_png(grid_image(samples, nrow), path)


def save_curves(records: list[dict], path: Path) -> None:
    """The run's curves (see `curves_figure`) from its metrics.jsonl records; nothing is written when none was logged."""
    png = curves_png({"": records})
    if png is not None:
        write_atomically(Path(path), png)
