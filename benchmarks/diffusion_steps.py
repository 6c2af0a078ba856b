"""FID and sampling time against sampler and step count for a trained `flow` or `ddpm` run; a markdown table.

    python benchmarks/diffusion_steps.py runs/flow-... [--samples 1000] [--threads 2] [--grids DIR]
    python benchmarks/diffusion_steps.py runs/ddpm-... --settings ddim:10 ddim:20 ddim:50 ancestral:100

Each setting (SAMPLER:STEPS, default: the issue's list for the run's model) draws `--samples` images with the run's
seed, timed on their own, then scores them with `fid` and `class-coverage` (core's digits classifier on digits).
Network evaluations per image: Euler and DDIM/ancestral one per step, Heun 2 * steps - 1. Results are printed and
written to benchmarks/results/diffusion_steps_<model>.json; with --grids, the first 64 samples of each setting
as a PNG. Run alone: other processes distort the timings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from gentool.api import Evaluator, build, load, save_image_grid

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = {
    "flow": ["euler:5", "euler:10", "euler:20", "euler:50", "heun:5", "heun:10", "heun:20"],
    "ddpm": ["ddim:10", "ddim:20", "ddim:50", "ancestral:100"],
}


def evaluations(sampler: str, steps: int) -> int:
    return 2 * steps - 1 if sampler == "heun" else steps


def measure(model, dataset, sampler: str, steps: int, samples: int, seed: int) -> dict:
    options = {"sampler": sampler, "sample_steps": steps}
    evaluator = Evaluator(model, dataset, samples=samples, batch_size=250, device="cpu", seed=seed,
                          sample_options=model.sample_config(**options))
    start = time.perf_counter()
    images = evaluator.samples()
    seconds = time.perf_counter() - start
    fid = build("metric", "fid").compute(evaluator)["fid"]
    coverage = build("metric", "class-coverage").compute(evaluator)
    return {"sampler": sampler, "steps": steps, "evaluations": evaluations(sampler, steps), "fid": fid,
            "min_share": coverage["min_share"], "max_share": coverage["max_share"], "seconds": seconds,
            "ms_per_image": 1000 * seconds / samples, "images": images[:64]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path, help="a finished flow or ddpm run directory")
    parser.add_argument("--settings", nargs="*", default=None, help="SAMPLER:STEPS pairs (default: per model)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--grids", type=Path, default=None, help="write each setting's first 64 samples here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = json.loads((args.run / "config.json").read_text())
    name = config["model"]["name"]
    model = load(args.run, "cpu").eval()
    dataset = build("dataset", config["dataset"]["name"],
                    {k: v for k, v in config["dataset"].items() if k != "name"})
    with torch.no_grad():
        model.sample(8, options={"sample_steps": 2})  # warm-up, so the first setting's time is not a start-up cost
    rows = []
    for setting in args.settings or DEFAULTS[name]:
        sampler, _, steps = setting.partition(":")
        row = measure(model, dataset, sampler, int(steps), args.samples, config.get("seed", 0))
        if args.grids:
            args.grids.mkdir(parents=True, exist_ok=True)
            save_image_grid(row["images"], args.grids / f"{name}-{sampler}-{steps}.png")
        del row["images"]
        rows.append(row)
        print(f"{sampler} {steps}: FID {row['fid']:.2f}, {row['seconds']:.1f} s", flush=True)
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / f"diffusion_steps_{name}.json").write_text(
        json.dumps({"run": str(args.run), "samples": args.samples, "threads": args.threads, "rows": rows}, indent=2) + "\n"
    )
    print(f"\n| sampler | steps | network evaluations | FID | class shares (min – max) | s per {args.samples} samples |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['sampler']} | {r['steps']} | {r['evaluations']} | {r['fid']:.2f} | "
              f"{100 * r['min_share']:.1f} – {100 * r['max_share']:.1f} % | {r['seconds']:.1f} |")


if __name__ == "__main__":
    main()
