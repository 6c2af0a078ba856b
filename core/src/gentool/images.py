"""PNG output with Pillow: image grids, scatter plots of 2-D samples, and loss curves."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from gentool.rundir import write_atomically

CURVE_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


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


def scatter_image(points, reference=None, size: int = 320) -> Image.Image:
    """A scatter plot of 2-D points (N, 2); `reference` points, if given, are drawn underneath in grey."""
    pts = np.asarray(points.detach().cpu() if hasattr(points, "detach") else points, np.float64)[:, :2]
    both = pts if reference is None else np.concatenate([pts, np.asarray(reference, np.float64)[:, :2]])
    finite = both[np.isfinite(both).all(axis=1)]
    lo, hi = (finite.min(0), finite.max(0)) if len(finite) else (np.zeros(2), np.ones(2))
    span = float(max(hi - lo)) or 1.0
    centre = (hi + lo) / 2
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)

    def to_px(p: np.ndarray) -> np.ndarray:
        return (p - centre) / (span * 1.1) * (size - 1) + (size - 1) / 2

    for group, colour in ((reference, "#bbbbbb"), (pts, "#1f77b4")):
        if group is None:
            continue
        for x, y in to_px(np.asarray(group, np.float64)[:, :2]):
            if np.isfinite(x) and np.isfinite(y):
                draw.ellipse([x - 1.5, size - 1 - y - 1.5, x + 1.5, size - 1 - y + 1.5], fill=colour)
    return image


def save_samples(samples, path: Path, nrow: int | None = None, reference=None) -> None:
    """Write `samples` as a PNG: a grid for images (N, C, H, W), a scatter plot for points (N, D)."""
    image = scatter_image(samples, reference) if samples.dim() == 2 else grid_image(samples, nrow)
    _write_png(image, path)


def save_curves(records: list[dict], path: Path, width: int = 360, height: int = 220) -> None:
    """One panel per logged scalar and stage (x: step, y: value) from metrics.jsonl records."""
    series: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for rec in records:
        for key, value in rec.items():
            if key in ("step", "stage", "time") or not isinstance(value, (int, float)):
                continue
            if math.isfinite(value):
                series.setdefault((rec.get("stage", ""), key), []).append((rec["step"], float(value)))
    if not series:
        return
    cols = min(3, len(series))
    rows = math.ceil(len(series) / cols)
    image = Image.new("RGB", (cols * width, rows * height), "white")
    draw = ImageDraw.Draw(image)
    for i, ((stage, key), pts) in enumerate(sorted(series.items())):
        ox, oy = (i % cols) * width, (i // cols) * height
        left, top, right, bottom = ox + 50, oy + 22, ox + width - 10, oy + height - 24
        draw.rectangle([left, top, right, bottom], outline="#888888")
        draw.text((ox + 50, oy + 5), f"{stage}: {key}", fill="black")
        steps, values = np.array([p[0] for p in pts], float), np.array([p[1] for p in pts], float)
        v_lo, v_hi = float(values.min()), float(values.max())
        s_lo, s_hi = float(steps.min()), float(steps.max())
        draw.text((ox + 2, top), f"{v_hi:.3g}", fill="#444444")
        draw.text((ox + 2, bottom - 10), f"{v_lo:.3g}", fill="#444444")
        draw.text((left, bottom + 4), f"{int(s_lo)}", fill="#444444")
        draw.text((right - 40, bottom + 4), f"{int(s_hi)}", fill="#444444")
        xs = left + (steps - s_lo) / ((s_hi - s_lo) or 1) * (right - left)
        ys = bottom - (values - v_lo) / ((v_hi - v_lo) or 1) * (bottom - top)
        colour = CURVE_COLOURS[i % len(CURVE_COLOURS)]
        if len(xs) == 1:
            draw.ellipse([xs[0] - 2, ys[0] - 2, xs[0] + 2, ys[0] + 2], fill=colour)
        else:
            draw.line(list(zip(xs.tolist(), ys.tolist())), fill=colour, width=2)
    _write_png(image, path)
