"""Translation-time views on trained cyclegan runs: the median over channel orders and shifts, no retraining.

    python benchmarks/cyclegan_views.py RUN... [--judge-a grey_judge.safetensors] [--judge dm_judge.safetensors]

Each run on `digits-m-pair` is evaluated (translation FID, class preservation, cycle; both directions) once plainly
and once for each setting of the sample options `channel_orders` and `shift` (on b2a, whose source is RGB, and on
both directions), with optional second judges as in cyclegan_pair.py. Writes benchmarks/results/cyclegan_views.json.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from results_file import store  # beside this script

from gentool import api

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "cyclegan_views.json"
SETTINGS = {
    "plain": {},
    "b2a: channel orders": {"channel_orders": True, "view_directions": ["b2a"]},
    "b2a: channel orders, shift 1": {"channel_orders": True, "shift": 1, "view_directions": ["b2a"]},
    "b2a: channel orders, shift 2": {"channel_orders": True, "shift": 2, "view_directions": ["b2a"]},
    "both: channel orders, shift 1": {"channel_orders": True, "shift": 1},
}
METRICS = [("translation-fid", {}), ("class-preservation", {}), ("cycle", {})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, nargs="+")
    parser.add_argument("--judge", type=Path, default=None, help="a second digits-m network's weights (a2b)")
    parser.add_argument("--judge-a", type=Path, default=None, help="a second grey-digits network's weights (b2a)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = api.build("dataset", "digits-m-pair")
    judges = [(key, direction, weights) for key, direction, weights in
              (("class-preservation-judge", "a2b", args.judge), ("class-preservation-judge-a", "b2a", args.judge_a))
              if weights]
    for run in args.runs:
        model = api.load(run)
        rows = {}
        for name, options in SETTINGS.items():
            start = time.perf_counter()
            # one evaluator per setting: the metrics and the judges share its translations, computed once
            evaluator = api.Evaluator(model, data, sample_options=options or None)
            result = {metric: api.build("metric", metric, metric_options).compute(evaluator)
                      for metric, metric_options in METRICS}
            for key, direction, weights in judges:
                judge = api.build("metric", "class-preservation",
                                  {"directions": [direction], "features_options": {"weights": str(weights)}})
                result[key] = {**judge.compute(evaluator), "weights": str(weights)}
            seconds = time.perf_counter() - start
            fid, kept, cycle = result["translation-fid"], result["class-preservation"], result["cycle"]
            print(f"{run.name} | {name} | a2b ratio {fid['a2b_ratio']:.3f}, class {kept['a2b']:.3f}, cycle "
                  f"{cycle['a2b']:.3f} | b2a ratio {fid['b2a_ratio']:.3f}, class {kept['b2a']:.3f}"
                  + "".join(f", {key[19:] or 'judge'} {result[key][d]:.3f}" for key, d, _ in judges)
                  + f", cycle {cycle['b2a']:.3f} | {seconds:.0f} s", flush=True)
            rows[name] = {"options": options, "seconds": seconds, "metrics": result}
        store(RESULTS, str(run), rows)


if __name__ == "__main__":
    main()
