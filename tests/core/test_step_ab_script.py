"""benchmarks/step_ab.py keeps working: it builds both settings, times their steps in turns and prints the ratio."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_step_ab_times_two_settings_in_alternating_rounds():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "step_ab.py"), "--model", "tiny", "--a", "model.code_dim=4",
         "--b", "model.code_dim=16", "--b", "model.batch_size=8", "--rounds", "3", "--steps", "2", "--threads", "1"],
        capture_output=True, text=True, timeout=120, cwd=ROOT / "benchmarks",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = done.stdout.strip().splitlines()[-1]
    assert "A model.code_dim=4:" in line and "B model.code_dim=16 model.batch_size=8:" in line
    match = re.search(r"A / B (\d+\.\d+), B faster in (\d) of 3 rounds", line)
    assert match and float(match[1]) > 0 and 0 <= int(match[2]) <= 3


def test_step_ab_builds_each_side_from_its_own_settings():
    """A setting B cannot take stops the script with the option's error: the sides are built from what they name."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "step_ab.py"), "--model", "tiny", "--b", "model.code_dim=0",
         "--rounds", "1", "--steps", "1", "--threads", "1"],
        capture_output=True, text=True, timeout=120, cwd=ROOT / "benchmarks",
    )
    assert done.returncode != 0 and "model.code_dim" in done.stderr
