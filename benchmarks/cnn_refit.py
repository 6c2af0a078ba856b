"""Refit a trained cnn (GLO) run's latent mixture with other settings and score the samples; no training.

    python benchmarks/cnn_refit.py RUN [RUN...] [--components 40 70 100] [--prior kernel mixture]
                                   [--bandwidth 0.4 0.5 0.6] [--temperature 1.0 0.8]

Each RUN is a finished `cnn` run on digits (e.g. the folders `benchmarks/coverage.py --model cnn --keep DIR` leaves).
For every K the mixture is fitted to the run's trained latents exactly as training's end does (EM, k-means++ seeds
drawn with seed 0, tolerance 1e-7). Each prior is scored: `kernel` (the default sampler: a trained latent moved by
`--bandwidth` times its component's spread) at every bandwidth, `mixture` (draws of the mixture itself) at every
`--temperature` (a scale of each component's spread; 1 leaves it). 1,000 samples drawn with the run's own seed are
scored by core's digits classifier (class shares), FID, KID, Inception Score, precision and recall, and by how close
they sit to the training images: `copies` is the share of samples nearer (L2 in pixels) to a training image than 95 %
of the test images are (so held-out data scores 0.05). 10,000 more samples give the class shares with less noise.
The run's reconstructions of its training images are classified too, which separates what the generator can draw
from what the sampler draws. Results: benchmarks/results/cnn_refit.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

# benchmarks/coverage.py, beside this script (its folder is first on sys.path): one way to refit and to count classes
from coverage import refit_mixture
from coverage import shares as class_shares
from results_file import store  # beside this script

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


def nearest_train_distance(images: torch.Tensor, train: torch.Tensor) -> torch.Tensor:
    """Each image's L2 distance (in pixels) to its nearest training image."""
    flat = train.flatten(1)
    return torch.cat([torch.cdist(part.flatten(1).float(), flat).min(1).values for part in images.split(500)])


def score(run: Path, components: list[int], priors: list[str], bandwidths: list[float],
          temperatures: list[float]) -> dict:
    model = load(run).eval()
    seed = int(json.loads((run / "config.json").read_text())["seed"])
    dataset = build("dataset", "digits")
    train = dataset.split("train").x[model.trained.cpu()]
    copy_radius = nearest_train_distance(dataset.split("test").x[:1000], train).quantile(0.05)
    result = {"seed": seed, "reconstruction_shares": reconstruction_shares(model, Evaluator(model, dataset, seed=seed))}
    variants = [("kernel", b) for b in bandwidths if "kernel" in priors] + \
               [("mixture", t) for t in temperatures if "mixture" in priors]
    for k in components:
        refit_mixture(model, k)
        chols = model.prior_chols.clone()
        for prior, value in variants:
            model.prior_chols = chols * value if prior == "mixture" else chols
            options = {"prior": prior} | ({"bandwidth": value} if prior == "kernel" else {})
            evaluator = Evaluator(model, dataset, samples=1000, seed=seed, sample_options=options)
            many = Evaluator(model, dataset, samples=10_000, seed=seed + 1, sample_options=options)
            metrics = evaluate(model, dataset, [("fid", {}), ("kid", {}), ("is", {}), ("precision", {}), ("recall", {})],
                               seed=seed, sample_options=options)
            samples = evaluator.samples()
            row = {"shares": class_shares(evaluator, samples), "shares_10k": class_shares(many, many.samples()),
                   "fid": metrics["fid"]["fid"], "kid": metrics["kid"]["kid"], "is": metrics["is"]["is"],
                   "precision": metrics["precision"]["precision"], "recall": metrics["recall"]["recall"],
                   "copies": float((nearest_train_distance(samples, train) < copy_radius).float().mean())}
            label = f"K={k}, {prior}, " + (f"bandwidth {value}" if prior == "kernel" else f"temperature {value}")
            result[label] = row
            print(f"{run.name} {label}: min {100 * min(row['shares']):.1f} % (of 10,000: "
                  f"{100 * min(row['shares_10k']):.1f} %), FID {row['fid']:.2f}, precision {row['precision']:.3f}, "
                  f"recall {row['recall']:.3f}, copies {row['copies']:.3f}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--components", type=int, nargs="*", default=[40, 70, 100])
    parser.add_argument("--prior", nargs="*", default=["kernel", "mixture"], choices=["kernel", "mixture"])
    parser.add_argument("--bandwidth", type=float, nargs="*", default=[0.5])
    parser.add_argument("--temperature", type=float, nargs="*", default=[1.0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for run in args.runs:
        store(RESULTS, run.name, score(run, args.components, args.prior, args.bandwidth, args.temperature), merge=True)


if __name__ == "__main__":
    main()
