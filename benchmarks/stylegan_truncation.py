"""Truncation trade-off of a trained `stylegan` run: FID, precision, recall and class shares for several psi.

    python benchmarks/stylegan_truncation.py RUN_DIR [--psi 1.0 0.85 0.7 0.5] [--samples 1000] [--images DIR]

Loads the run (its averaged generator), samples `--samples` images per psi with the same seed, and measures them
against the held-out test split of the run's dataset with core's metrics (the digits classifier on digits).
Prints a markdown table; `--images DIR` also writes one 8x8 grid per psi and a style-mixing grid there.
Wrap it in `flock /tmp/gentool-cpu.lock` on a shared machine; it uses 2 threads.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from gentool.api import build, evaluate, load, save_image_grid

METRICS = [("fid", {}), ("precision", {}), ("recall", {}), ("class-coverage", {})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished stylegan run directory")
    parser.add_argument("--psi", type=float, nargs="*", default=[1.0, 0.85, 0.7, 0.5])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=Path, default=None, help="write sample grids here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = json.loads((args.run / "config.json").read_text())
    section = dict(config["dataset"])
    dataset = build("dataset", section.pop("name"), section, prefix="dataset")
    model = load(args.run).eval()
    rows = []
    for psi in args.psi:
        options = {"truncation": psi}
        results = evaluate(model, dataset, METRICS, samples=args.samples, seed=0, sample_options=options)
        coverage = results["class-coverage"]
        rows.append((psi, results["fid"]["fid"], results["precision"]["precision"], results["recall"]["recall"],
                     coverage.get("min_share", float("nan")), coverage.get("max_share", float("nan"))))
        if args.images:
            args.images.mkdir(parents=True, exist_ok=True)
            grid = model.sample(64, generator=torch.Generator().manual_seed(0), options=options)
            save_image_grid(grid, args.images / f"stylegan-psi{psi:g}.png", nrow=8)
    if args.images:
        grid = model.sample(64, generator=torch.Generator().manual_seed(1), options={"mixing_grid": True})
        save_image_grid(grid, args.images / "stylegan-mixing.png", nrow=8)
    print(f"Truncation on {args.run} ({args.samples} samples per row)\n")
    print("| psi | FID | precision | recall | class shares (min - max) |")
    print("|---|---|---|---|---|")
    for psi, fid, precision, recall, lo, hi in rows:
        print(f"| {psi:g} | {fid:.2f} | {precision:.3f} | {recall:.3f} | {100 * lo:.1f} - {100 * hi:.1f} % |")


if __name__ == "__main__":
    main()
