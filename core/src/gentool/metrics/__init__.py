"""Core's built-in metrics and feature networks (registered lazily; importing this package imports no torch)."""

from __future__ import annotations

from typing import Any


def register_builtin(register: Any) -> None:
    """Register the built-in metrics with a plugin-style `register` callable."""


def register_builtin_features(register: Any) -> None:
    """Register the built-in feature networks with a plugin-style `register` callable."""
