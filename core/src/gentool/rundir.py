"""The run directory: its layout, the one atomic write, and reading its files with a clear error when one is damaged.

    runs/<name>/config.json                     the resolved run
    runs/<name>/metrics.jsonl                   one line per logged step
    runs/<name>/samples/step_000500.png         sample grids
    runs/<name>/checkpoints/last.safetensors    everything needed to resume
    runs/<name>/model.safetensors               final weights (what `gentool.load` reads)
    runs/<name>/summary.json                    final metrics, timings, versions
    runs/<name>/curves.png                      loss curves
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gentool.config import flatten
from gentool.errors import GentoolError

# Keys of config.json that may change when a run is resumed: where it lives and how it is sampled.
RESUMABLE_CHANGES = ("out", "sample.")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file, fsync and a rename: a kill at any instant leaves the old or
    the new file, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def default_out(model: str) -> Path:
    return Path("runs") / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"


@dataclass(frozen=True)
class RunDir:
    """One run directory: where each file lives, and reading/writing them."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoints" / "last.safetensors"

    @property
    def model(self) -> Path:
        return self.root / "model.safetensors"

    @property
    def summary(self) -> Path:
        return self.root / "summary.json"

    @property
    def curves(self) -> Path:
        return self.root / "curves.png"

    def files(self) -> tuple[Path, ...]:
        """Everything a run writes (what --overwrite clears, and nothing else)."""
        return (self.config, self.metrics, self.samples, self.checkpoint.parent, self.model, self.summary, self.curves)

    # -- reading -----------------------------------------------------------------------------------------------
    def read_config(self) -> dict[str, Any]:
        """config.json, or a GentoolError saying the directory is not a run or the file is damaged."""
        if not self.config.is_file():
            raise GentoolError(f'"{self.root}" is not a gentool run directory: it holds no config.json.')
        return self._read_json(self.config)

    def read_summary(self) -> dict[str, Any]:
        """summary.json, {} when the run has none yet; a damaged one is a GentoolError."""
        return self._read_json(self.summary) if self.summary.is_file() else {}

    def _read_json(self, path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self.damaged(path, f"it is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise self.damaged(path, f"it holds a JSON {type(data).__name__}, not an object")
        return data

    def damaged(self, path: Path, what: str) -> GentoolError:
        """The error for a run file gentool cannot read: which file, what is wrong, what the user can do."""
        return GentoolError(
            f'The file "{path}" of the run "{self.root}" is damaged: {what}. Nothing was changed. Restore the file '
            "from a copy if you have one; otherwise start a new run (another --out, or --overwrite this one)."
        )

    def read_metrics(self, up_to_step: int | None = None) -> list[dict[str, Any]]:
        """Records of metrics.jsonl (those with step <= up_to_step when given); a torn line is skipped."""
        if not self.metrics.is_file():
            return []
        records = []
        for line in self.metrics.read_text().splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and (up_to_step is None or rec.get("step", 0) <= up_to_step):
                records.append(rec)
        return records

    # -- writing -----------------------------------------------------------------------------------------------
    def write_json(self, path: Path, data: Any) -> None:
        write_atomically(path, (json.dumps(data, indent=2) + "\n").encode())

    def truncate_metrics(self, up_to_step: int) -> None:
        """Drop records logged after the checkpoint that a resume restarts from, so curves continue without repeats."""
        records = self.read_metrics(up_to_step)
        write_atomically(self.metrics, "".join(json.dumps(r) + "\n" for r in records).encode())

    def prepare(self, *, resume: bool, overwrite: bool) -> None:
        """Create the directory; an existing non-empty one needs --resume or --overwrite (which clears only run files)."""
        out = self.root
        if resume:
            if not self.checkpoint.is_file():
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
            if not self.config.is_file():
                raise GentoolError(f'Refusing to --overwrite "{out}": it does not look like a gentool run (no config.json).')
            for target in self.files():
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        out.mkdir(parents=True, exist_ok=True)

    def check_same_config(self, saved: dict[str, Any], config: dict[str, Any]) -> None:
        """On resume, refuse a `config` that differs from the `saved` one (config.json as this version resolves it)
        but for RESUMABLE_CHANGES, naming the keys that differ."""
        old, new = flatten(saved), flatten(config)
        differ = sorted(
            k for k in set(old) | set(new) if not k.startswith(RESUMABLE_CHANGES) and old.get(k) != new.get(k)
        )
        if differ:
            shown = "; ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in differ[:8])
            raise GentoolError(
                f'Cannot resume "{self.root}" with a changed configuration ({len(differ)} key(s) differ: {shown}). '
                "Resume with the same options, or start a new run with another --out."
            )
