"""How well finished cyclegan runs on the demo pair keep the class of b2a translations on training images against
unseen ones, as read by the digits-m network (what the semantic term trains against) and by core's digits network
(what class preservation judges with). No training.

    python benchmarks/cyclegan_generalization.py RUN [RUN ...] [--images 1000]

For each run: F(b) of the first `--images` training images of domain B and of the 1,000 test images, each read by
both networks; printed is the share read as the source digit's true class, then the confusion matrix of core's
network on the test translations (rows: true class). Also printed once: each network's accuracy on the untranslated
test images it was made for (and the digits-m network's on grey digits). Results: benchmarks/results/cyclegan_generalization.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from results_file import store  # beside this script
from torch import nn

from gentool.api import build, load
from gentool_cyclegan.maths import network_channels, to_channels

RESULTS = Path(__file__).resolve().parent / "results" / "cyclegan_generalization.json"


def classes(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The class `net` reads in each image of x (in [0, 1]), converted to the network's channel count."""
    channels = network_channels(net, x.shape[1])
    return torch.cat([net(to_channels(x[i:i + 500], channels))["logits"].argmax(1) for i in range(0, len(x), 500)])


def translated(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """F(x): the run's b2a translation of images in [0, 1], 500 at a time."""
    return torch.cat([model.translate(x[i:i + 500], "b2a") for i in range(0, len(x), 500)])


@torch.no_grad()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    digits_m, digits = build("features", "digits-m", {}).eval(), build("features", "digits", {}).eval()
    pair = build("dataset", "digits-m-pair")
    test_a, test_b = pair.split("test").domains
    train_b = pair.split("train").domains[1]
    base = {
        "digits-m on B test": (classes(digits_m, test_b.x) == test_b.y).float().mean().item(),
        "digits-m on A test (grey)": (classes(digits_m, test_a.x) == test_a.y).float().mean().item(),
        "digits on A test": (classes(digits, test_a.x) == test_a.y).float().mean().item(),
    }
    print(", ".join(f"{k}: {v:.3f}" for k, v in base.items()))
    for run in args.runs:
        model = load(run).eval()
        row = {}
        for split, b in (("train", train_b), ("test", test_b)):
            x, y = b.x[: args.images], b.y[: args.images]
            fake = translated(model, x)
            read_m, read_d = classes(digits_m, fake), classes(digits, fake)
            row[split] = {"digits-m": (read_m == y).float().mean().item(), "digits": (read_d == y).float().mean().item()}
        confusion = torch.zeros(10, 10, dtype=torch.long)
        confusion.index_put_((test_b.y[: args.images], read_d), torch.ones_like(read_d), accumulate=True)
        row["test_confusion_digits"] = confusion.tolist()
        print(f"{run.name}: F(b) read as the true class, training images: digits-m {row['train']['digits-m']:.3f}, "
              f"digits {row['train']['digits']:.3f}; test images: digits-m {row['test']['digits-m']:.3f}, "
              f"digits {row['test']['digits']:.3f}")
        print(confusion)
        store(RESULTS, run.name, row | {"untranslated": base})


if __name__ == "__main__":
    main()
