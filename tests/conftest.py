"""Shared fixtures for gentool's cross-package tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def plugin_path(tmp_path: Path):
    """A folder to hold fixture distributions, and the env that puts it on the path of a gentool subprocess.

    The fixture plugins are broken on purpose, so the env turns strict mode off even when the suite itself runs
    under GENTOOL_STRICT_PLUGINS=1; a test that checks strict mode sets it back explicitly.
    """
    root = tmp_path / "site"
    root.mkdir()
    path = os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {"PYTHONPATH": path, "GENTOOL_STRICT_PLUGINS": "0"}
    return root, env
