"""How training cost grows with work: images/s and peak memory per model as batch size and image size grow.

Image sizes: 28 px grayscale (`digits`), 32, 64 and 128 px RGB (`shapes` drawn at that size; 2,000 of them at 128 px
and above, which keeps the data in memory small). Each point runs in its own
process (so the peak memory is that point's alone): the model is built with its defaults at the given batch size,
trains `--steps` steps after `--warmup` untimed ones, and reports images/s over the timed steps and peak memory:
on the CPU the peak resident set while training (VmHWM, reset once the data and model are built) over the resident
set before it: weights' gradients, optimizer state, activations, allocator caches; on CUDA torch's peak allocated
bytes over the allocated bytes before training. The rows are merged into `results/scaling_<device>.json`: a point
measured again replaces its old row, the others are kept.

    python benchmarks/scaling.py [--models gan vae ...] [--sizes 28 32 64] [--batches 16 32 64 128] [--threads 2]
    python benchmarks/scaling.py --models stylegan --sizes 32 64 128
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def rss_mb() -> float:
    """Current resident set size of this process in MiB (Linux)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS count (VmHWM) from the current size, so that the peak of building the data is
    not taken for the peak of training (Linux 4.0+); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """The peak resident set size since the last reset (VmHWM), else since the start of the process, in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dataset_for(size: int) -> dict:
    if size == 28:
        return {"name": "digits"}
    return {"name": "shapes", "size": size, **({"count": 2000} if size >= 128 else {})}


def merge_rows(old: list[dict], new: list[dict]) -> list[dict]:
    """The old rows with those measured again replaced by the new ones (same model, size and batch size)."""
    def key(row: dict) -> tuple:
        return row["model"], row["size"], row["batch_size"]

    fresh = {key(row): row for row in new}
    kept = [row for row in old if key(row) not in fresh]
    return kept + new


def measure(model: str, size: int, batch: int, steps: int, warmup: int, device: str, threads: int) -> dict:
    """One point, in this process: images/s over `steps` timed steps and the peak memory they needed."""
    import torch

    from gentool.resolve import resolve
    from gentool.trainer.loop import Trainer
    from gentool.trainer.resume import Position

    torch.set_num_threads(threads)
    trainer_options = {"sample_every": 10**9, "checkpoint_every": 10**9, "log_every": 10**9}
    run = resolve({"model": {"name": model, "batch_size": batch}, "dataset": dataset_for(size),
                   "steps": warmup + steps, "device": device, "trainer": trainer_options})
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(run, Path(tmp))
        cuda = trainer.device.type == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats(trainer.device)
            base = torch.cuda.memory_allocated(trainer.device) / 2**20
        else:
            base = rss_mb()
            reset_peak_rss()
        trainer.stages = trainer.stages[:1]  # scaling is measured on the first (main) stage
        trainer.budgets = [(warmup, None)]
        trainer.fit()
        warm_seconds = trainer.train_seconds  # the trainer times its steps alone, not checkpoints or stage ends
        trainer.position, trainer.budgets = Position(), [(steps, None)]
        trainer.fit()
        seconds = trainer.train_seconds - warm_seconds
        peak = (torch.cuda.max_memory_allocated(trainer.device) / 2**20 if cuda else peak_rss_mb()) - base
    return {"model": model, "size": size, "batch_size": batch, "images_per_second": steps * batch / seconds,
            "peak_memory_mb": round(peak, 1), "stage": trainer.stages[0].name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="*", default=["gan", "cgan", "vae", "vqvae", "cnn"])
    parser.add_argument("--sizes", nargs="*", type=int, default=[28, 32, 64])
    parser.add_argument("--batches", nargs="*", type=int, default=[16, 32, 64, 128])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--one", nargs=3, metavar=("MODEL", "SIZE", "BATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        model, size, batch = args.one[0], int(args.one[1]), int(args.one[2])
        row = measure(model, size, batch, args.steps, args.warmup, args.device, args.threads)
        print(json.dumps(row))
        return
    rows = []
    print(f"{'model':<7} {'size':>4} {'batch':>5} {'img/s':>9} {'peak MiB':>9}")
    for model in args.models:
        for size in args.sizes:
            for batch in args.batches:
                command = [sys.executable, __file__, "--one", model, str(size), str(batch), "--steps", str(args.steps),
                           "--warmup", str(args.warmup), "--threads", str(args.threads), "--device", args.device]
                proc = subprocess.run(command, capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"{model:<7} {size:>4} {batch:>5}  failed: {proc.stderr.strip().splitlines()[-1:]}")
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(f"{model:<7} {size:>4} {batch:>5} {row['images_per_second']:9.1f} {row['peak_memory_mb']:9.1f}",
                      flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"scaling_{args.device}.json"
    old = json.loads(out.read_text()) if out.exists() else {}
    if old and (old.get("threads"), old.get("steps")) != (args.threads, args.steps):
        for row in rows:  # the file's header describes its first rows; a differing setting is kept with the row
            row.update(threads=args.threads, steps=args.steps)
    merged = {"threads": old.get("threads", args.threads), "steps": old.get("steps", args.steps),
              "rows": merge_rows(old.get("rows", []), rows)}
    out.write_text(json.dumps(merged, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
