"""The hooks a gentool plugin implements. Each `register_*` hook is handed a `register` callable:

    register(name, target, *, config=None, summary="", sample_config=None)

`name` is the component's user-facing name (lowercase, digits and dashes); `target` is `"module:attr"` (imported
only when the component is used, so listing stays fast) or the object itself; `config` is its pydantic model
(or a `"module:attr"` string for one) whose fields are the component's options; `summary` is one line for
`gentool list`; `sample_config` (models only) is the pydantic model of options chosen at sample time (a
`SampleConfig` subclass). Mark implementations with `@gentool.api.hookimpl`.
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "gentool"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_models(register: Any) -> None:
    """Register `Model` components (see `gentool.protocols.Model`)."""


@hookspec
def register_losses(register: Any) -> None:
    """Register `Loss` components (see `gentool.protocols.Loss`)."""


@hookspec
def register_quantizers(register: Any) -> None:
    """Register `Quantizer` components (see `gentool.protocols.Quantizer`)."""


@hookspec
def register_datasets(register: Any) -> None:
    """Register `Dataset` components (see `gentool.protocols.Dataset`)."""


@hookspec
def register_metrics(register: Any) -> None:
    """Register `Metric` components (see `gentool.protocols.Metric`)."""


@hookspec
def register_features(register: Any) -> None:
    """Register feature networks for metrics: `target(config)` returns an `nn.Module` mapping images in [0, 1]
    to a dict with "features" (N, D) and, for classifiers, "logits" (N, K)."""


@hookspec
def register_commands(app: Any) -> None:
    """Add sub-commands to the `gentool` typer app, e.g. `@app.command()` functions. A plugin whose hook raises
    contributes no command; the rest of the CLI works."""


# The one list of component kinds, each with the hook that registers it.
REGISTER_HOOKS = {
    "register_models": "model",
    "register_datasets": "dataset",
    "register_metrics": "metric",
    "register_losses": "loss",
    "register_quantizers": "quantizer",
    "register_features": "features",
}
KINDS = tuple(REGISTER_HOOKS.values())
