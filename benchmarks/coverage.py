"""Class coverage of a model's default (or varied) digits run over several seeds: where the missing mass goes.

    python benchmarks/coverage.py --model gan [--seeds 0 1 2] [--set model.ema_decay=0.999 ...] [--label NAME]
                                  [--trace] [--keep DIR]

Each seed trains the model with its defaults plus the --set overrides (as `gentool run --model M --seed S --set ...`),
then 1,000 samples are scored: FID and the share of every class by core's digits classifier. With --trace the run's
sample grids hold 400 images from fixed noise every 500 steps, and each grid is classified too, which shows at which
steps a class thins out. Results are appended to benchmarks/results/coverage_<model>.json under --label (default:
the overrides) and printed as a markdown row. For `cnn`, --refit K... also scores the same trained runs with a mixture
of K components refitted to their latents (1 is GLO's single Gaussian): sampling changes, training does not.
Run alone: other processes distort the timings.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from results_file import store  # beside this script

from gentool.api import Evaluator, build
from gentool.config import apply_set, merge
from gentool.metrics.inception_score import classifier_logits
from gentool.trainer.loop import train

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TRACE_GRID, PAD = 400, 2


def with_overrides(base: dict, overrides: list[str]) -> dict:
    """The raw run config `base` with `--set`-style KEY=VALUE overrides applied."""
    raw = merge(base, {})
    for item in overrides:
        apply_set(raw, item)
    return raw


def shares(evaluator: Evaluator, images: torch.Tensor) -> list[float]:
    """The share of each class among `images` by the digits classifier."""
    config = build("metric", "class-coverage").config
    predicted = classifier_logits(evaluator, images, config).argmax(1)
    counts = torch.bincount(predicted.cpu(), minlength=evaluator.info.num_classes).double()
    return (counts / len(predicted)).tolist()


def grid_tiles(path: Path, size: int = 28) -> torch.Tensor:
    """The images of a saved sample grid (square layout, 2 px padding), grey, (N, 1, size, size)."""
    pixels = np.asarray(Image.open(path).convert("L"), np.float32) / 255.0
    per_row = (pixels.shape[1] - PAD) // (size + PAD)
    rows = (pixels.shape[0] - PAD) // (size + PAD)
    tiles = [pixels[PAD + r * (size + PAD):PAD + r * (size + PAD) + size, PAD + c * (size + PAD):PAD + c * (size + PAD) + size]
             for r in range(rows) for c in range(per_row)]
    return torch.from_numpy(np.stack(tiles))[:, None]


def refit_mixture(model, components: int) -> None:
    """Refit a cnn model's latent mixture with `components` Gaussians to its trained latents, as training's end
    fits it (EM to the same tolerance), and sample from it from now on."""
    from gentool_cnn.mixture import fit_mixture

    model.prior_weights, model.prior_means, model.prior_chols = fit_mixture(model.latents[model.trained], components)
    model.prior_fitted.fill_(True)


def refitted_shares(model, evaluator: Evaluator, components: int) -> list[float]:
    """Class shares of a cnn model's samples after `refit_mixture(model, components)`."""
    refit_mixture(model, components)
    return shares(evaluator, evaluator.samples())


def run_seed(model: str, seed: int, overrides: list[str], out: Path, trace: bool, samples: int,
             refit: list[int]) -> dict:
    raw = with_overrides({"model": {"name": model}, "dataset": {"name": "digits"},
                          "metrics": ["fid", "class-coverage"], "seed": seed, "out": str(out)}, overrides)
    if trace:
        raw = merge(raw, {"trainer": {"grid_size": TRACE_GRID}})
    run = train(raw)
    summary = run.summary
    evaluator = Evaluator(run.model.eval(), build("dataset", "digits"), samples=samples, batch_size=250,
                          device="cpu", seed=seed)
    row = {"seed": seed, "seconds": summary["train_seconds"], "fid": summary["metrics"]["fid"]["fid"],
           "shares": shares(evaluator, evaluator.samples())}
    if trace:
        row["trace"] = {int(re.findall(r"\d+", p.stem)[0]): shares(evaluator, grid_tiles(p))
                        for p in sorted((out / "samples").glob("step_*.png"))}
    for k in refit:
        row[f"shares_k{k}"] = refitted_shares(run.model, Evaluator(run.model, evaluator.dataset, samples=samples,
                                              batch_size=250, device="cpu", seed=seed), k)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="gan")
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--label", default=None)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--trace", action="store_true", help="classify the sample grids every 500 steps")
    parser.add_argument("--refit", type=int, nargs="*", default=[], help="cnn: also score mixtures of K components")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run directories under this folder")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    label = args.label or (" ".join(args.overrides) or "defaults")
    base = args.keep or Path(tempfile.mkdtemp())
    rows = []
    for seed in args.seeds:
        out = base / f"{args.model}-{re.sub(r'[^A-Za-z0-9.]+', '_', label)}-seed{seed}"
        row = run_seed(args.model, seed, args.overrides, out, args.trace, args.samples, args.refit)
        low = int(np.argmin(row["shares"]))
        print(f"{label} seed {seed}: FID {row['fid']:.2f}, min {100 * min(row['shares']):.1f} % (class {low}), "
              f"max {100 * max(row['shares']):.1f} %, {row['seconds']:.0f} s", flush=True)
        for k in args.refit:
            print(f"  refitted with {k} components: min {100 * min(row[f'shares_k{k}']):.1f} %, "
                  f"max {100 * max(row[f'shares_k{k}']):.1f} %", flush=True)
        if "trace" in row:
            for step, values in row["trace"].items():
                print(f"  step {step}: " + " ".join(f"{100 * v:4.1f}" for v in values), flush=True)
        rows.append(row)
    store(RESULTS / f"coverage_{args.model}.json", label, rows)
    mins = [100 * min(r["shares"]) for r in rows]
    print(f"\n| {label} | " + " / ".join(f"{m:.1f}" for m in mins) + " | "
          + " / ".join(f"{r['fid']:.2f}" for r in rows) + " | "
          + " / ".join(f"{r['seconds']:.0f}" for r in rows) + " |")


if __name__ == "__main__":
    main()
