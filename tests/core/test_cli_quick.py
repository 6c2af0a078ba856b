"""`gentool --help` and `gentool list` answer on the quick path (no typer, rich, pydantic or torch) with the same
content the typer app has."""

from __future__ import annotations

import subprocess
import sys

from support import run_gentool, write_distribution


def test_quick_help_lists_every_command_of_the_app():
    from gentool.cli import COMMANDS, app

    names = [c.name or c.callback.__name__ for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert list(COMMANDS) == names
    shown = run_gentool("--help")
    assert shown.code == 0 and "Usage: gentool" in shown.out
    assert all(f"  {name} " in shown.out for name in names)
    assert run_gentool().code == 2  # no command: the help, as a usage error


def test_list_shows_the_same_components_as_its_json():
    rows = run_gentool("list", "--json").json()
    table = run_gentool("list").out.splitlines()
    assert table[0].split() == ["name", "kind", "distribution", "version", "summary"]
    assert [line.split()[0] for line in table[1:len(rows) + 1]] == [r["name"] for r in rows]
    models = run_gentool("list", "model").out
    assert all(r["name"] in models for r in rows if r["kind"] == "model")
    refused = run_gentool("list", "modle")
    assert refused.code == 2 and 'Did you mean "model"' in refused.err


def test_a_plugin_command_shows_in_help(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-hello", "hello", "hello_plugin", """
import gentool

@gentool.hookimpl
def register_commands(app):
    @app.command()
    def hello():
        '''Say hello.'''
""")
    shown = run_gentool("--help", env=env)
    assert shown.code == 0 and "hello" in shown.out and "Say hello." in shown.out


def test_quick_path_imports_no_typer_nor_torch():
    code = (
        "import sys\nfrom gentool.cli import main\n"
        "for args in (['list'], ['list', 'model', '--json'], ['--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in ('torch', 'typer', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "[]"
