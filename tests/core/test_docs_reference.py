"""docs/cli.md and docs/configuration.md are what scripts/gen_reference.py makes from the code as it is now."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "scripts" / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_references_match_the_code():
    gen = _generator()
    problems = gen.stale(gen.outputs())
    assert not problems, "\n\n".join(problems)


def test_references_cover_every_command_and_component():
    gen = _generator()
    cli, config = gen.render_cli(), gen.render_configuration()
    for command in ("list", "info", "plugins", "run", "sample", "eval", "new plugin"):
        assert f"## gentool {command}\n" in cli
    assert "| `--set` | text, repeatable |" in cli
    assert "| `-n` | integer | `64` | number of samples |" in cli
    sources = gen.plugin_sources()
    assert sources[0] == ("gentool-core", "gentool.builtins", None)
    assert {dist for dist, _, _ in sources[1:]} == {
        f"gentool-{p.parent.name}" for p in (ROOT / "plugins").glob("*/pyproject.toml")
    }
    for component in gen.collect_components():
        assert f'<a id="{component.kind}-{component.name}"></a>' in config
    assert "tiny" not in {c.name for c in gen.collect_components()}  # a test fixture, installed or not
    assert "| `trainer.clip_norm` | `float \\| None` | `none` |" in config


GUIDE = ("index.md", "tutorial.md", "plugins.md", "distributed.md", "architecture.md", "cli.md", "configuration.md")


def test_guide_links_point_at_files_that_exist():
    broken = []
    for name in GUIDE:
        page = ROOT / "docs" / name
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            path = target.split("#")[0]
            if path and not target.startswith(("http://", "https://")) and not (page.parent / path).exists():
                broken.append(f"{name}: {target}")
    assert not broken, broken
