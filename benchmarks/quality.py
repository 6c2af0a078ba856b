"""Every model on its default budget: sample quality, coverage, reconstruction, speed; a markdown table.

    python benchmarks/quality.py [--models gan cgan vae vqvae cnn flow ddpm stylegan] [--dataset digits] [--threads 2]

Each model trains with its defaults (the same as `gentool run --model M`), then every metric that applies is computed
on the held-out test split with 1,000 samples. The final sample grid is copied to docs/images/<model>-<dataset>.png.
For `gan` a second run stops at the first sample grid (same seed, so the same trajectory) to compare FID early/late.
Results go to benchmarks/results/quality_<dataset>.json. Run alone: other processes distort the timings. cyclegan
translates rather than samples: benchmarks/cyclegan_pair.py measures it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import torch
from results_file import store  # beside this script

from gentool.trainer.loop import train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"
METRICS = ["fid", "kid", "is", "precision", "recall", "class-coverage", "recon", "codebook", "class-accuracy", "elbo"]
COLUMNS = [("fid", "fid"), ("fid", "rfid"), ("kid", "kid"), ("is", "is"), ("precision", "precision"),
           ("recall", "recall"), ("class-coverage", "min_share"), ("class-accuracy", "accuracy"), ("recon", "mse"),
           ("codebook", "usage"), ("codebook", "perplexity")]


def flat(metrics: dict) -> dict[str, float]:
    return {f"{m}.{k}": v for m, values in metrics.items() for k, v in values.items() if isinstance(v, (int, float))}


def run_model(name: str, dataset: str, out: Path, steps: int | None = None, metrics=METRICS) -> dict:
    raw = {"model": {"name": name}, "dataset": {"name": dataset}, "metrics": metrics, "out": str(out)}
    if steps:
        raw["steps"] = steps
    result = train(raw)
    return result.summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=["gan", "cgan", "vae", "vqvae", "cnn", "flow", "ddpm", "stylegan"])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the run directories under this folder")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(exist_ok=True)
    IMAGES.mkdir(parents=True, exist_ok=True)
    results_file = RESULTS / f"quality_{args.dataset}.json"
    base = args.keep or Path(tempfile.mkdtemp())
    for name in args.models:
        out = base / f"{name}-{args.dataset}"
        shutil.rmtree(out, ignore_errors=True)
        summary = run_model(name, args.dataset, out)
        row = {"steps": summary["steps"], "wall_seconds": summary["wall_seconds"],
               "train_seconds": summary["train_seconds"], "images_per_second": summary["images_per_second"],
               "peak_memory_mb": summary["peak_memory_mb"], **flat(summary["metrics"])}
        grids = sorted((out / "samples").glob("step_*.png"))
        shutil.copy(grids[-1], IMAGES / f"{name}-{args.dataset}.png")
        if name == "gan":
            first = int(grids[0].stem.split("_")[1])
            early = run_model(name, args.dataset, base / f"{name}-early", steps=first, metrics=["fid"])
            row["fid_first_grid"] = early["metrics"]["fid"]["fid"]
            row["first_grid_step"] = first
        store(results_file, name, row)
        print(f"{name}: " + ", ".join(f"{k}={v:.4g}" for k, v in row.items() if isinstance(v, float)), flush=True)
    header = "| model | " + " | ".join(f"{m} {k}" if m != k else m for m, k in COLUMNS) + " | img/s | train s |"
    print("\n" + header + "\n|" + "---|" * (len(COLUMNS) + 3))
    table = json.loads(results_file.read_text())  # this run's rows and earlier runs' of other models
    for name, row in table.items():
        cells = [f"{row[f'{m}.{k}']:.4g}" if f"{m}.{k}" in row else "–" for m, k in COLUMNS]
        print(f"| {name} | " + " | ".join(cells) + f" | {row['images_per_second']:.0f} | {row['train_seconds']:.0f} |")


if __name__ == "__main__":
    main()
