"""Core's own components, registered through the same hooks as any third-party plugin (entry point `core`)."""

from __future__ import annotations

from typing import Any

from gentool.hookspecs import hookimpl


@hookimpl
def register_datasets(register: Any) -> None:
    from gentool.datasets import register_builtin

    register_builtin(register)


@hookimpl
def register_metrics(register: Any) -> None:
    from gentool.metrics import register_builtin

    register_builtin(register)


@hookimpl
def register_features(register: Any) -> None:
    from gentool.metrics import register_builtin_features

    register_builtin_features(register)


@hookimpl
def register_losses(register: Any) -> None:
    from gentool.losses import register_builtin

    register_builtin(register)
