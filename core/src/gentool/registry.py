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
    sample_config: Any = None

    @property
    def origin(self) -> str:
        return f'{self.kind} "{self.name}" from {self.distribution or "an unknown distribution"}'

    def load(self) -> Any:
        """The component's class or factory, imported now; a failure is a GentoolError naming the plugin."""
        return self._resolve(self.target, "target")

    def config_model(self) -> type:
        """The component's pydantic config model (when the plugin gave none: ModelConfig for a model, else empty)."""
        from pydantic import BaseModel

        from gentool.config import ComponentConfig, ModelConfig

        if self.config is None:
            return ModelConfig if self.kind == "model" else ComponentConfig
        model = self._resolve(self.config, "config")
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise GentoolError(f"The {self.origin} is broken: its config {model!r} is not a pydantic model.")
        return model

    def sample_config_model(self) -> type:
        """The model's sample-time options model (an empty SampleConfig when it declares none)."""
        from gentool.config import SampleConfig

        if self.sample_config is None:
            return SampleConfig
        model = self._resolve(self.sample_config, "sample_config")
        if not (isinstance(model, type) and issubclass(model, SampleConfig)):
            raise GentoolError(f"The {self.origin} is broken: its sample_config {model!r} is not a SampleConfig.")
        return model

    def parse(self, options: dict[str, Any] | None, prefix: str) -> Any:
        """Validate `options` against the config model; errors name `prefix.key`, the value and what is accepted."""
        from gentool.config import validate_section

        return validate_section(self.config_model(), options or {}, prefix)

    def parse_sample(self, options: dict[str, Any] | None, prefix: str = "sample") -> Any:
        """Validate sample-time `options` against the model's sample config (same errors as `parse`)."""
        from gentool.config import validate_section

        return validate_section(self.sample_config_model(), options or {}, prefix)

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


def models_with(*members: str) -> list[str]:
    """The registered models whose class has every one of `members` (for messages naming the models that can do
    what a command asks; a model whose plugin fails to import is left out)."""
    found = []
    for component in registry().of_kind("model"):
        try:
            target = component.load()
        except GentoolError:
            continue
        if all(hasattr(target, m) for m in members):
            found.append(component.name)
    return found


def registered_names(kind: str) -> list[str]:
    """The sorted names of every registered component of `kind` (for messages listing the valid choices)."""
    return registry().names(kind)


def build(
    kind: str,
    name: str,
    options: dict[str, Any] | None = None,
    *,
    prefix: str | None = None,
    role: str | None = None,
    **context: Any,
):
    """Build component `name` of `kind` as `target(config, **context)` with `options` validated by its config.

    Plugins use this to build components they depend on by name, e.g. a GAN its loss:
    `build("loss", config.loss, config.loss_options, prefix="model.loss_options", role="adversarial")`.
    With `role`, a component whose `role` differs is refused with the registered names that have that role.
    """
    component = registry().get(kind, name)
    target = component.load()
    if role is not None and getattr(target, "role", None) != role:
        fitting = [c.name for c in registry().of_kind(kind) if _has_role(c, role)]
        raise GentoolError(
            f'The {kind} "{name}" cannot be used here: it has the role {getattr(target, "role", None)!r}, not '
            f'"{role}". Valid {role} {kind} names: {", ".join(fitting) or "(none installed)"}.'
        )
    config = component.parse(options, prefix or kind)
    if kind == "model":
        return build_model(component, config, **context)
    return target(config, **context)


def build_model(component: Component, config: Any, info: Any) -> Any:
    """The model `component` builds from its validated `config` and the data's `info`, checked against the Model
    protocol (an nn.Module with stages, optimizers, train_step, sample, conditional): the one way core builds one."""
    import torch

    from gentool.protocols import Model

    model = component.load()(config, info)
    if not isinstance(model, Model) or not isinstance(model, torch.nn.Module):
        raise GentoolError(
            f"The {component.origin} is broken: the object it builds is not an nn.Module satisfying the Model "
            "protocol (stages, optimizers, train_step, sample, conditional). Run `gentool plugins --check`."
        )
    return model


def _has_role(component: Component, role: str) -> bool:
    """Whether the component's target declares `role` (a target that fails to import has none)."""
    try:
        return getattr(component.load(), "role", None) == role
    except GentoolError:
        return False
