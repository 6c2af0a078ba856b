"""Wall time of `gentool --help` and `gentool list` beside `python -c "import torch"` (target: ratio <= 0.10).

The development venv also holds the test fixture plugin `gentool-tiny`, whose module builds a pydantic config at
import time (the shipped plugins name theirs as strings); the rows marked "shipped plugins" leave it out.

Run alone on an idle machine: `python benchmarks/cli_startup.py [--repeat 7]`. Prints a table, writes
benchmarks/results/cli_startup.json. Each command runs in a fresh process; the median of the repeats is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
SHIPPED = {"GENTOOL_DISABLE_PLUGINS": "tiny"}


def wall(cmd: list[str], repeat: int, env: dict | None = None) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env={**os.environ, **(env or {})})
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    py = sys.executable
    wall([py, "-c", "import torch"], 2)  # warm the file cache for everyone
    baseline = wall([py, "-c", "import torch"], args.repeat)
    rows = {
        "gentool --help": wall([py, "-m", "gentool", "--help"], args.repeat),
        "gentool list": wall([py, "-m", "gentool", "list"], args.repeat),
        "gentool plugins": wall([py, "-m", "gentool", "plugins"], args.repeat),
        "gentool --help (shipped plugins)": wall([py, "-m", "gentool", "--help"], args.repeat, SHIPPED),
        "gentool list (shipped plugins)": wall([py, "-m", "gentool", "list"], args.repeat, SHIPPED),
    }
    print(f"{'command':<34} {'seconds':>8} {'/ import torch':>15}")
    print(f"{'import torch':<34} {baseline:8.3f} {1.0:15.2f}")
    for name, seconds in rows.items():
        print(f"{name:<34} {seconds:8.3f} {seconds / baseline:15.2f}")
    RESULTS.mkdir(exist_ok=True)
    payload = {"import_torch_s": baseline, **{k: {"s": v, "ratio": v / baseline} for k, v in rows.items()}}
    (RESULTS / "cli_startup.json").write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
