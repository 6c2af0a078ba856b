"""Cell rebalancing on a finished `gan` digits run: does matching the share of each k-means cell of the real images
rebalance the classes? No training.

    python benchmarks/gan_cells.py RUN [RUN ...] [--samples 30000] [--cells 16 32 64] [--caps 2 3]

The train digits, average-pooled to 14x14, are cut into k cells by k-means; the first 8,192 of `--samples` draws
give the generator's share of each cell, and each later draw of cell c is kept with probability
min(r_c, cap) / cap, r_c = real share / sample share (rejection sampling from the histogram estimate of
p_data / p_G, label-free). Printed per run: the rarest and largest class of the kept samples (core's digits
classifier), the mean FID of up to five blocks of 1,000 of them and the acceptance, then the same without rejection.
Results: benchmarks/results/gan_cells.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

# benchmarks/gan_rejection.py, beside this script (its folder is first on sys.path): the same rarest/largest/FID summary
from gan_rejection import BLOCK, summary
from results_file import store  # beside this script
from torch.nn import functional

from gentool.api import build, load
from gentool.metrics.digits_classifier import load_digits_classifier

RESULTS = Path(__file__).resolve().parent / "results" / "gan_cells.json"
PILOT = 8192


def pooled(x: torch.Tensor) -> torch.Tensor:
    """Images (N, 1, 28, 28) to the 196-d vectors the cells are fitted on."""
    return functional.avg_pool2d(x.float(), 2).flatten(1)


def kmeans(x: torch.Tensor, k: int, generator: torch.Generator, iterations: int = 40) -> torch.Tensor:
    """k centres of the rows of x: k-means++ seeding, then Lloyd steps (an empty cell keeps its centre)."""
    centres = x[torch.randint(len(x), (1,), generator=generator)]
    for _ in range(1, k):
        nearest = torch.cdist(x, centres).min(1).values ** 2
        centres = torch.cat([centres, x[torch.multinomial(nearest / nearest.sum(), 1, generator=generator)]])
    for _ in range(iterations):
        owner = torch.cdist(x, centres).argmin(1)
        counts = torch.bincount(owner, minlength=k).float()
        sums = torch.zeros_like(centres).index_add_(0, owner, x)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    return centres


@torch.no_grad()
def score(run: Path, args: argparse.Namespace) -> dict:
    model = load(run).eval()
    classifier = load_digits_classifier(None)
    data = build("dataset", "digits")
    real = pooled(data.split("train").x)
    test = classifier(data.split("test").x)["features"].double()
    generator = torch.Generator().manual_seed(args.seed)
    images = torch.cat([model.sample(BLOCK, generator=generator) for _ in range(args.samples // BLOCK)])
    read = [classifier(images[i:i + BLOCK]) for i in range(0, len(images), BLOCK)]
    classes = torch.cat([r["logits"].argmax(1) for r in read])
    features = torch.cat([r["features"] for r in read]).double()
    row = {"none": summary(classes[PILOT:], features[PILOT:], test) | {"kept": len(images) - PILOT}, "cells": {}}
    coins = torch.rand(len(images), generator=torch.Generator().manual_seed(args.seed + 1))
    for k in args.cells:
        centres = kmeans(real, k, torch.Generator().manual_seed(0))
        real_share = torch.bincount(torch.cdist(real, centres).argmin(1), minlength=k).double() / len(real)
        owner = torch.cdist(pooled(images), centres).argmin(1)
        ratio = real_share / (torch.bincount(owner[:PILOT], minlength=k).double() / PILOT).clamp(min=1e-4)
        for cap in args.caps:
            keep = coins < (ratio.clamp(max=cap) / cap)[owner].float()
            keep[:PILOT] = False
            result = summary(classes[keep], features[keep], test) | {"kept": int(keep.sum())}
            result |= {"acceptance": keep[PILOT:].float().mean().item(), "ratio_range": [ratio.min().item(), ratio.max().item()]}
            row["cells"][f"{k}/{cap:g}"] = result
            print(f"{run.name} k={k} cap={cap:g}: ratio {ratio.min():.2f} - {ratio.max():.2f}, accepted "
                  f"{result['acceptance']:.3f}, rarest {100 * result['rarest']:.2f} % (`{result['rarest_class']}`), "
                  f"largest {100 * result['largest']:.2f} %, FID {result['fid']:.2f}")
    none = row["none"]
    print(f"{run.name} without rejection: rarest {100 * none['rarest']:.2f} % (`{none['rarest_class']}`), largest "
          f"{100 * none['largest']:.2f} %, FID {none['fid']:.2f}")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--samples", type=int, default=30_000)
    parser.add_argument("--cells", type=int, nargs="*", default=[16, 32, 64])
    parser.add_argument("--caps", type=float, nargs="*", default=[2.0, 3.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for run in args.runs:
        store(RESULTS, run.name, score(run, args))


if __name__ == "__main__":
    main()
