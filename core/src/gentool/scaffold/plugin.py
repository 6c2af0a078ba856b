"""Turning a plugin NAME and kind into the files of a new plugin distribution `gentool-NAME`.

Templates are `string.Template` files under `templates/`: `common/` holds what every kind shares, `<kind>/` the
config, the component, its tests and a usage paragraph for the README. A template refers to `$name`, `$package`,
`$dist`, `$cls`, `$kind`, `$module`, `$hook`, `$summary` and `$core_requirement`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from gentool.errors import GentoolError

# kind: (hook, module holding the component, one-line summary for `gentool list`)
KINDS: dict[str, tuple[str, str, str]] = {
    "model": ("register_models", "model", "MLP variational autoencoder: Gaussian latent, Bernoulli pixels"),
    "loss": ("register_losses", "loss", "Charbonnier reconstruction loss, a smooth L1 summed per sample"),
    "quantizer": ("register_quantizers", "quantizer", "nearest-neighbour vector quantizer, straight-through gradient"),
    "dataset": ("register_datasets", "dataset", "generated stripes at 4 orientations, 16x16 gray, 4 classes"),
    "metric": ("register_metrics", "metric", "total-variation distance of pixel histograms, samples vs test images"),
}
NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
MAX_NAME = 40
RESERVED = {"core"}  # core's own entry-point name


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from NAME: component and entry point `name`, distribution `dist`, import `package`."""

    name: str
    kind: str
    dist: str
    package: str
    cls: str
    module: str
    hook: str
    summary: str
    core_requirement: str

    def substitutions(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def core_requirement(version: str | None = None) -> str:
    """The `gentool-core` range a new plugin declares: this core's minor series, e.g. `gentool-core>=0.1,<0.2`."""
    from gentool import __version__

    major, minor = (int(part) for part in (version or __version__).split(".")[:2])
    return f"gentool-core>={major}.{minor},<{major}.{minor + 1}"


def check_name(name: str) -> str:
    """`name` when it is a valid plugin NAME, else a GentoolError saying what is allowed."""
    if name.startswith("gentool-") or name.startswith("gentool_"):
        raise GentoolError(
            f'Invalid plugin name "{name}": leave out the "gentool-" prefix; '
            f"`gentool new plugin {name[8:] or 'NAME'}` makes the distribution gentool-{name[8:] or 'NAME'}."
        )
    if not NAME_PATTERN.fullmatch(name) or len(name) > MAX_NAME:
        raise GentoolError(
            f'Invalid plugin name "{name}": use lowercase letters, digits and single dashes, starting with a letter '
            f"(at most {MAX_NAME} characters), e.g. my-vae. It becomes the component name, the entry-point name, "
            "the distribution gentool-NAME and the import package gentool_NAME."
        )
    if name in RESERVED:
        raise GentoolError(f'Invalid plugin name "{name}": it is the entry-point name of gentool-core itself.')
    return name


def names_for(name: str, kind: str) -> PluginNames:
    """The derived names of plugin `name` of `kind`; a GentoolError for an invalid name or kind."""
    from gentool.errors import unknown_choice

    if kind not in KINDS:
        raise unknown_choice("kind", kind, KINDS)
    check_name(name)
    hook, module, summary = KINDS[kind]
    return PluginNames(
        name=name,
        kind=kind,
        dist=f"gentool-{name}",
        package=f"gentool_{name.replace('-', '_')}",
        cls="".join(part.capitalize() for part in name.split("-")),
        module=module,
        hook=hook,
        summary=summary,
        core_requirement=core_requirement(),
    )


def _template(path: str) -> Template:
    return Template(resources.files("gentool.scaffold").joinpath("templates", path).read_text(encoding="utf-8"))


def render(names: PluginNames) -> dict[str, str]:
    """{relative path: text} of every file of the plugin, rendered in memory (nothing is written)."""
    subs = names.substitutions()
    subs["usage"] = _template(f"{names.kind}/usage.md.tmpl").substitute(subs).strip()
    src, pkg = "src/" + names.package, names.package
    layout = {
        "pyproject.toml": "common/pyproject.toml.tmpl",
        "README.md": "common/README.md.tmpl",
        f"{src}/__init__.py": "common/__init__.py.tmpl",
        f"{src}/plugin.py": "common/plugin.py.tmpl",
        f"{src}/config.py": f"{names.kind}/config.py.tmpl",
        f"{src}/{names.module}.py": f"{names.kind}/{names.module}.py.tmpl",
        "tests/conftest.py": "common/conftest.py.tmpl",
        f"tests/test_{pkg}.py": f"{names.kind}/test.py.tmpl",
    }
    return {path: _template(template).substitute(subs) for path, template in layout.items()}


def write_plugin(name: str, kind: str = "model", directory: str | Path = ".") -> Path:
    """Write the plugin `gentool-NAME` of `kind` into `directory`/gentool-NAME and return that folder.

    Refuses (GentoolError, nothing written) an invalid name or kind, a missing parent, or an existing target.
    """
    names = names_for(name, kind)
    parent = Path(directory).expanduser()
    target = parent / names.dist
    if not parent.is_dir():
        raise GentoolError(f'--dir "{parent}" is not an existing folder; create it first or choose another.')
    if target.exists():
        raise GentoolError(f'"{target}" already exists; nothing was written. Remove it or choose another --dir.')
    files = render(names)  # every template renders before the first file is written
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
