"""One entry of a benchmark's JSON results file, written under a lock so that runs side by side keep each other's.

The scripts beside this one import it (their folder is first on sys.path when run as `python benchmarks/X.py`).
"""

from __future__ import annotations

import fcntl
import json
import tempfile
from pathlib import Path
from typing import Any


def store(path: Path, key: str, value: Any, *, merge: bool = False) -> None:
    """Adds or replaces `key` in the JSON object at `path` (created with its folder when missing), indent 2; with
    `merge`, a dict `value` updates the entry already there instead of replacing it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(tempfile.gettempdir()) / f"gentool-{path.stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = json.loads(path.read_text()) if path.is_file() else {}
        old = table.get(key)
        table[key] = {**old, **value} if merge and isinstance(old, dict) and isinstance(value, dict) else value
        path.write_text(json.dumps(table, indent=2) + "\n")
