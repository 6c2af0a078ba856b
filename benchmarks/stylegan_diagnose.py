"""Short diagnostic runs of `stylegan` on the digits: FID and class shares of the averaged and the raw generator
every few steps, so a collapse (one class taking most samples) and its recovery show as they happen.

    python benchmarks/stylegan_diagnose.py --steps 600 --every 300 --set output=linear --set mbstd_group=16
    python benchmarks/stylegan_diagnose.py --seconds 110 --every 800 --set batch_size=32   # a wall-time budget

Trains in-process with the model's own `train_step` and the trainer's weight average (no run directory, no
checkpoints); `--seconds S` trains until S seconds of training steps (evaluations not counted) instead of a step
count, `ctx.progress` then following the seconds as the trainer's time budgets do; `--set KEY=VALUE` sets any model option (values parsed as JSON, else taken as strings). Writes the
averaged generator's 8x8 grid at every evaluation to `--images` when given. Wrap it in `flock
/tmp/gentool-cpu.lock` on a shared machine; it uses 2 threads.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from gentool.api import Batch, StepContext, build, evaluate, save_image_grid
from gentool.config import parse_value
from gentool.trainer.ema import WeightAverage
from gentool_stylegan.config import StyleGANConfig
from gentool_stylegan.model import StyleGAN

METRICS = [("fid", {}), ("class-coverage", {})]


def _report(model: StyleGAN, dataset, samples: int) -> str:
    model.eval()
    r = evaluate(model, dataset, METRICS, samples=samples, seed=0)
    model.train()
    c = r["class-coverage"]
    return f"FID {r['fid']['fid']:.2f}, class shares {100 * c['min_share']:.1f} - {100 * c['max_share']:.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=None, help="a budget in training seconds instead of --steps")
    parser.add_argument("--every", type=int, default=300)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a model option")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    options = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.set)}  # as `--set`
    dataset = build("dataset", "digits", {}, prefix="dataset")
    config = StyleGANConfig(**options)
    model = StyleGAN(config, dataset.info())
    train = dataset.split("train")
    ctx = StepContext(device=torch.device("cpu"), stage="adversarial", optimizers=model.optimizers("adversarial"),
                      autocast_dtype=None, clip_norm=None)
    average = WeightAverage(model, ("generator",), config.ema_decay)
    order, position, seconds, d_fake = torch.randperm(len(train)), 0, 0.0, []
    print(f"stylegan on digits, options {options or 'defaults'}")
    step, done = 0, False
    while not done:
        step += 1
        if position + config.batch_size > len(train):
            order, position = torch.randperm(len(train)), 0
        index = order[position : position + config.batch_size]
        position += config.batch_size
        ctx.global_step = step - 1
        ctx.progress = min(1.0, seconds / args.seconds) if args.seconds else step / args.steps
        started = time.perf_counter()
        logs = model.train_step(Batch(train.x[index], train.y[index], index), ctx)
        average.update(model)
        seconds += time.perf_counter() - started
        d_fake.append(float(logs["d_fake"]))
        done = seconds >= args.seconds if args.seconds else step >= args.steps
        if step % args.every == 0 or done:
            raw = _report(model, dataset, args.samples)
            with average.applied(model):
                averaged = _report(model, dataset, args.samples)
                if args.images:
                    args.images.mkdir(parents=True, exist_ok=True)
                    with torch.no_grad():
                        grid = model.sample(64, generator=torch.Generator().manual_seed(0))
                    save_image_grid(grid, args.images / f"step_{step:05d}.png", nrow=8)
            print(f"step {step} ({seconds:.0f} s training): averaged G {averaged}; raw G {raw}; "
                  f"mean D logit on fakes {sum(d_fake) / len(d_fake):.2f}", flush=True)
            d_fake = []


if __name__ == "__main__":
    main()
