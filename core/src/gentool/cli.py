"""The `gentool` command's entry point. `gentool list` and `gentool --help` answer on a quick path that imports
neither typer, rich, pydantic nor torch; every other command goes to the typer app in `gentool.cli_commands`."""

from __future__ import annotations

import json
import sys
from typing import Any

from gentool.errors import GentoolError

USAGE = "Usage: gentool [OPTIONS] COMMAND [ARGS]..."
DESCRIPTION = "Train and evaluate image generative models. Models, datasets, metrics and losses come from plugins."

# The commands of `gentool.cli_commands.app` and the first line of each one's help, for the quick `--help`
# (tests/core/test_cli_quick.py keeps it equal to the app's).
COMMANDS = {
    "list": "List the installed components: name, kind, distribution, version, summary.",
    "info": "Show a component's options: key, type, default and description.",
    "plugins": "List installed plugin distributions, the hooks they implement, and broken ones with the reason.",
    "run": "Train a model, write its run directory, and evaluate the requested metrics.",
    "sample": "Draw samples from a trained run as a PNG grid or an .npz of arrays, with the model's sample options.",
    "eval": "Evaluate a finished run on its held-out test split; results are merged into its summary.json.",
    "interpolate": "Walk between latents: rows of images from one random latent to another, as a grid or an animation.",
    "project": "Find for each image the latent whose generation is closest to it (pixels plus features).",
    "translate": "Translate images to the other domain: one file per input under the same relative name, and a grid.",
    "compare": "Put runs side by side: differing config keys, metrics, the last sample grid of each, loss curves.",
    "new": "Create a new plugin package from a template.",
}
LIST_COLUMNS = ("name", "kind", "distribution", "version", "summary")


def __getattr__(name: str) -> Any:
    if name == "app":  # `from gentool.cli import app` (scripts/gen_reference.py) still finds the typer app
        from gentool.cli_commands import app

        return app
    raise AttributeError(f"module 'gentool.cli' has no attribute {name!r}")


def list_rows(state: Any, kind: str | None) -> list[dict[str, str]]:
    """The rows `gentool list [KIND]` shows (features only when asked for); an unknown kind is a GentoolError."""
    from gentool.errors import unknown_choice
    from gentool.hookspecs import KINDS

    if kind is not None and kind not in KINDS:
        raise unknown_choice("kind", kind, KINDS)
    registry = state.registry
    rows = []
    for c in registry.of_kind(kind):
        if kind is None and c.kind == "features":
            continue
        row = {"name": c.name, "kind": c.kind, "distribution": c.distribution, "version": c.version, "summary": c.summary}
        claimants = registry.conflicts.get((c.kind, c.name))
        if claimants:  # shown, so that the user sees why `run` refuses the name
            row["distribution"] = ", ".join(claimants)
            row["summary"] = f"ambiguous: registered by {' and '.join(claimants)}; unusable until one is removed"
        rows.append(row)
    return rows


def render_list(state: Any, kind: str | None, as_json: bool) -> str:
    """`gentool list`'s output: a JSON array, or a plain table (one line per component) and a hint when no model
    is installed."""
    rows = list_rows(state, kind)
    if as_json:
        return json.dumps(rows, indent=2)
    widths = [max([len(col)] + [len(str(r[col])) for r in rows]) for col in LIST_COLUMNS[:-1]]
    lines = []
    for cells in [dict(zip(LIST_COLUMNS, LIST_COLUMNS))] + rows:
        head = "  ".join(str(cells[col]).ljust(w) for col, w in zip(LIST_COLUMNS, widths))
        lines.append(f"{head}  {cells['summary']}".rstrip())
    if kind in (None, "model") and not state.registry.names("model"):
        lines.append(
            "No model is installed. Install a model plugin beside core, e.g. `pip install -e plugins/vqvae` "
            "from a gentool checkout (or `pip install gentool-vqvae`), then run `gentool list` again."
        )
    return "\n".join(lines)


def render_help() -> str:
    """The top-level `gentool --help`."""
    width = max(len(name) for name in COMMANDS)
    lines = [USAGE, "", DESCRIPTION, "", "Options:", f"  {'--help'.ljust(width)}  Show this message and exit.", "",
             "Commands:"]
    lines += [f"  {name.ljust(width)}  {text}" for name, text in COMMANDS.items()]
    lines += ["", "`gentool COMMAND --help` shows a command's options; --debug shows the traceback of an error."]
    return "\n".join(lines)


def quick_answer(state: Any, args: list[str]) -> tuple[str, int] | None:
    """(output, exit code) for `gentool`, `gentool --help` and `gentool list [KIND] [--json]`, else None (the typer
    app answers). Plugins that add commands send `--help` to the typer app, which lists them."""
    if not args or args == ["--help"]:
        if state.manager.hook.register_commands.get_hookimpls():
            return None
        return render_help(), 0 if args else 2
    if args[0] != "list" or len(args) > 3:
        return None
    rest = args[1:]
    as_json = "--json" in rest
    rest = [a for a in rest if a != "--json"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest) or args.count("--json") > 1:
        return None
    return render_list(state, rest[0] if rest else None, as_json), 0


def _report(label: str, message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True).print(Text.assemble((label, "red"), message), highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors print one paragraph and exit 2 (no traceback unless --debug)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        from gentool.plugins import check_strict, plugin_state

        state = plugin_state()
        check_strict(state)
        quick = quick_answer(state, args)
        if quick is not None:
            try:
                print(quick[0])
            except BrokenPipeError:  # `gentool list | head`
                sys.stdout = None
            sys.exit(quick[1])
        from gentool.cli_commands import app
        from gentool.plugins import add_plugin_commands

        add_plugin_commands(state, app)
        check_strict(state)
        app(args=args, prog_name="gentool")  # exits through SystemExit; usage errors exit 2 there
    except GentoolError as exc:
        if debug:
            raise
        _report("Error: ", str(exc))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        if debug:
            raise
        _report("Unexpected error: ", f"{type(exc).__name__}: {exc}. Run again with --debug for the traceback.")
        sys.exit(1)
