"""Versions of torch, core and the plugins a run used, for summary.json and model files."""

from __future__ import annotations

from typing import Any

import torch

from gentool import __version__


def versions(run: Any) -> dict[str, str]:
    """{"torch": ..., "gentool-core": ..., "<plugin distribution>": ...} for every component of the run."""
    found = {"torch": torch.__version__, "gentool-core": __version__}
    components = [run.model, run.dataset]
    for comp in components:
        if comp.distribution:
            found[comp.distribution] = comp.version
    return found
