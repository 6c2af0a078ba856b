"""`gentool new ...`: the sub-command group that writes new projects (imports no torch)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from gentool.scaffold.plugin import KINDS, names_for, write_plugin

new_app = typer.Typer(help="Create a new plugin package from a template.", no_args_is_help=True)
KIND_HELP = ", ".join(KINDS)


def _installed_clash(name: str, kind: str) -> str | None:
    """The distribution that already registers a `kind` called `name` in this environment, if any."""
    from gentool.plugins import plugin_state

    component = plugin_state().registry.components.get((kind, name))
    return component.distribution if component is not None else None


@new_app.command("plugin")
def new_plugin(
    name: Annotated[str, typer.Argument(help="plugin and component name: lowercase letters, digits, dashes")],
    kind: Annotated[str, typer.Option(help=f"what the plugin registers: {KIND_HELP}")] = "model",
    directory: Annotated[Path, typer.Option("--dir", help="folder to create gentool-NAME in")] = Path("."),
) -> None:
    """Write an installable plugin package gentool-NAME with a working component of KIND, its tests and a README."""
    console = Console()
    target = write_plugin(name, kind, directory)
    names = names_for(name, kind)
    console.print(f"Wrote the {kind} plugin {names.dist} (import package {names.package}) in {escape(str(target))}:")
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        console.print(f"  {escape(str(path.relative_to(target)))}")
    console.print(
        "Next: pip install -e " + escape(str(target)) + f" && gentool list {kind}\n"
        "      cd " + escape(str(target)) + " && python -m pytest"
    )
    held = _installed_clash(name, kind)
    if held == names.dist:
        console.print(f"Note: {held} is already installed here; installing this package replaces it.")
    elif held:
        console.print(
            f'Note: a {kind} called "{name}" is already installed from {held}; with both installed the name is '
            "ambiguous and gentool refuses it. Rename one of them."
        )
