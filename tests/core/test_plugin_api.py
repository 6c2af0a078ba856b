"""The plugin API: plugins import gentool only through `gentool.api`; it is cheap to import and documented whole."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import gentool.api

ROOT = Path(__file__).resolve().parents[2]


def _gentool_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) of every import of gentool or a submodule of it in a parsed file."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "gentool"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "gentool":
            found.append((node.lineno, node.module))
    return found


def test_plugins_and_scaffold_templates_import_gentool_only_through_the_api():
    sources = sorted(ROOT.glob("plugins/*/**/*.py")) + sorted(ROOT.glob("tests/fixtures/**/*.py"))
    assert len(sources) > 30, "the in-tree plugins' code and tests are scanned"
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources
        for line, module in _gentool_imports(ast.parse(path.read_text(), str(path)))
        if module != "gentool.api"
    ]
    templates = sorted((ROOT / "core/src/gentool/scaffold/templates").rglob("*.py.tmpl"))
    assert templates
    pattern = re.compile(r"^\s*(?:from|import)\s+(gentool(?:\.\w+)*)\b", re.M)
    bad += [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in templates
        for module in pattern.findall(path.read_text())
        if module != "gentool.api"
    ]
    assert not bad, "plugins may import gentool only as gentool.api:\n" + "\n".join(bad)


def test_every_api_name_resolves_and_importing_the_api_costs_neither_torch_nor_pydantic():
    code = (
        "import sys, gentool.api as api\n"
        "print('torch' in sys.modules, 'pydantic' in sys.modules)\n"
        "missing = [n for n in api.__all__ if getattr(api, n, None) is None]\n"
        "print(missing)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["False False", "[]"]
    assert sorted(dir(gentool.api)) == sorted(gentool.api.__all__)


def test_an_internal_name_is_not_part_of_the_api():
    try:
        gentool.api.registry  # noqa: B018 - the registry object is internal
    except AttributeError as exc:
        assert "gentool.api.__all__" in str(exc)
    else:
        raise AssertionError("gentool.api.registry should not exist")


def test_docs_plugins_md_documents_every_name_of_the_api():
    text = (ROOT / "docs/plugins.md").read_text()
    undocumented = [name for name in gentool.api.__all__ if f"`{name}" not in text]
    assert not undocumented, f"docs/plugins.md does not document: {undocumented}"
    named = set(re.findall(r"gentool\.api\.(\w+)", text))
    assert named <= set(gentool.api.__all__), f"docs/plugins.md names what the API lacks: {named - set(gentool.api.__all__)}"


def test_one_torch_thread_runs_the_test_on_one_thread_and_restores_the_count():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        body = gentool.api.one_torch_thread()
        next(body)
        assert torch.get_num_threads() == 1
        assert next(body, "done") == "done"
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
