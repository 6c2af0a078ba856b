"""gentool: train and evaluate image generative models; everything beyond the core comes from plugins.

Importing `gentool` is cheap (no torch); `train`, `load` and friends import the heavy parts on first use.
"""

from __future__ import annotations

from typing import Any

from gentool.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "train", "load", "evaluate", "interpolate", "project", "__version__"]

_LAZY = {
    "train": "gentool.trainer.loop",
    "load": "gentool.checkpoint",
    "evaluate": "gentool.evaluate",
    "interpolate": "gentool.latents",  # interpolate(model, n=8, frames=10, labels=None, seed=0) -> Walks
    "project": "gentool.project",  # project(model, images, labels=None, steps=500, ...) -> Projection
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'gentool' has no attribute {name!r}")
