"""Plugin discovery through real entry points, and every way a plugin can be broken without breaking the rest."""

from __future__ import annotations

from support import run_gentool, write_distribution

GOOD = """
import gentool

@gentool.hookimpl
def register_models(register):
    register("healthy", "gentool_tiny.model:Tiny", config="gentool_tiny.plugin:TinyConfig", summary="a healthy model")
"""


def _plugins(env):
    result = run_gentool("plugins", "--json", env=env)
    assert result.code == 0, result.text
    return {p["name"]: p for p in result.json()}


def _models(env):
    result = run_gentool("list", "model", "--json", env=env)
    assert result.code == 0, result.text
    return {row["name"]: row for row in result.json()}


def test_json_keys_and_core_appears_as_a_plugin(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-healthy", "healthy", "healthy_plugin", GOOD)
    plugins = _plugins(env)
    assert set(plugins["core"]) == {"name", "distribution", "version", "hooks", "status", "error"}
    assert plugins["core"]["distribution"] == "gentool-core"
    assert plugins["healthy"] == {
        "name": "healthy", "distribution": "gentool-healthy", "version": "1.0",
        "hooks": ["register_models"], "status": "ok", "error": None,
    }
    rows = run_gentool("list", "--json", env=env).json()
    assert all(set(r) == {"name", "kind", "distribution", "version", "summary"} for r in rows)
    assert {"healthy", "tiny"} <= {r["name"] for r in rows if r["kind"] == "model"}


def test_import_error_marks_only_that_plugin(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-healthy", "healthy", "healthy_plugin", GOOD)
    write_distribution(root, "gentool-crashy", "crashy", "crashy_plugin", "import not_a_module_anywhere\n")
    plugins = _plugins(env)
    assert plugins["crashy"]["status"] == "broken"
    assert "not_a_module_anywhere" in plugins["crashy"]["error"]
    assert plugins["healthy"]["status"] == "ok"
    assert "healthy" in _models(env)
    table = run_gentool("plugins", env=env)
    assert "gentool-crashy" in table.out and "broken" in table.out


def test_raising_hook_registers_nothing(plugin_path):
    root, env = plugin_path
    source = GOOD + """
@gentool.hookimpl
def register_datasets(register):
    raise ValueError("dataset index is corrupt")
"""
    write_distribution(root, "gentool-raiser", "raiser", "raiser_plugin", source)
    plugins = _plugins(env)
    assert plugins["raiser"]["status"] == "broken"
    assert "register_datasets raised ValueError: dataset index is corrupt" in plugins["raiser"]["error"]
    assert "healthy" not in _models(env)  # its model hook ran, but a broken plugin registers nothing


def test_misspelled_hook_is_reported_with_a_suggestion(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-typo", "typo", "typo_plugin", GOOD.replace("def register_models", "def register_model"))
    error = _plugins(env)["typo"]["error"]
    assert '"register_model" is not a gentool hook' in error and 'Did you mean "register_models"' in error


def test_hook_with_unknown_argument_names(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-args", "args", "args_plugin", GOOD.replace("(register)", "(register, registry)"))
    plugin = _plugins(env)["args"]
    assert plugin["status"] == "broken" and "registry" in plugin["error"]


def test_duplicate_entry_point_name_names_both_distributions(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-first", "shared", "first_plugin", GOOD)
    write_distribution(root, "gentool-second", "shared", "second_plugin", GOOD.replace('"healthy"', '"other"'))
    rows = run_gentool("plugins", "--json", env=env).json()
    shared = [p for p in rows if p["name"] == "shared"]
    assert len(shared) == 2
    broken = [p for p in shared if p["status"] == "broken"]
    assert len(broken) == 1
    assert "gentool-first" in broken[0]["error"] and "gentool-second" in broken[0]["error"]


def test_component_name_collision_is_refused_at_run_time(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-clash", "clash", "clash_plugin", GOOD.replace('"healthy"', '"tiny"'))
    plugins = _plugins(env)
    broken = [p for p in (plugins["clash"], plugins["tiny"]) if p["status"] == "broken"]
    assert len(broken) == 1  # whichever loaded second
    assert "gentool-tiny" in broken[0]["error"] and "gentool-clash" in broken[0]["error"]
    listed = _models(env)["tiny"]  # still listed, marked as unusable, with both claimants
    assert listed["summary"].startswith("ambiguous") and {"gentool-clash", "gentool-tiny"} <= set(
        listed["distribution"].split(", ")
    )
    result = run_gentool("run", "--model", "tiny", "--steps", "1", env=env)
    assert result.code == 2
    assert "gentool-tiny" in result.err and "gentool-clash" in result.err and "Traceback" not in result.text


def test_component_that_fails_check(plugin_path, tmp_path):
    root, env = plugin_path
    write_distribution(root, "gentool-hollow", "hollow", "hollow_plugin", GOOD.replace("gentool_tiny.model:Tiny", "hollow_plugin:Missing"))
    assert _plugins(env)["hollow"]["status"] == "ok"  # lazy: nothing imported yet
    check = run_gentool("plugins", "--check", env=env)
    assert check.code == 1
    assert "healthy" in check.out and "hollow_plugin:Missing" in check.out
    result = run_gentool("run", "--model", "healthy", "--steps", "1", "--out", str(tmp_path / "r"), env=env)
    assert result.code == 2 and "gentool-hollow" in result.err and "healthy" in result.err
    assert "Traceback" not in result.text


def test_check_passes_on_healthy_tree(plugin_path):
    _, env = plugin_path
    assert run_gentool("plugins", "--check", env=env).code == 0


def test_incompatible_core_version(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-future", "future", "future_plugin", GOOD, requires=["gentool-core>=9.0"])
    plugin = _plugins(env)["future"]
    assert plugin["status"] == "broken" and "gentool-core>=9.0" in plugin["error"]


def test_strict_mode_makes_every_command_fail(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-crashy", "crashy", "crashy_plugin", "raise RuntimeError('half installed')\n")
    strict = {**env, "GENTOOL_STRICT_PLUGINS": "1"}
    for args in (["list"], ["plugins"], ["info", "tiny"]):
        result = run_gentool(*args, env=strict)
        assert result.code == 2, args
        assert "crashy" in result.err and "gentool-crashy" in result.err and "half installed" in result.err
    assert run_gentool("list", env=env).code == 0


def test_disable_and_only_lists(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-crashy", "crashy", "crashy_plugin", "raise RuntimeError('x')\n")
    disabled = _plugins({**env, "GENTOOL_DISABLE_PLUGINS": "crashy"})
    assert "crashy" not in disabled and "tiny" in disabled
    only_core = _plugins({**env, "GENTOOL_PLUGINS": ""})
    assert list(only_core) == ["core"]
    assert set(_plugins({**env, "GENTOOL_PLUGINS": "tiny"})) == {"core", "tiny"}


def test_plugin_commands_and_a_failing_one(plugin_path):
    root, env = plugin_path
    write_distribution(root, "gentool-hello", "hello", "hello_plugin", """
import gentool

@gentool.hookimpl
def register_commands(app):
    @app.command()
    def hello(name: str = "world"):
        print(f"hello {name}")
""")
    write_distribution(root, "gentool-badcmd", "badcmd", "badcmd_plugin", """
import gentool

@gentool.hookimpl
def register_commands(app):
    @app.command()
    def half():
        pass
    raise RuntimeError("command table is broken")
""")
    result = run_gentool("hello", "--name", "gentool", env=env)
    assert result.code == 0 and "hello gentool" in result.out
    assert run_gentool("half", env=env).code == 2
    plugins = _plugins(env)
    assert plugins["badcmd"]["status"] == "broken" and "command table is broken" in plugins["badcmd"]["error"]


def test_listing_imports_no_torch():
    import subprocess
    import sys

    code = (
        "import sys\nfrom gentool.cli import main\n"
        "for args in (['list'], ['plugins'], ['--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip().endswith("NO-TORCH")
