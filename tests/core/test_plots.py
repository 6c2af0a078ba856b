"""Plots a person reads: the run's curves and the toy data's scatter plots, drawn with matplotlib."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from gentool.images import curves_figure, save_curves, save_samples, smooth


def records(steps=40, stages=("fit",)):
    """metrics.jsonl-like records: a loss falling over three decades and a flat one, per stage."""
    out = []
    for stage in stages:
        for step in range(1, steps + 1):
            out.append({"step": step, "stage": stage, "time": step / 10, "loss": 10.0 * 0.84**step,
                        "d_fake": 0.5 + 0.05 * np.sin(step)})
    return out


def test_curves_have_labelled_axes_a_panel_per_stage_and_key_and_log_scale_where_values_span_decades():
    figure = curves_figure({"": records(stages=("autoencoder", "prior"))})
    panels = {axes.get_title(): axes for axes in figure.axes}
    assert set(panels) == {"autoencoder: loss", "autoencoder: d_fake", "prior: loss", "prior: d_fake"}
    for title, axes in panels.items():
        assert axes.get_xlabel() == "step" and axes.get_ylabel() == title.split(": ")[1]
    assert panels["autoencoder: loss"].get_yscale() == "log"  # 10 -> 0.01: three decades
    assert panels["autoencoder: d_fake"].get_yscale() == "linear"
    raw, smoothed = panels["prior: d_fake"].get_lines()
    assert raw.get_alpha() < 1 and smoothed.get_linewidth() > raw.get_linewidth()  # the smoothed line over the raw
    assert np.ptp(smoothed.get_ydata()) < np.ptp(raw.get_ydata())


def test_negative_values_never_get_a_log_axis():
    recs = [{"step": s, "stage": "fit", "g_loss": -(10.0**(s / 10))} for s in range(1, 40)]
    (axes,) = curves_figure({"": recs}).axes
    assert axes.get_yscale() == "linear" and axes.get_title() == "g_loss"


def test_shared_axes_put_every_run_in_one_panel_with_a_legend():
    figure = curves_figure({"gan": records(), "vae": records(steps=20)})
    assert len(figure.axes) == 2 and all(len(axes.get_lines()) == 4 for axes in figure.axes)
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["gan", "vae"]


def test_smoothing_keeps_a_straight_line_to_its_ends_and_evens_out_noise():
    values = np.arange(50, dtype=float)
    assert np.allclose(smooth(values), values)
    noisy = values + np.random.default_rng(0).normal(0, 5, 50)
    assert np.abs(smooth(noisy) - values)[3:-3].mean() < np.abs(noisy - values)[3:-3].mean() / 1.5


def test_curves_png_is_written_atomically_and_nothing_when_nothing_was_logged(tmp_path):
    path = tmp_path / "curves.png"
    save_curves(records(stages=("a", "b")), path)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] >= 800 and image.size[1] >= 500
        assert len(np.unique(np.asarray(image.convert("L")))) > 20  # text, lines and grid, not a blank canvas
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temporary file left behind
    save_curves([{"step": 1, "stage": "fit", "note": "text only"}], tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


def test_scatter_of_points_draws_samples_over_the_real_data(tmp_path):
    path = tmp_path / "points.png"
    save_samples(torch.randn(300, 2) * 0.2 + 2, path, reference=torch.randn(500, 2))
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("RGB")).reshape(-1, 3).astype(int)
    blue = ((pixels[:, 2] - pixels[:, 0]) > 80).sum()
    grey = ((abs(pixels[:, 0] - 187) < 8) & (abs(pixels[:, 2] - 187) < 8)).sum()
    assert blue > 200 and grey > 200  # both sets are drawn


def test_gentool_list_imports_no_matplotlib():
    code = (
        "import sys\nfrom gentool.cli import main\n"
        "try:\n    main(['list'])\nexcept SystemExit:\n    pass\n"
        "print('MPL' if 'matplotlib' in sys.modules else 'NO-MPL')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip().endswith("NO-MPL")
