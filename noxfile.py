"""nox sessions: `tests` (everything installed), `isolated` (core alone; core + each plugin alone), `lint`, `bench`."""

from __future__ import annotations

import re
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
ROOT = Path(__file__).parent
PLUGINS = sorted(p.parent.name for p in ROOT.glob("plugins/*/pyproject.toml"))
TORCH = "torch==2.13.0"  # the CPU build; install another build first on a GPU machine
SCORES_RUNS = re.compile(r'add_argument\("runs?"')  # a benchmark that needs finished run directories


@nox.session
def tests(session: nox.Session) -> None:
    """Core, every plugin and the fixture plugin in one environment, plugins strict."""
    session.install(TORCH, "pytest", "scipy", "-e", "./core", "-e", "./tests/fixtures/gentool-tiny",
                    *[arg for p in PLUGINS for arg in ("-e", f"./plugins/{p}")])
    session.run("pytest", "-q", *session.posargs, env={"GENTOOL_STRICT_PLUGINS": "1"})


@nox.session
def isolated(session: nox.Session) -> None:
    """Core alone (it lists, says no model is installed), then each plugin alone beside core with its own tests."""
    session.install(TORCH, "pytest", "scipy", "./core")
    session.run("gentool", "list")
    session.run("pytest", "-q", "tests/core/test_isolation.py", env={"GENTOOL_STRICT_PLUGINS": "1"})
    for plugin in PLUGINS:
        others = [f"gentool-{p}" for p in PLUGINS if p != plugin]
        session.run("pip", "uninstall", "-y", *others, silent=True)
        session.install(f"./plugins/{plugin}")
        session.run("pytest", "-q", f"plugins/{plugin}/tests", env={"GENTOOL_STRICT_PLUGINS": "1"})
        session.run("pip", "uninstall", "-y", f"gentool-{plugin}", silent=True)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", ".")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks print tables and write JSON under benchmarks/results/; never part of CI's pass/fail."""
    session.install(TORCH, "scipy", "-e", "./core", *[arg for p in PLUGINS for arg in ("-e", f"./plugins/{p}")])
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        if SCORES_RUNS.search(script.read_text()):
            session.log(f"{script.name} scores finished runs: python benchmarks/{script.name} RUN...")
            continue
        session.run("python", str(script), *session.posargs)
