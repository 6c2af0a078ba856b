"""Train the `shapes` feature network on the shapes TRAIN split (default options) and write gentool's shipped weights.

Usage: nice -n 10 python scripts/train_shapes_classifier.py [--epochs 12] [--seed 0] [--threads 1] [--out PATH]

Seeded and CPU-only (a few minutes on one thread). Besides the six shape classes, an auxiliary linear head (used in
training only) regresses what each image shows: background colour (the corner pixel), shape colour, covered area
and centroid, read off the image itself; so the features describe colour and placement too. Horizontal flips are
the only augmentation (every shape is symmetric left to right). The test split is scored once, at the end.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gentool.datasets.shapes import Shapes
from gentool.metrics.shapes_classifier import WEIGHTS, ShapesClassifier

sys.path.insert(0, str(Path(__file__).parent))
from train_digits_classifier import accuracy, set_feature_scale  # noqa: E402


def describe(x: torch.Tensor) -> torch.Tensor:
    """(N, 9) auxiliary targets in [0, 1]: background RGB, shape RGB, covered area, centroid x and y."""
    background = x[:, :, 0, 0]
    mask = ((x - background[:, :, None, None]).abs().sum(1) > 0.05).float()
    count = mask.sum((1, 2)).clamp(min=1)
    shape = (x * mask[:, None]).sum((2, 3)) / count[:, None]
    grid = (torch.arange(x.shape[-1], dtype=torch.float32) + 0.5) / x.shape[-1]
    cx = (mask * grid[None, None, :]).sum((1, 2)) / count
    cy = (mask * grid[None, :, None]).sum((1, 2)) / count
    return torch.cat([background, shape, (count / mask[0].numel())[:, None], cx[:, None], cy[:, None]], 1)


def train(epochs: int, seed: int, batch_size: int = 64, lr: float = 3e-3) -> tuple[ShapesClassifier, dict]:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    split = Shapes().split("train")
    x, y = split.x, split.y
    model, aux = ShapesClassifier(), nn.Linear(ShapesClassifier.feature_dim, 9)
    optimizer = torch.optim.AdamW([*model.parameters(), *aux.parameters()], lr=lr, weight_decay=1e-4)
    steps = epochs * math.ceil(len(x) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for index in torch.randperm(len(x), generator=generator).split(batch_size):
            batch = x[index]
            flip = torch.rand(len(batch), generator=generator) < 0.5
            batch = torch.where(flip[:, None, None, None], batch.flip(3), batch)
            hidden = model.hidden(batch)
            loss = F.cross_entropy(model.head(hidden), y[index]) + 10 * F.mse_loss(aux(hidden), describe(batch))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        print(f"epoch {epoch + 1:3d}  loss {total / len(x):.4f}  {time.perf_counter() - started:6.1f} s", flush=True)
    set_feature_scale(model, x)
    info = {"epochs": epochs, "seed": seed, "batch_size": batch_size, "lr": lr,
            "train_seconds": round(time.perf_counter() - started, 1), "train_accuracy": accuracy(model, x, y)}
    return model, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, info = train(args.epochs, args.seed)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    test = Shapes().split("test")
    info["test_accuracy"] = accuracy(model, test.x, test.y)  # scored with the float16 weights as shipped
    print(json.dumps(info))
    from safetensors.torch import save_file

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out), metadata={k: str(v) for k, v in info.items()})
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
