"""Core's built-in datasets (registered lazily; importing this package imports no torch)."""

from __future__ import annotations

from typing import Any


def register_builtin(register: Any) -> None:
    """Register the built-in datasets with a plugin-style `register` callable."""
