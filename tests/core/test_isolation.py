"""A fresh virtual environment: core alone, then core plus a plugin that lives only under tests/ (not plugins/)."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.venv, pytest.mark.slow]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    """A venv holding torch and gentool-core only (installed from this checkout, not editable)."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    python = str(home / "bin" / "python")
    installed = _run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "torch==2.13.0", str(ROOT / "core")])
    assert installed.returncode == 0, installed.stderr[-3000:]
    return home


def test_core_alone_lists_and_says_how_to_install_a_model(fresh_env):
    gentool = str(fresh_env / "bin" / "gentool")
    result = _run([gentool, "list"], env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert "No model is installed" in result.stdout and "pip install" in result.stdout
    assert "digits" in result.stdout  # core's built-in datasets are there
    refused = _run([gentool, "run", "--model", "vqvae"], env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert refused.returncode == 2 and "No model plugin is installed" in refused.stderr


def test_a_third_party_plugin_shows_up_and_runs_without_changing_core(fresh_env, tmp_path):
    python, gentool = str(fresh_env / "bin" / "python"), str(fresh_env / "bin" / "gentool")
    installed = _run([python, "-m", "pip", "install", "-q", "--no-deps", str(ROOT / "tests/fixtures/gentool-tiny")])
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "GENTOOL_STRICT_PLUGINS": "1"}
    rows = json.loads(_run([gentool, "list", "--json"], env=env).stdout)
    assert {"name": "tiny", "kind": "model", "distribution": "gentool-tiny"}.items() <= next(
        r for r in rows if r["name"] == "tiny").items()
    out = tmp_path / "run"
    result = _run([gentool, "run", "--model", "tiny", "--steps", "3", "--out", str(out)], env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "summary.json").read_text())["steps"] == 3
    assert sys.prefix != str(fresh_env)  # the test really used the other environment
