"""Class shares and FID of finished digits runs when their Gaussian latents are drawn wider or narrower; no training.

    python benchmarks/latent_scale.py RUN [RUN...] [--sigmas 0.8 1 1.15 1.3] [--samples 10000] [--seed 11]

For each RUN (an unconditional model whose `draw_latents` gives z ~ N(0, I), e.g. gan) and each sigma, draws `--samples` latents from a generator seeded with `--seed`, scales them by sigma
(truncation below 1, a wider draw above), and reads the images with core's digits classifier: the rarest and the
largest class share, and the FID of the first 1,000 images against the test digits. Shows where in z a rare class
lies: a class that thins under truncation and thickens under a wider draw sits towards the tails.
"""

from __future__ import annotations

import argparse

import torch

from gentool.api import build, load
from gentool.metrics.digits_classifier import load_digits_classifier
from gentool.metrics.frechet import frechet_distance

CHUNK = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0.8, 1.0, 1.15, 1.3])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    classifier = load_digits_classifier(None)
    with torch.no_grad():
        test_features = classifier(build("dataset", "digits").split("test").x)["features"]
    for run in args.runs:
        model = load(run)
        cells = []
        for sigma in args.sigmas:
            z = model.draw_latents(args.samples, generator=torch.Generator().manual_seed(args.seed)) * sigma
            with torch.no_grad():
                read = [classifier(model.generate(z[i : i + CHUNK])) for i in range(0, len(z), CHUNK)]
            logits = torch.cat([r["logits"] for r in read])
            shares = torch.bincount(logits.argmax(1), minlength=logits.shape[1]).double() / len(logits)
            fid = frechet_distance(read[0]["features"], test_features)
            cells.append(f"sigma {sigma:g}: rarest {100 * shares.min():.2f} % (`{int(shares.argmin())}`), largest "
                         f"{100 * shares.max():.2f} %, FID {fid:.2f}")
        print(f"{run}: " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()
