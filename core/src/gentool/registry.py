"""Components registered by plugins: lazy records looked up by kind and name, built with validated configs."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from gentool.errors import GentoolError, unknown_choice


@dataclass
class Component:
    """One registered component. `target` and `config` may be `"module:attr"` strings, imported on first use."""

    name: str
    kind: str
    target: Any
    config: Any = None
    summary: str = ""
    plugin: str = ""
    distribution: str = ""
    version: str = ""

    @property
    def origin(self) -> str:
        return f'{self.kind} "{self.name}" from {self.distribution or "an unknown distribution"}'

    def load(self) -> Any:
        """The component's class or factory, imported now; a failure is a GentoolError naming the plugin."""
        return self._resolve(self.target, "target")

    def config_model(self) -> type:
        """The component's pydantic config model (an empty one when the plugin gave none)."""
        from pydantic import BaseModel

        from gentool.config import ComponentConfig

        if self.config is None:
            return ComponentConfig
        model = self._resolve(self.config, "config")
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise GentoolError(f"The {self.origin} is broken: its config {model!r} is not a pydantic model.")
        return model

    def parse(self, options: dict[str, Any] | None, prefix: str) -> Any:
        """Validate `options` against the config model; errors name `prefix.key`, the value and what is accepted."""
        from gentool.config import validate_section

        return validate_section(self.config_model(), options or {}, prefix)

    def _resolve(self, spec: Any, what: str) -> Any:
        if not isinstance(spec, str):
            return spec
        module_name, _, attr = spec.partition(":")
        try:
            obj = importlib.import_module(module_name)
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
        except Exception as exc:  # a plugin's import may raise anything
            raise GentoolError(
                f'The {self.origin} is broken: its {what} "{spec}" failed to load '
                f"({type(exc).__name__}: {exc}). Run `gentool plugins --check` for the full report."
            ) from exc
        return obj


@dataclass
class Registry:
    """Every component by (kind, name), plus names claimed by more than one distribution."""

    components: dict[tuple[str, str], Component] = field(default_factory=dict)
    conflicts: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, component: Component) -> str | None:
        """Add a component; returns a conflict message instead when another distribution holds the name."""
        key = (component.kind, component.name)
        held = self.components.get(key)
        if held is None:
            self.components[key] = component
            return None
        dists = self.conflicts.setdefault(key, [held.distribution])
        dists.append(component.distribution)
        return (
            f'{component.kind} "{component.name}" is registered by both {held.distribution} '
            f"and {component.distribution}"
        )

    def names(self, kind: str) -> list[str]:
        return sorted(name for (k, name) in self.components if k == kind)

    def of_kind(self, kind: str | None = None) -> list[Component]:
        return sorted(
            (c for c in self.components.values() if kind is None or c.kind == kind), key=lambda c: (c.kind, c.name)
        )

    def get(self, kind: str, name: str) -> Component:
        """The component, or a GentoolError listing the valid names (and a close one), or naming a conflict."""
        key = (kind, name)
        if key in self.conflicts:
            both = " and ".join(self.conflicts[key])
            raise GentoolError(
                f'The {kind} name "{name}" is registered by more than one distribution ({both}), so it is ambiguous. '
                "Uninstall one of them, or disable one with GENTOOL_DISABLE_PLUGINS."
            )
        if key not in self.components:
            hint = ""
            if kind == "model" and not self.names("model"):
                hint = " No model plugin is installed: install one, e.g. `pip install -e plugins/vqvae`."
            raise unknown_choice(kind, name, self.names(kind), hint)
        return self.components[key]


def registry() -> Registry:
    """The process-wide registry, filled by loading every plugin once."""
    from gentool.plugins import plugin_state

    return plugin_state().registry


def build(kind: str, name: str, options: dict[str, Any] | None = None, *, prefix: str | None = None, **context: Any):
    """Build component `name` of `kind` as `target(config, **context)` with `options` validated by its config.

    Plugins use this to build components they depend on by name, e.g. a GAN its loss:
    `build("loss", config.loss, config.loss_options, prefix="model.loss_options")`.
    """
    component = registry().get(kind, name)
    config = component.parse(options, prefix or kind)
    return component.load()(config, **context)
