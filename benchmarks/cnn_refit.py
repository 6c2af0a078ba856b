"""Refit a trained cnn (GLO) run's latent mixture with other settings and score the samples; no training.

    python benchmarks/cnn_refit.py RUN [RUN...] [--components 40 70 100] [--temperature 1.0 0.8]

Each RUN is a finished `cnn` run on digits (e.g. the folders `benchmarks/coverage.py --model cnn --keep DIR` leaves).
For every K the mixture is fitted to the run's trained latents exactly as training's end does (EM, k-means++ seeds
drawn with seed 0, tolerance 1e-7); `--temperature` scales each component's spread at sampling (1 leaves it).
1,000 samples drawn with the run's own seed are scored by core's digits classifier (class shares), FID, KID,
Inception Score, precision and recall. The run's reconstructions of its training images are classified too, which separates what the
generator can draw from what the sampler draws. Results: benchmarks/results/cnn_refit.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

# benchmarks/coverage.py, beside this script (its folder is first on sys.path): one way to refit and to count classes
from coverage import refit_mixture
from coverage import shares as class_shares

from gentool.api import Evaluator, build, load
from gentool.evaluate import evaluate

RESULTS = Path(__file__).resolve().parent / "results" / "cnn_refit.json"


@torch.no_grad()
def reconstruction_shares(model, evaluator: Evaluator) -> list[float]:
    """Class shares of the generator's output for the run's own trained latents."""
    index = model.trained.nonzero().squeeze(1)
    images = torch.cat([model.reconstruct_index(index[i:i + 500]).float().clamp(0, 1)
                        for i in range(0, len(index), 500)])
    return class_shares(evaluator, images)


def score(run: Path, components: list[int], temperatures: list[float]) -> dict:
    model = load(run).eval()
    seed = int(json.loads((run / "config.json").read_text())["seed"])
    dataset = build("dataset", "digits")
    result = {"seed": seed, "reconstruction_shares": reconstruction_shares(model, Evaluator(model, dataset, seed=seed))}
    for k in components:
        refit_mixture(model, k)
        chols = model.prior_chols.clone()
        for t in temperatures:
            model.prior_chols = chols * t
            evaluator = Evaluator(model, dataset, samples=1000, seed=seed)
            metrics = evaluate(model, dataset, [("fid", {}), ("kid", {}), ("is", {}), ("precision", {}), ("recall", {})], seed=seed)
            row = {"shares": class_shares(evaluator, evaluator.samples()), "fid": metrics["fid"]["fid"],
                   "kid": metrics["kid"]["kid"], "is": metrics["is"]["is"], "precision": metrics["precision"]["precision"], "recall": metrics["recall"]["recall"]}
            result[f"K={k}, temperature {t}"] = row
            print(f"{run.name} K={k} t={t}: min {100 * min(row['shares']):.1f} %, max {100 * max(row['shares']):.1f} %,"
                  f" FID {row['fid']:.2f}, precision {row['precision']:.3f}, recall {row['recall']:.3f}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--components", type=int, nargs="*", default=[40, 70, 100])
    parser.add_argument("--temperature", type=float, nargs="*", default=[1.0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    table = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for run in args.runs:
        table.setdefault(run.name, {}).update(score(run, args.components, args.temperature))
        RESULTS.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
