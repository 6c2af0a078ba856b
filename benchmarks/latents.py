"""Projection quality per model on held-out digits, encoder start against random start; interpolation strips.

    python benchmarks/latents.py --runs RUNS [--models gan cgan vae cnn vqvae] [--images 100] [--steps 500]

RUNS holds finished default runs named <model>-digits (what `python benchmarks/quality.py --keep RUNS` leaves).
Each model projects --images test digits spread over the split (their labels given to conditional models) on pixels plus the
digits classifier's features; models with an encoder project twice, from the encoder and from the best of 8
random draws; conditional models once more without their labels (the best class of the draws is kept). A model
without latents but with an encoder (vqvae) gets its plain reconstruction's row, for reference. Updates the models' rows in benchmarks/results/projection_digits.json, a markdown table, and docs/images/ strips:
<model>-interpolation.png (walks between random latents) and <model>-projection.png (target | projection).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from results_file import store  # beside this script

from gentool.api import load
from gentool.images import save_samples
from gentool.latents import interpolate, write_walks
from gentool.project import feature_network, project, psnr

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"


def test_digits(count: int) -> tuple[torch.Tensor, torch.Tensor]:
    from gentool.api import build

    split = build("dataset", "digits").split("test")
    index = torch.linspace(0, len(split) - 1, count).round().long()  # spread over the split: every class
    return split.x[index], split.y[index]


@torch.no_grad()
def reconstruction_row(model, x: torch.Tensor) -> dict:
    """PSNR and feature distance of the model's own reconstruction of x (no optimisation)."""
    _, net = feature_network(model, None)
    images = model.reconstruct(x).float().clamp(0, 1)
    distance = (net(images)["features"].float() - net(x)["features"].float()).pow(2).mean(1)
    return {"psnr": float(psnr(images, x).mean()), "feature_distance": float(distance.mean()),
            "objective_start": float("nan"), "objective_end": float("nan"), "seconds": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=Path, required=True)
    parser.add_argument("--models", nargs="*", default=["gan", "cgan", "vae", "cnn", "vqvae"])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y = test_digits(args.images)
    table = {}
    for name in args.models:
        model = load(args.runs / f"{name}-digits")
        if not hasattr(model, "draw_latents"):
            table[f"{name} (reconstruction, no latents)"] = reconstruction_row(model, x)
            continue
        starts = ["auto", "random"] if hasattr(model, "encode_latents") else ["random"]
        attempts = [(start, y) for start in starts] + ([("random", None)] if model.conditional else [])
        for start, labels in attempts:
            began = time.perf_counter()
            result = project(model, x, labels, steps=args.steps, start=start)
            key = f"{name} ({result.start} start{', label unknown' if model.conditional and labels is None else ''})"
            table[key] = {"psnr": sum(result.psnr) / len(x), "feature_distance": sum(result.feature_distance) / len(x),
                          "objective_start": result.losses[0], "objective_end": result.losses[-1],
                          "seconds": round(time.perf_counter() - began, 1)}
            print(key, {k: round(v, 4) for k, v in table[key].items()}, flush=True)
            if start == starts[0] and labels is y:
                rows = torch.cat([result.targets[::7][:16], result.images[::7][:16]])  # targets above projections
                save_samples(rows, IMAGES / f"{name}-projection.png", nrow=len(rows) // 2)
        write_walks(interpolate(model, n=6, frames=10, labels=[3, 8] if model.conditional else None, seed=1),
                    IMAGES / f"{name}-interpolation.png")
    for name, row in table.items():  # rows of models not run this time are kept
        store(RESULTS / "projection_digits.json", name, row)
    print("\n| model (start) | PSNR (dB) | feature distance | objective start -> end | seconds |\n|---|---|---|---|---|")
    for key, row in table.items():
        objective = (f"{row['objective_start']:.4f} -> {row['objective_end']:.4f}" if row["seconds"] else "–")
        print(f"| {key} | {row['psnr']:.2f} | {row['feature_distance']:.4f} | {objective} | {row['seconds'] or '–'} |")


if __name__ == "__main__":
    main()
