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
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from results_file import store  # beside this script

import gentool.api as api

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ROOT / "docs" / "images"
METRICS = ["translation-fid", "class-preservation", "cycle"]


def _second_judges(args: argparse.Namespace) -> dict[str, tuple[str, Path, str]]:
    """Results key -> (direction, weights, what it is) of each second judge the command line gives."""
    judges = {"class-preservation-judge": ("a2b", args.judge, "digits-m judge"),
              "class-preservation-judge-a": ("b2a", args.judge_a, "grey-digits judge")}
    return {key: judge for key, judge in judges.items() if judge[1]}


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def honest_cycle_floor(seed: int = 0, textures: int = 200) -> float:
    """The least mean |G(F(b)) - b| (pixels in [0, 1]) over digits-m test images that any G can reach from an F
    whose output holds the digit and nothing of the texture (as every image of domain A does).

    b = |c - d| per channel with the crop c drawn independently of the digit d, so knowing d (exactly) leaves each
    pixel of b distributed as |c - d| over the textures' pixels; the best L1 guess is its median, and the floor is
    the mean absolute deviation from it, averaged over the test digits' pixels and the three channels."""
    from gentool_cyclegan.digits_m import make_textures

    d = api.build("dataset", "digits").split("test").x[:, 0].double().numpy().ravel()
    c = make_textures(seed, textures).reshape(-1, 3)[::7]  # every 7th texture pixel: 470,000 per channel
    levels = np.linspace(0, 1, 257)
    which = np.clip(np.round(d * 256).astype(int), 0, 256)
    floor = 0.0
    for channel in range(3):
        deviation = np.empty(len(levels))
        for i, level in enumerate(levels):
            v = np.abs(c[:, channel] - level)
            deviation[i] = np.abs(v - np.median(v)).mean()
        floor += deviation[which].mean() / 3
    return float(floor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the model's)")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="model.KEY=VALUE or trainer.KEY=VALUE")
    parser.add_argument("--seed", type=int, default=None, help="the run's seed (default: gentool's, 0)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="keep the run directory here")
    parser.add_argument("--name", default="default", help="row name in the results file")
    parser.add_argument("--results", default="cyclegan_pair.json",
                        help="file under benchmarks/results/ (screens: cyclegan_pair_screen.json)")
    parser.add_argument("--grid", type=Path, default=None, help="also copy the final training grid here")
    parser.add_argument("--judge", type=Path, default=None,
                        help="weights of a second digits-m network (scripts/train_digits_m_classifier.py --out): a2b "
                        "class preservation is also measured by it, independent of the network the semantic term uses")
    parser.add_argument("--judge-a", type=Path, default=None,
                        help="weights of a second grey-digits network (scripts/train_digits_classifier.py --out): b2a "
                        "class preservation is also measured by it, for runs whose semantic term reads F(b) with core's "
                        "digits network or one like it")
    parser.add_argument("--floor", action="store_true", help="only compute the honest b2a cycle floor (no training)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.floor:
        floor = honest_cycle_floor()
        store(RESULTS / args.results, "b2a_cycle_floor", {"b2a_cycle_floor": floor,
                                                          "what": honest_cycle_floor.__doc__.split("\n")[0]})
        print(f"b2a cycle L1 floor of an F that keeps only the digit: {floor:.4f}")
        return
    raw = {"model": {"name": "cyclegan"}, "dataset": {"name": "digits-m-pair"}, "metrics": METRICS,
           "trainer": {"schedule": "linear-decay", "sample_every": 500}}
    for assignment in args.sets:
        key, _, value = assignment.partition("=")
        section, _, option = key.partition(".")
        raw.setdefault(section, {})[option] = _value(value)
    if args.steps:
        raw["steps"] = args.steps
    if args.seed is not None:
        raw["seed"] = args.seed
    out = args.keep or Path(tempfile.mkdtemp()) / "cyclegan-digits-m"
    shutil.rmtree(out, ignore_errors=True)
    raw["out"] = str(out)
    summary = api.train(raw).summary
    m = summary["metrics"]
    judges = _second_judges(args)
    if judges:  # the run loaded once for every judge
        model, data = api.load(out), api.build("dataset", "digits-m-pair")
        for key, (direction, weights, _) in judges.items():
            options = {"directions": [direction], "features_options": {"weights": str(weights)}}
            judged = api.evaluate(model, data, [("class-preservation", options)])["class-preservation"]
            m[key] = {**judged, "weights": str(weights)}
    row = {"steps": summary["steps"], "train_seconds": summary["train_seconds"],
           "images_per_second": summary["images_per_second"], "options": args.sets, "seed": raw.get("seed", 0), "metrics": m}
    store(RESULTS / args.results, args.name, row)
    grids = sorted((out / "samples").glob("step_*.png"))
    if args.name == "default":
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(grids[-1], IMAGES / "cyclegan-digits-m.png")
    if args.grid:
        shutil.copy(grids[-1], args.grid)
    print(f"{summary['steps']} steps, {summary['train_seconds']:.0f} s of training; run in {out}")
    print("| direction | translation FID | untranslated FID | ratio | class preservation | untranslated | cycle L1 |")
    print("|---|---|---|---|---|---|---|")
    fid, cls, cyc = m["translation-fid"], m["class-preservation"], m["cycle"]
    for d in ("a2b", "b2a"):
        print(f"| {d} | {fid[d]:.2f} | {fid[d + '_untranslated']:.2f} | {fid[d + '_ratio']:.3f} | {cls[d]:.3f} | "
              f"{cls[d + '_untranslated']:.3f} | {cyc[d]:.4f} |")
    for key, (direction, _, what) in judges.items():
        judged = m[key]
        print(f"{direction} class preservation by the second {what}: {judged[direction]:.3f} "
              f"(untranslated {judged[direction + '_untranslated']:.3f})")
    met = all(cls[d] >= 0.9 and fid[d + "_ratio"] <= 1 / 3 and cyc[d] <= 0.05 for d in ("a2b", "b2a"))
    print("targets met" if met else "targets NOT all met")


if __name__ == "__main__":
    main()
