"""Describing components (`gentool info`) and checking them against their protocols (`gentool plugins --check`)."""

from __future__ import annotations

import json
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from gentool.errors import GentoolError, unknown_choice
from gentool.protocols import REQUIRED_MEMBERS
from gentool.registry import Component, Registry


def find(registry: Registry, name: str, kind: str | None) -> Component:
    """The component called `name` (of `kind` when given); an error lists names or asks for --kind."""
    matches = [c for c in registry.of_kind(kind) if c.name == name]
    if not matches:
        raise unknown_choice("component", name, {c.name for c in registry.of_kind(kind)})
    if len(matches) > 1 and kind is None:
        primary = [c for c in matches if c.kind != "features"]  # a dataset and its feature network share names
        matches = primary if len(primary) == 1 else matches
    if len(matches) > 1:
        kinds = ", ".join(c.kind for c in matches)
        raise GentoolError(f'"{name}" names components of several kinds ({kinds}); pass --kind KIND.')
    return registry.get(matches[0].kind, name)


def type_text(annotation: Any) -> str:
    """An option's type as a reader writes values: `"a" | "b"` for a Literal, `int | None`, `dict[str, Any]`
    (shown by `gentool info` and docs/configuration.md)."""
    if get_origin(annotation) is Literal:
        return " | ".join(json.dumps(choice) for choice in get_args(annotation))
    if get_origin(annotation) is None and isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _rows(model: type[BaseModel], prefix: str = "") -> list[tuple[str, str, str, str]]:
    rows = []
    for key, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(_rows(annotation, f"{prefix}{key}."))
            continue
        type_name = type_text(annotation)
        default = "(required)" if field.is_required() else repr(field.get_default(call_default_factory=True))
        rows.append((f"{prefix}{key}", type_name, default, field.description or ""))
    return rows


def describe(registry: Registry, name: str, kind: str | None) -> tuple[Component, list[tuple[str, str, str, str]]]:
    """(component, rows of option, type, default, description); a model's sample-time options follow as `sample.KEY`."""
    component = find(registry, name, kind)
    rows = _rows(component.config_model())
    if component.sample_config is not None:
        rows += _rows(component.sample_config_model(), "sample.")
    return component, rows


def check_component(component: Component) -> str | None:
    """None when the component imports, has a pydantic config and its target has its protocol's members."""
    try:
        component.config_model()
        target = component.load()
    except GentoolError as exc:
        return str(exc)
    missing = [m for m in REQUIRED_MEMBERS.get(component.kind, ()) if not hasattr(target, m)]
    if missing:
        return f"{target!r} lacks {', '.join(missing)} required of a {component.kind}"
    if not callable(target):
        return f"{target!r} is not callable, so it cannot be built as target(config)"
    return None


def check_components(registry: Registry) -> list[tuple[Component, Any]]:
    return [(c, check_component(c)) for c in registry.of_kind()]
