"""Images/s of each model through gentool's trainer beside a plain PyTorch loop, same process (target >= 0.95).

The plain loop is what one writes by hand: the same model, batch size, data tensors and seed; a random permutation
per epoch; `zero_grad(); backward(); step()` per optimizer update; no logging, checkpoints, grids or progress bar.
It drives the model's own maths (its `train_step`) so both sides do identical arithmetic, and the ratio isolates
what the trainer adds (batching, logging, checkpoints every 500 steps, sample grids, progress, non-finite checks).
Both sides run `--steps` steps, alternating, `--repeat` times; the best time of each is kept.

    python benchmarks/trainer_overhead.py [--models gan vae ...] [--steps 300] [--threads 2] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from gentool.datasets.base import InMemorySplit
from gentool.protocols import Batch
from gentool.registry import registry
from gentool.resolve import resolve
from gentool.trainer.loop import Trainer
from gentool.trainer.schedule import stage_budgets

RESULTS = Path(__file__).parent / "results"


class PlainContext:
    """The least a hand-written loop does per optimizer update."""

    def __init__(self, device, optimizers):
        self.device, self.optimizers = device, optimizers
        self.rank, self.world_size, self.global_step, self.stage_step, self.progress = 0, 1, 0, 0, 0.0

    def autocast(self):
        return torch.autocast(self.device.type, enabled=False)

    def step(self, name, loss):
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def plain_loop(run, device) -> float:
    torch.manual_seed(run.seed)
    dataset = run.dataset.load()(run.dataset_config)
    info = dataset.info()
    split = dataset.split("train")
    assert isinstance(split, InMemorySplit)
    x, y = split.x.to(device), split.y.to(device) if split.y is not None else None
    model = run.model.load()(run.model_config, info).to(device)
    bs = run.model_config.batch_size
    start = time.perf_counter()
    for stage, (steps, _) in zip(model.stages(), stage_budgets(model.stages(), run.total_steps, None)):
        ctx = PlainContext(device, model.optimizers(stage.name))
        ctx.stage = stage.name
        perm, pos = torch.randperm(len(x), device=device), 0
        model.train()
        for i in range(steps):
            if pos + bs > len(perm):
                perm, pos = torch.randperm(len(x), device=device), 0
            idx = perm[pos : pos + bs]
            pos += bs
            ctx.stage_step, ctx.progress = i, i / steps
            model.train_step(Batch(x[idx], y[idx] if y is not None else None, idx), ctx)
        end_stage = getattr(model, "end_stage", None)
        if end_stage:
            end_stage(stage.name, ctx)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def gentool_loop(run) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(run, Path(tmp))
        start = time.perf_counter()
        trainer.fit()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    models = args.models or [m for m in registry().names("model") if m != "tiny"]
    rows = []
    for name in models:
        run = resolve({"model": {"name": name}, "steps": args.steps, "device": args.device,
                       "trainer": {"precision": args.precision}})
        device = torch.device("cuda" if args.device == "cuda" else "cpu")
        gentool_loop(run), plain_loop(run, device)  # warm-up: allocator, kernels, file cache
        g_best, p_best = float("inf"), float("inf")
        for _ in range(args.repeat):
            g_best = min(g_best, gentool_loop(run))
            p_best = min(p_best, plain_loop(run, device))
        images = args.steps * run.model_config.batch_size
        row = {"model": name, "batch_size": run.model_config.batch_size, "steps": args.steps,
               "gentool_images_per_s": images / g_best, "plain_images_per_s": images / p_best, "ratio": p_best / g_best}
        rows.append(row)
        print(f"{name:<8} batch {row['batch_size']:>4}  gentool {row['gentool_images_per_s']:9.1f} img/s  "
              f"plain {row['plain_images_per_s']:9.1f} img/s  ratio {row['ratio']:.3f}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"trainer_overhead_{args.device}_{args.precision}.json"
    out.write_text(json.dumps({"threads": args.threads, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
