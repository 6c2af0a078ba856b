#!/usr/bin/env bash
# Create .venv (if absent) and install core and every plugin from this checkout, editable.
# `--dev` adds the test tools and the test-only fixture plugin. torch is pinned to the CPU build 2.13.0 so a
# CPU machine never pulls a multi-GB CUDA build; on a GPU machine install the torch build you need first.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
packages=(-e ./core)
for plugin in plugins/*/; do
  [ -f "$plugin/pyproject.toml" ] && packages+=(-e "./$plugin")
done
if [ "${1:-}" = "--dev" ]; then
  packages+=(-e ./tests/fixtures/gentool-tiny pytest scipy nox ruff hatchling)
fi
.venv/bin/python -c "import torch" 2>/dev/null || packages=(torch==2.13.0 "${packages[@]}")
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${packages[@]}"
echo "installed: $(.venv/bin/python -m pip list --disable-pip-version-check 2>/dev/null | grep -c gentool) gentool distributions in .venv"
