"""Discriminator rejection sampling (Azadi et al. 2019) on a finished `gan` digits run: does D's logit rebalance the
classes? No training.

    python benchmarks/gan_rejection.py RUN [--samples 20000] [--quantiles 50 75 90 95 99] [--seed 5]

`--samples` images are drawn from the run and scored by its discriminator in eval mode, in runs of `pack` as D judged
them in training. For the nonsaturating loss the optimal logit is log p_data / p_G, so accepting each scored group with
probability min(1, exp(logit - q)) moves the samples toward the data; q is the given percentile of the logits (higher:
closer to exact rejection sampling, fewer accepted). Printed: the mean logit of groups holding each class (core's digits
classifier), then per q the acceptance, the rarest and largest class of the accepted samples and the mean FID of up to
five blocks of 1,000 of them; the last line is the same without rejection. Results: benchmarks/results/gan_rejection.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from results_file import store  # beside this script

from gentool.api import build, load
from gentool.metrics.digits_classifier import load_digits_classifier
from gentool.metrics.frechet import frechet_distance

RESULTS = Path(__file__).resolve().parent / "results" / "gan_rejection.json"
BLOCK = 1000


def summary(classes: torch.Tensor, features: torch.Tensor, test: torch.Tensor) -> dict:
    """Rarest and largest class share of `classes` (N,), and the mean FID of up to five blocks of 1,000."""
    shares = torch.bincount(classes, minlength=10).double() / len(classes)
    blocks = [features[i:i + BLOCK] for i in range(0, min(len(features) // BLOCK, 5) * BLOCK, BLOCK)]
    fid = sum(frechet_distance(b, test) for b in blocks) / max(len(blocks), 1)
    return {"rarest": shares.min().item(), "rarest_class": int(shares.argmin()), "largest": shares.max().item(),
            "fid": fid}


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--quantiles", type=float, nargs="*", default=[50, 75, 90, 95, 99])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = load(args.run).eval()
    classifier = load_digits_classifier(None)
    test = classifier(build("dataset", "digits").split("test").x)["features"].double()
    generator = torch.Generator().manual_seed(args.seed)
    images = torch.cat([model.sample(BLOCK, generator=generator) for _ in range(args.samples // BLOCK)])
    read = [classifier(images[i:i + BLOCK]) for i in range(0, len(images), BLOCK)]
    classes = torch.cat([r["logits"].argmax(1) for r in read])
    features = torch.cat([r["features"] for r in read]).double()
    logits = torch.cat([model.critic(model.to_critic(images[i:i + BLOCK])) for i in range(0, len(images), BLOCK)])
    pack = model.config.pack
    groups = classes[: len(logits) * pack].view(-1, pack)
    row = {"run": str(args.run), "samples": len(images), "logit_sd": logits.std().item(),
           "class_logit": [logits[(groups == c).any(1)].mean().item() for c in range(10)], "rejection": {}}
    print(f"logit mean {logits.mean():.3f}, sd {row['logit_sd']:.3f}; mean logit of groups holding each class: "
          + ", ".join(f"{c}: {v:+.3f}" for c, v in enumerate(row["class_logit"])))
    draws = torch.rand(len(logits), generator=torch.Generator().manual_seed(args.seed + 1))
    for q in args.quantiles:
        accept = draws < torch.exp(logits - torch.quantile(logits, q / 100)).clamp(max=1)
        kept = accept.repeat_interleave(pack)
        result = {"acceptance": accept.float().mean().item(),
                  **summary(classes[: len(kept)][kept], features[: len(kept)][kept], test)}
        row["rejection"][str(q)] = result
        print(f"q = {q:g}th percentile: accepted {result['acceptance']:.3f}, rarest class {100 * result['rarest']:.2f} % "
              f"(`{result['rarest_class']}`), largest {100 * result['largest']:.2f} %, FID {result['fid']:.2f}")
    row["all"] = summary(classes, features, test)
    print(f"no rejection: rarest class {100 * row['all']['rarest']:.2f} % (`{row['all']['rarest_class']}`), "
          f"largest {100 * row['all']['largest']:.2f} %, FID {row['all']['fid']:.2f}")
    store(RESULTS, args.run.name, row)


if __name__ == "__main__":
    main()
