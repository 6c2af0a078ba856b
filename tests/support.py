"""Test support: running the real `gentool` command in a subprocess, and fixture plugin distributions on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self):
        return json.loads(self.out)


def run_gentool(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 600) -> Result:
    """Run `python -m gentool ARGS` in a fresh process (wide terminal so messages are not wrapped)."""
    full_env = {**os.environ, "COLUMNS": "250", "PYTHONWARNINGS": "ignore", **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "gentool", *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def write_distribution(
    root: Path, dist: str, entry_point: str, module: str, source: str, requires: list[str] = (), version: str = "1.0"
) -> None:
    """A real installed distribution on `root`: a module plus a .dist-info with METADATA and entry_points.txt."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {dist}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "entry_points.txt").write_text(f"[gentool]\n{entry_point} = {module}\n")
