"""Shared fixtures for gentool's cross-package tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture

def plugin_path(tmp_path: Path):
    """A folder to hold fixture distributions, and the env that puts it on the path of a gentool subprocess."""
    root = tmp_path / "site"
    root.mkdir()
    env = {"PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return root, env
