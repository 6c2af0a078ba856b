"""The run directory: created once, never overwritten silently; config.json and metrics.jsonl handling."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from gentool.config import flatten
from gentool.errors import GentoolError

RUN_FILES = ("config.json", "metrics.jsonl", "samples", "checkpoints", "model.safetensors", "summary.json", "curves.png")


def default_out(model: str) -> Path:
    return Path("runs") / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"


def prepare(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Create `out`; an existing non-empty directory needs --resume or --overwrite (which clears only run files)."""
    if resume:
        if not (out / "checkpoints" / "last.safetensors").is_file():
            raise GentoolError(f'Cannot resume "{out}": it holds no checkpoint (checkpoints/last.safetensors).')
        return
    if out.exists() and not out.is_dir():
        raise GentoolError(f'--out "{out}" is a file, not a directory.')
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise GentoolError(
                f'The run directory "{out}" already exists and is not empty. Pass --resume to continue it, '
                "--overwrite to replace it, or choose another --out."
            )
        if not (out / "config.json").is_file():
            raise GentoolError(f'Refusing to --overwrite "{out}": it does not look like a gentool run (no config.json).')
        for name in RUN_FILES:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    out.mkdir(parents=True, exist_ok=True)


def check_same_config(out: Path, config: dict[str, Any]) -> None:
    """On resume, refuse a config that differs from the run's config.json, naming the keys that differ."""
    old = flatten(json.loads((out / "config.json").read_text()))
    new = flatten(config)
    ignored = {"out"}
    differ = sorted(k for k in set(old) | set(new) if k not in ignored and old.get(k) != new.get(k))
    if differ:
        shown = "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in differ[:8])
        raise GentoolError(
            f'Cannot resume "{out}" with a changed configuration ({len(differ)} key(s) differ: {shown}). '
            "Resume with the same options, or start a new run with another --out."
        )


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def read_metrics(path: Path, up_to_step: int | None = None) -> list[dict[str, Any]]:
    """Records of metrics.jsonl (those with step <= up_to_step when given); a torn last line is ignored."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if up_to_step is None or rec.get("step", 0) <= up_to_step:
            records.append(rec)
    return records


def truncate_metrics(path: Path, up_to_step: int) -> None:
    """Drop records logged after the checkpoint that a resume restarts from, so curves continue without repeats."""
    records = read_metrics(path, up_to_step)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
