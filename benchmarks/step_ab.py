"""Two settings of one model's train step, timed in alternating rounds: is a change faster, and in how many rounds?

    python benchmarks/step_ab.py --model cgan --a model.conditional_norms=all --b model.conditional_norms=coarse
                                 [--rounds 12] [--steps 30] [--threads 2]

Both models are built side by side from the same seed, with the speed settings a default run gives them (channels-last
order when the trainer's `auto` picks it, fused Adam, one-channel convolutions as taps), and driven by the
plain loop of trainer_overhead.py (their own `train_step`, a random permutation of the in-memory train split,
nothing else). After a warm-up, each round times `--steps` steps of A, then of B: a drift of the machine's speed (up
to 1.7x between runs here) moves both alike within a round. Prints the median step of each, their ratio and the
rounds in which B was faster. `--a` and `--b` take `gentool run --set` items and may repeat; either may be empty
(the defaults). Run alone: other processes distort the timings.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from trainer_overhead import PlainBatches, PlainContext

from gentool.config import apply_set
from gentool.narrow_conv import use_narrow_convs
from gentool.resolve import resolve
from gentool.trainer.speed import apply_channels_last, channels_last_batch, fuse_optimizers, wants_channels_last


class Side:
    """One setting: its model, optimizers and batches, ready to run steps of its first stage."""

    def __init__(self, model_name: str, sets: list[str], device: torch.device) -> None:
        config = {"model": {"name": model_name}, "device": device.type}
        for item in sets:
            apply_set(config, item)
        run = resolve(config)
        torch.manual_seed(run.seed)
        dataset = run.dataset.load()(run.dataset_config)
        info = dataset.info()
        self.model = run.model.load()(run.model_config, info).to(device)
        self.channels_last = wants_channels_last(run.trainer.channels_last, self.model, info)
        if self.channels_last:
            self.model = apply_channels_last(self.model)
        if run.trainer.narrow_convs:
            use_narrow_convs(self.model)
        stage = self.model.stages()[0]
        optimizers = fuse_optimizers(self.model.optimizers(stage.name), run.trainer.fused_optimizers, device)
        self.ctx = PlainContext(device, optimizers)
        self.ctx.stage = stage.name
        self.batch_size = stage.batch_size or run.model_config.batch_size
        self.batches = PlainBatches(dataset.split("train"), device)
        self.model.train()

    def seconds_per_step(self, steps: int) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            batch = self.batches.next(self.batch_size)
            self.model.train_step(channels_last_batch(batch) if self.channels_last else batch, self.ctx)
            self.ctx.global_step += 1
        return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--a", action="append", default=[], metavar="KEY=VALUE", help="setting A (repeatable)")
    parser.add_argument("--b", action="append", default=[], metavar="KEY=VALUE", help="setting B (repeatable)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--steps", type=int, default=30, help="steps of each side per round")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    sides = {"A": Side(args.model, args.a, device), "B": Side(args.model, args.b, device)}
    for side in sides.values():
        side.seconds_per_step(10)  # warm-up: first-call allocations and kernel selection
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, side in sides.items():
            times[name].append(side.seconds_per_step(args.steps))
    a, b = (statistics.median(times[name]) for name in sides)
    wins = sum(tb < ta for ta, tb in zip(times["A"], times["B"]))
    print(f"{args.model}: A {' '.join(args.a) or '(defaults)'}: {a * 1e3:.2f} ms per step; "
          f"B {' '.join(args.b) or '(defaults)'}: {b * 1e3:.2f} ms (medians of {args.rounds} rounds of {args.steps} "
          f"steps); A / B {a / b:.3f}, B faster in {wins} of {args.rounds} rounds")


if __name__ == "__main__":
    main()
