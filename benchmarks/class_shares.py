"""Class shares of 10,000 samples of finished digits runs, and FID of five draws of 1,000 of them; no training.

    python benchmarks/class_shares.py RUN [RUN...] [--samples 10000] [--seed 11] [--sigma 1]

A rarest class near 8 % moves by about 0.9 points between draws of 1,000 samples; 10,000 samples pin it to about
0.3, which is what comparing two defaults needs. Each RUN (e.g. a folder `benchmarks/coverage.py --keep DIR` leaves)
is loaded, `--samples` images are drawn with the run's sample options from a generator seeded with `--seed` (not the
run's own seed, so they are not the 1,000 that coverage.py scored) and read by core's digits classifier; FID is that
of consecutive blocks of 1,000 against the test digits, mean and standard deviation over the first five. Each line
also gives the odds that a draw of 1,000 from a generator with exactly these shares keeps every class at 7.5 % or
more (issue 22's test per seed; cubed for three seeds), first for the real test digits' shares, and the recall of
each class: the share of its test digits inside the k-NN manifold (k = 3) of the first 1,000 samples' features
(Kynkäänniemi et al. 2019), which tells a class drawn too rarely (its digits still reached) from one whose kinds are
dropped. `--sigma S` draws the latents of a model with z ~ N(0, I) scaled by S instead (truncation below 1, a wider
draw above), which shows where in z a rare class lies. Results: benchmarks/results/class_shares.json.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import torch
from results_file import store  # beside this script

from gentool.api import Evaluator, build, load
from gentool.metrics.digits_classifier import load_digits_classifier
from gentool.metrics.frechet import frechet_distance
from gentool.metrics.precision_recall import knn_radii, manifold_share

RESULTS = Path(__file__).resolve().parent / "results" / "class_shares.json"
BLOCK = 1000
FLOOR = 0.075
RECALL_K = 3  # the recall metric's default


def pass_odds(shares: torch.Tensor, samples: int = BLOCK, trials: int = 20_000) -> float:
    """Probability that `samples` draws from the class distribution `shares` (K,) hold every class at FLOOR or
    more, estimated from `trials` multinomial draws with a fixed seed."""
    counts = torch.distributions.Multinomial(samples, probs=shares.double()).sample((trials,))
    return (counts.min(dim=1).values >= FLOOR * samples).double().mean().item()


@torch.no_grad()
def draw(model, samples: int, seed: int, sigma: float) -> torch.Tensor:
    """`samples` images of `model` as its evaluation draws them; with `sigma` != 1 from its latents scaled by sigma
    (z ~ N(0, sigma^2 I) for a model with Gaussian latents: truncation below 1, a wider draw above)."""
    if sigma == 1:
        return Evaluator(model, build("dataset", "digits"), samples=samples, seed=seed).samples()
    z = model.draw_latents(samples, generator=torch.Generator().manual_seed(seed)) * sigma
    return torch.cat([model.generate(z[i:i + BLOCK]) for i in range(0, samples, BLOCK)])


@torch.no_grad()
def score(run: Path, samples: int, seed: int, classifier, test_features: torch.Tensor, test_labels: torch.Tensor,
          sigma: float = 1.0) -> dict:
    """Class shares of `samples` samples of `run`, FID of its first five blocks of 1,000, recall of each class."""
    model = load(run).eval()
    images = draw(model, samples, seed, sigma)
    outputs = [classifier(images[i:i + BLOCK]) for i in range(0, samples, BLOCK)]
    predicted = torch.cat([o["logits"].argmax(1) for o in outputs])
    shares = (torch.bincount(predicted, minlength=10).double() / samples).tolist()
    fids = [frechet_distance(o["features"].double(), test_features) for o in outputs[:5] if len(o["features"]) == BLOCK]
    radii = knn_radii(outputs[0]["features"], RECALL_K)
    recall = [manifold_share(test_features[test_labels == c], outputs[0]["features"], radii) for c in range(10)]
    return {"samples": samples, "seed": seed, "shares": shares, "fid_blocks": fids, "recall_per_class": recall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sigma", type=float, default=1.0,
                        help="scale the run's latents (models with z ~ N(0, I)); rows are then named RUN-sigmaS")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    classifier = load_digits_classifier(None)
    split = build("dataset", "digits").split("test")
    with torch.no_grad():
        test = classifier(split.x)
    test_labels = split.y
    test_features = test["features"].double()
    torch.manual_seed(0)
    real = torch.bincount(test["logits"].argmax(1), minlength=10).double() / len(test["logits"])
    odds = pass_odds(real)
    print(f"test digits: classes {100 * real.min():.1f} - {100 * real.max():.1f} %; a generator with these shares "
          f"passes {odds:.2f} per seed, {odds ** 3:.2f} on three")
    for run in args.runs:
        row = score(run, args.samples, args.seed, classifier, test_features, test_labels, args.sigma)
        name = run.name if args.sigma == 1 else f"{run.name}-sigma{args.sigma:g}"
        store(RESULTS, name, row | ({"sigma": args.sigma} if args.sigma != 1 else {}))
        shares, fids = row["shares"], row["fid_blocks"]
        rarest = min(range(10), key=shares.__getitem__)
        spread = f" sd {statistics.stdev(fids):.2f}" if len(fids) > 1 else ""
        print(f"{name}: rarest class {100 * shares[rarest]:.2f} % (`{rarest}`), largest {100 * max(shares):.2f} %; "
              f"FID of {len(fids)} blocks of {BLOCK}: mean {statistics.mean(fids):.2f}{spread}; "
              f"passes {(odds := pass_odds(torch.tensor(shares))):.2f} per seed, {odds ** 3:.2f} on three; recall per "
              f"class {' '.join(f'{r:.2f}' for r in row['recall_per_class'])}", flush=True)


if __name__ == "__main__":
    main()
