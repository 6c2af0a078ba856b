"""Train the `digits` feature network on the digits TRAIN split and write gentool's shipped weights.

Usage: nice -n 10 python scripts/train_digits_classifier.py [--epochs 30] [--seed 0] [--threads 1] [--out PATH]

Seeded and CPU-only (about two minutes on one thread). Random affine jitter (rotation, scale, shift, shear) stands
in for more data; the test split is only scored at the end, never used to choose anything. The features are then
scaled to unit mean square on the train split (a constant stored with the weights). The weights are stored
as float16 safetensors (about 210 KB) with the run's settings and test accuracy in the metadata.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gentool.metrics.digits_classifier import WEIGHTS, DigitsClassifier

DIGITS = Path(__file__).resolve().parents[1] / "core/src/gentool/datasets/data/digits.npz"


def load_split(name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) in [0, 1] and int64 labels of the embedded digits' `name` split."""
    data = np.load(DIGITS)
    index = data[f"{name}_index"]
    x = torch.from_numpy(data["images"][index].astype(np.float32) / 255).unsqueeze(1)
    return x, torch.from_numpy(data["labels"][index].astype(np.int64))


def jitter(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random affine warps: rotation ±12°, scale 0.9-1.1, shear ±0.15, shift ±2.5 px."""
    n = len(x)

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (hi - lo) + lo

    angle, scale = uniform(-12, 12) * math.pi / 180, uniform(0.9, 1.1)
    shear, shift = uniform(-0.15, 0.15), (torch.rand(n, 2, generator=generator) * 2 - 1) * (2.5 / 14)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="zeros", align_corners=False)


@torch.no_grad()
def accuracy(model: DigitsClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    predicted = torch.cat([model(part)["logits"].argmax(1) for part in x.split(500)])
    return round(float((predicted == y).double().mean()), 4)


@torch.no_grad()
def set_feature_scale(model: DigitsClassifier, x: torch.Tensor) -> None:
    """Scale the features to unit mean square per dimension over `x` (the train split)."""
    model.eval()
    model.feature_scale.fill_(1.0)
    features = torch.cat([model(part)["features"] for part in x.split(500)]).double()
    model.feature_scale.fill_(float(features.pow(2).mean().rsqrt()))


def train(epochs: int, seed: int, batch_size: int = 64, lr: float = 3e-3) -> tuple[DigitsClassifier, dict]:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    x, y = load_split("train")
    model = DigitsClassifier()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * math.ceil(len(x) / batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for index in order.split(batch_size):
            loss = F.cross_entropy(model(jitter(x[index], generator))["logits"], y[index])
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
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, info = train(args.epochs, args.seed)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    info["test_accuracy"] = accuracy(model, *load_split("test"))  # scored with the float16 weights as shipped
    print(json.dumps(info))
    from safetensors.torch import save_file

    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out), metadata={k: str(v) for k, v in info.items()})
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
