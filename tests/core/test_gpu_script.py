"""benchmarks/gpu.sh keeps working: its CPU smoke mode runs every section and writes its result files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_script_smoke_mode_writes_its_results(tmp_path):
    env = {**os.environ, "GPU_RESULTS": str(tmp_path), "PYTHON": sys.executable}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu.sh"), "--smoke"], capture_output=True, text=True,
                          env=env, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "section stopped" not in done.stderr
    bench = json.loads((tmp_path / "trainer_overhead_bf16_cpu-smoke.json").read_text())
    row = bench["rows"][0]
    assert row["model"] == "gan" and row["modes"]["eager"]["images_per_s"] > 0 and row["flops_per_image"] > 0
    dist = json.loads((tmp_path / "torchrun_cpu-smoke.json").read_text())
    assert dist["world_size"] == 2 and dist["steps"] == 6
