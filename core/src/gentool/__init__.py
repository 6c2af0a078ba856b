"""gentool: train and evaluate image generative models; everything beyond the core comes from plugins.

Importing `gentool` is cheap (no torch); `train`, `load` and friends import the heavy parts on first use.
"""

from __future__ import annotations

from typing import Any

from gentool.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["hookimpl", "train", "load", "evaluate", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "train":
        from gentool.trainer.loop import train

        return train
    if name == "load":
        from gentool.checkpoint import load

        return load
    if name == "evaluate":
        from gentool.evaluate import evaluate

        return evaluate
    raise AttributeError(f"module 'gentool' has no attribute {name!r}")
