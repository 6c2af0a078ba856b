"""Mode collapse and its cures, side by side: the `gan` MLP pair on the 2-D Gaussian mixtures, `modes` metric.

Each variant trains the same generator and discriminator on the 8-Gaussian ring and the 25-Gaussian grid with the
same seed and budget; the `modes` metric counts the modes that 2,000 samples cover and the share of samples near
any mode. A scatter of every run is saved next to the JSON results.

    python benchmarks/modes.py [--steps 5000] [--seeds 0 1] [--layouts ring grid] [--variants NAME ...] [--threads 2]
    python benchmarks/modes.py --set model.n_critic=5 --set trainer.schedule=constant [--label NAME] [--steps N]

With --set, one variant (the shared base plus the KEY=VALUE overrides, as `gentool run --set`) runs instead of the
table's, and its rows are appended to results/modes_runs.json under --label (default: the overrides).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import torch
from results_file import store  # beside this script

from gentool.config import apply_set, merge
from gentool.trainer.loop import train

RESULTS = Path(__file__).parent / "results"
# on points the image defaults learn too slowly to say anything in a few thousand steps; every variant shares these
# (R1 off: the digits default's penalty is a variant of its own here, applied on every step when it is set).
# The cosine decay of the learning rate lets the points settle on the modes (std 0.02) instead of drifting along the
# ring at a constant step size (at lr 1e-3 constant, 3,000 steps left 0/8 modes within 3 std, cosine 3/8).
BASE = {"lr_generator": 1e-3, "lr_discriminator": 1e-3, "beta1": 0.5, "beta2": 0.999, "batch_size": 128, "ema": False,
        "r1_gamma": 0.0, "r1_every": 1}
TRAINER = {"schedule": "cosine"}
VARIANTS = {
    "plain (pack 1)": {"pack": 1},
    "PacGAN pack 2 (default)": {},
    "spectral norm, pack 1": {"pack": 1, "spectral_norm": True},
    "hinge + spectral norm, pack 1": {"pack": 1, "loss": "hinge", "spectral_norm": True},
    "wasserstein-gp, 5 critic steps, pack 1": {"pack": 1, "loss": "wasserstein-gp", "n_critic": 5},
}


def run_config(layout: str, options: dict, overrides: list[str], steps: int, seed: int, out: Path) -> dict:
    """The raw run config of one variant on one layout: the shared base, the variant's options, then `overrides`."""
    raw = {"model": {"name": "gan", **BASE, **options}, "dataset": {"name": "gaussians", "layout": layout},
           "metrics": ["modes"], "steps": steps, "seed": seed, "out": str(out), "trainer": dict(TRAINER)}
    raw = merge(raw, {})
    for item in overrides:
        apply_set(raw, item)
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    parser.add_argument("--layouts", nargs="*", default=["ring", "grid"])
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), help="names from the table (default: all)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--label", default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    variants = {n: VARIANTS[n] for n in args.variants}
    if args.overrides:
        variants = {args.label or " ".join(args.overrides): {}}
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(exist_ok=True)
    scatters = RESULTS / "modes"
    scatters.mkdir(exist_ok=True)
    rows = []
    base = Path(tempfile.mkdtemp())
    print(f"{'layout':<5} {'variant':<40} {'seed':>4} {'modes covered':>14} {'high quality':>13}")
    for layout in args.layouts:
        for variant, options in variants.items():
            for seed in args.seeds:
                out = base / f"{layout}-{len(rows)}"
                run = train(run_config(layout, options, args.overrides, args.steps, seed, out))
                modes = run.summary["metrics"]["modes"]
                row = {"layout": layout, "variant": variant, "seed": seed, **modes,
                       "seconds": round(run.summary["train_seconds"], 1)}
                rows.append(row)
                grids = sorted((out / "samples").glob("step_*.png"))
                slug = variant.split(",")[0].split(" (")[0].replace(" ", "-").replace("+", "").lower()
                shutil.copy(grids[-1], scatters / f"{layout}-{slug}-seed{seed}.png")
                print(f"{layout:<5} {variant:<40} {seed:>4} {modes['modes_covered']:>6.0f}/{modes['modes_total']:<7.0f} "
                      f"{modes['high_quality_share']:>13.3f} {row['seconds']:>6.0f} s", flush=True)
    if args.overrides:
        store(RESULTS / "modes_runs.json", next(iter(variants)),
              {"steps": args.steps, "overrides": args.overrides, "rows": rows})
    else:
        (RESULTS / "modes.json").write_text(json.dumps({"steps": args.steps, "rows": rows}, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
