"""Images/s of each model through gentool's trainer, in each speed mode, beside a plain PyTorch loop, and the
fraction of the machine's matrix-multiply peak each reaches.

The plain loop is what one writes by hand: the same model, batch size, data tensors and seed; a random permutation
per epoch; `zero_grad(); backward(); step()` per optimizer update; no logging, checkpoints, grids or progress bar.
It drives the model's own maths (its `train_step`) so both sides do identical arithmetic, and the ratio isolates
what the trainer adds (batching, logging, checkpoints every 500 steps, sample grids, progress, non-finite checks).
Both sides run `--steps` steps `--repeat` times after a warm-up; the best time of each is kept; a stage's closing
work (`end_stage`: GLO's mixture fit) is left out of both. Modes (`--modes`):
default (the run's own trainer defaults), default-unfused (the same with trainer.fused_optimizers=false), eager,
channels_last, compile (trainer.compile=default), channels_last+compile, bf16 (autocast); one trainer per
mode is fitted from step 0 again for each repeat; a compiled mode's steps that compiled graphs are left out of its
img/s and their seconds reported as compile_seconds (in a fresh process). FLOPs per image: torch's FlopCounterMode over train_steps 1 to 16
of each stage (forward and backward; a lazy regulariser counts on the steps it runs, so with its share; optimizer
arithmetic not counted), weighted by the images each stage trains on. Peak: the best fp32 2048x2048 matrix product,
measured at the start and again at each turn of a model's repeats; the highest is used (the machine's speed drifts).

    python benchmarks/trainer_overhead.py [--models gan vae ...] [--modes eager compile] [--steps 300] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from gentool.config import apply_set
from gentool.datasets.base import InMemorySplit, MultiDomainSplit
from gentool.errors import GentoolError
from gentool.protocols import Batch
from gentool.registry import registry
from gentool.resolve import resolve
from gentool.trainer.device import pick_precision
from gentool.trainer.loop import Trainer
from gentool.trainer.observe import peak_memory_mb
from gentool.trainer.resume import Position
from gentool.trainer.schedule import stage_budgets

RESULTS = Path(__file__).parent / "results"


class PlainContext:
    """The least a hand-written loop does per optimizer update."""

    def __init__(self, device, optimizers, dtype=None):
        self.device, self.optimizers, self.dtype = device, optimizers, dtype
        self.rank, self.world_size, self.global_step, self.stage_step, self.progress = 0, 1, 0, 0, 0.0
        self.scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None)

    def step(self, name, loss):
        opt = self.optimizers[name]
        opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(opt)
        self.scaler.update()


class Shuffled:
    """One in-memory split on the device, cut into batches of a random permutation, reshuffled when used up."""

    def __init__(self, split, device) -> None:
        assert isinstance(split, InMemorySplit), "the plain loop reads in-memory splits"
        self.x = split.x.to(device)
        self.y = split.y.to(device) if split.y is not None else None
        self.device, self.perm, self.pos = device, torch.randperm(0), 0

    def next(self, bs: int) -> Batch:
        if self.pos + bs > len(self.perm):
            self.perm, self.pos = torch.randperm(len(self.x), device=self.device), 0
        idx = self.perm[self.pos : self.pos + bs]
        self.pos += bs
        return Batch(self.x[idx], self.y[idx] if self.y is not None else None, idx)


class PlainBatches:
    """A train split's batches as the trainer hands them over: one Shuffled per domain of multi-domain data, each
    domain's batch in `Batch.domains` (x, y, index are domain 0's)."""

    def __init__(self, split, device) -> None:
        domains = split.domains if isinstance(split, MultiDomainSplit) else (split,)
        self.sources = [Shuffled(d, device) for d in domains]

    def next(self, bs: int) -> Batch:
        batches = [source.next(bs) for source in self.sources]
        first = batches[0]
        return Batch(first.x, first.y, first.index, tuple(batches)) if len(batches) > 1 else first


def plain_loop(run, device) -> float:
    torch.manual_seed(run.seed)
    dataset = run.dataset.load()(run.dataset_config)
    info = dataset.info()
    split = dataset.split("train")
    batches = PlainBatches(split, device)
    model = run.model.load()(run.model_config, info).to(device)
    start, step = time.perf_counter(), 0
    for stage, (steps, _) in zip(model.stages(), stage_budgets(model.stages(), run.total_steps, None)):
        ctx = PlainContext(device, model.optimizers(stage.name), pick_precision(run.trainer.precision, device))
        ctx.stage = stage.name
        bs = stage.batch_size or run.model_config.batch_size
        model.train()
        for i in range(steps):
            batch = batches.next(bs)
            ctx.global_step, ctx.stage_step, ctx.progress = step, i, i / steps  # lazy regularisers read global_step
            model.train_step(batch, ctx)
            step += 1
        end_stage = getattr(model, "end_stage", None)
        if end_stage:
            if device.type == "cuda":
                torch.cuda.synchronize()
            paused = time.perf_counter()
            end_stage(stage.name, ctx)
            start += time.perf_counter() - paused  # a stage's closing work (GLO's mixture fit) is not a step's
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


MODES = {  # trainer options of each measured mode; fused optimizers are on (their default) but where a mode says
    "default": {},  # what `gentool run` does: channels_last and fused_optimizers "auto"
    "default-unfused": {"fused_optimizers": False},
    "eager": {"channels_last": False},
    "channels_last": {"channels_last": True},
    "compile": {"compile": "default", "channels_last": False},
    "channels_last+compile": {"channels_last": True, "compile": "default"},
    "bf16": {"precision": "bf16", "channels_last": False},
}


def timed_end_stage(model) -> list[float]:
    """Wrap the model's `end_stage` (when it has one) to add its seconds to the returned one-item list: a stage's
    closing work (GLO's mixture fit) is left out of both sides' img/s, as it is not a step's."""
    total = [0.0]
    end_stage = getattr(model, "end_stage", None)
    if end_stage is not None:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return end_stage(*args, **kwargs)
            finally:
                total[0] += time.perf_counter() - start
        model.end_stage = timed
    return total


class GentoolFits:
    """One trainer, fitted once from step 0 as a warm-up (which compiles in a compiled mode), then again from step 0
    on each `fit()`: (seconds of the steps that compiled nothing, their count)."""

    def __init__(self, run, out: Path) -> None:
        out.mkdir(parents=True)
        self.trainer = Trainer(run, out)
        self.closing = timed_end_stage(self.trainer.model)
        self.fit()

    def fit(self) -> tuple[float, int]:
        trainer, c = self.trainer, self.trainer.compilation
        trainer.position = Position()
        seconds, steps, closed = c.seconds, c.steps, self.closing[0]
        start = time.perf_counter()
        trainer.fit()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        took = time.perf_counter() - start - (self.closing[0] - closed)
        return took - (c.seconds - seconds), trainer.position.step - (c.steps - steps)


class GlobalOnly:
    """Stands in for FlopCounterMode's module tracker: every FLOP counts toward "Global" only. The tracker's hooks on
    module inputs fail inside a penalty's `autograd.grad(create_graph=True)` (R1), and only the total is needed."""

    parents = ("Global",)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return None


# Steps over which a train_step's FLOPs are averaged: a lazy regulariser on every 2nd, 4th, 8th or 16th step counts
# with its true share (gan's R1 every 4th, stylegan's every 16th).
FLOP_WINDOW = 16


def step_flops(run, device) -> float:
    """FLOPs per image of a train_step (forward and backward of every update; the optimizer's arithmetic not
    counted), averaged over global steps 1 to FLOP_WINDOW and over the stages by the images each trains on in a run
    of `run.total_steps` steps."""
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(run.seed)
    dataset = run.dataset.load()(run.dataset_config)
    split = dataset.split("train")
    model = run.model.load()(run.model_config, dataset.info()).to(device)
    batches = PlainBatches(split, device)
    flops, images = 0.0, 0
    for stage, (steps, _) in zip(model.stages(), stage_budgets(model.stages(), run.total_steps, None)):
        ctx = PlainContext(device, model.optimizers(stage.name))
        ctx.stage = stage.name
        bs = stage.batch_size or run.model_config.batch_size
        batch = batches.next(bs)
        model.train_step(batch, ctx)  # a stage's first step: lazy initialisation (e.g. GLO's latents) is not counted
        counter = FlopCounterMode(display=False)
        counter.mod_tracker = GlobalOnly()  # per-module hooks break double backward (R1), and only the total is used
        with counter:
            for ctx.global_step in range(1, FLOP_WINDOW + 1):
                model.train_step(batch, ctx)
        flops += counter.get_total_flops() / FLOP_WINDOW * steps
        images += bs * steps
    return flops / images


def matmul_peak(device, size: int = 2048, repeat: int = 10) -> float:
    """FLOP/s of the best of `repeat` fp32 size x size matrix products: the machine's practical compute peak."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeat + 2):
        start = time.perf_counter()
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def measure(name, args, device, peak) -> dict:
    """One model: the plain loop and gentool in each mode (a warm-up fit each, then --repeat turns; best of each).
    Fractions of peak use the best matrix-product rate measured before the model or at the start of any turn."""
    base = {"model": {"name": name}, "steps": args.steps, "device": args.device}
    if args.dataset:
        base["dataset"] = {"name": args.dataset}
    for item in args.overrides:
        apply_set(base, item)
    plain_run = resolve(base | {"trainer": {"precision": args.precision}})
    plain_loop(plain_run, device)
    bs = plain_run.model_config.batch_size
    row = {"model": name, "batch_size": bs, "steps": args.steps, "flops_per_image": step_flops(plain_run, device),
           "modes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        runs = {mode: GentoolFits(resolve(base | {"trainer": {"precision": args.precision} | MODES[mode]}),
                                  Path(tmp) / mode) for mode in args.modes}
        # the repeats take turns (plain loop, then each mode), so that a drift of the machine's speed during the
        # measurement moves every side alike; the best repeat of each side is kept. CUDA memory: the peak during a
        # mode's fits (the other modes' trainers, resident meanwhile, count in it)
        plain, fits, memory = [], {mode: [] for mode in args.modes}, {mode: None for mode in args.modes}
        for _ in range(args.repeat):
            peak = max(peak, matmul_peak(device))  # the machine's best during this model's turns, not only before
            plain.append(plain_loop(plain_run, device))
            for mode, fitted in runs.items():
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                fits[mode].append(fitted.fit())
                if device.type == "cuda":
                    memory[mode] = max(memory[mode] or 0.0, peak_memory_mb(device))
        row["plain_images_per_s"] = args.steps * bs / min(plain)
        for mode, fitted in runs.items():
            ips = max(steps * bs / seconds for seconds, steps in fits[mode])
            row["modes"][mode] = {"images_per_s": ips, "ratio": ips / row["plain_images_per_s"],
                                  "compile_seconds": fitted.trainer.compilation.seconds,
                                  "peak_fraction": ips * row["flops_per_image"] / peak,
                                  "peak_memory_mb": memory[mode]}
    row["peak_flops"] = peak
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--modes", nargs="*", default=["eager", "channels_last", "compile"], choices=list(MODES))
    parser.add_argument("--dataset", default=None, help="dataset of every measured model (default: each run's default)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a run option for every measured model, as `gentool run --set` (e.g. model.batch_size=64)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--out", type=Path, default=None, help="results file (default results/trainer_overhead_*.json)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.device == "cuda" else "cpu")
    peak = matmul_peak(device)
    print(f"matmul peak: {peak / 1e9:.1f} GFLOP/s ({args.threads} threads, {device})", flush=True)
    models = args.models or [m for m in registry().names("model") if m != "tiny"]
    rows = []
    out = args.out or RESULTS / f"trainer_overhead_{args.device}_{args.precision}.json"
    for name in models:
        try:
            row = measure(name, args, device, peak)
        except GentoolError as error:  # e.g. a two-domain model on one-domain data: say so, measure the others
            print(f"{name:<9} skipped: {error}", flush=True)
            continue
        rows.append(row)
        modes = "  ".join(f"{m} {r['images_per_s']:7.1f} ({r['ratio']:.2f}x, {r['peak_fraction']:.2f} of peak"
                          + (f", compile {r['compile_seconds']:.0f} s" if r["compile_seconds"] else "") + ")"
                          for m, r in row["modes"].items())
        print(f"{name:<9} batch {row['batch_size']:>4}  {row['flops_per_image'] / 1e6:7.1f} MFLOP/img  "
              f"plain {row['plain_images_per_s']:7.1f} img/s  {modes}", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)  # after every model: a run cut short keeps what it measured
        out.write_text(json.dumps({"threads": args.threads, "device": args.device, "precision": args.precision,
                                   "peak_flops": peak, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
