"""cyclegan on its demo pair (grey digits <-> digits-m) at the default budget: the three translation metrics.

    flock /tmp/gentool-cpu.lock python benchmarks/cyclegan_pair.py [--steps N] [--set model.KEY=VALUE ...]

Trains `cyclegan` on `digits-m-pair` with the model's defaults and the recommended `trainer.schedule=linear-decay`
(what `gentool run --model cyclegan --dataset digits-m-pair --set trainer.schedule=linear-decay` does), then
computes translation-fid, class-preservation and cycle on the 1,000 test digits of each domain. Prints a table
against the targets (class preservation >= 0.90 both ways, translated FID <= 1/3 of the untranslated FID, cycle
L1 <= 0.05), writes benchmarks/results/cyclegan_pair.json and copies the final grid to
docs/images/cyclegan-digits-m.png. Run alone: other processes distort the timings.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import shutil
import tempfile
from pathlib import Path

import torch

import gentool.api as api

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"
METRICS = ["translation-fid", "class-preservation", "cycle"]


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the model's)")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="model.KEY=VALUE or trainer.KEY=VALUE")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the run directory here")
    parser.add_argument("--name", default="default", help="row name in the results file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    raw = {"model": {"name": "cyclegan"}, "dataset": {"name": "digits-m-pair"}, "metrics": METRICS,
           "trainer": {"schedule": "linear-decay", "sample_every": 500}}
    for assignment in args.sets:
        key, _, value = assignment.partition("=")
        section, _, option = key.partition(".")
        raw.setdefault(section, {})[option] = _value(value)
    if args.steps:
        raw["steps"] = args.steps
    out = args.keep or Path(tempfile.mkdtemp()) / "cyclegan-digits-m"
    shutil.rmtree(out, ignore_errors=True)
    raw["out"] = str(out)
    summary = api.train(raw).summary
    m = summary["metrics"]
    row = {"steps": summary["steps"], "train_seconds": summary["train_seconds"],
           "images_per_second": summary["images_per_second"], "options": args.sets, "metrics": m}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "cyclegan_pair.json"
    with open(Path(tempfile.gettempdir()) / "cyclegan_pair.lock", "w") as lock:  # runs side by side add their rows one at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = json.loads(path.read_text()) if path.is_file() else {}
        table[args.name] = row
        path.write_text(json.dumps(table, indent=2) + "\n")
    grids = sorted((out / "samples").glob("step_*.png"))
    if args.name == "default":
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(grids[-1], IMAGES / "cyclegan-digits-m.png")
    print(f"{summary['steps']} steps, {summary['train_seconds']:.0f} s of training; run in {out}")
    print("| direction | translation FID | untranslated FID | ratio | class preservation | untranslated | cycle L1 |")
    print("|---|---|---|---|---|---|---|")
    fid, cls, cyc = m["translation-fid"], m["class-preservation"], m["cycle"]
    for d in ("a2b", "b2a"):
        print(f"| {d} | {fid[d]:.2f} | {fid[d + '_untranslated']:.2f} | {fid[d + '_ratio']:.3f} | {cls[d]:.3f} | "
              f"{cls[d + '_untranslated']:.3f} | {cyc[d]:.4f} |")
    met = all(cls[d] >= 0.9 and fid[d + "_ratio"] <= 1 / 3 and cyc[d] <= 0.05 for d in ("a2b", "b2a"))
    print("targets met" if met else "targets NOT all met")


if __name__ == "__main__":
    main()
