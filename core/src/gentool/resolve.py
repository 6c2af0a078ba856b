"""Turn a raw config (defaults < file < flags < --set) into one validated run, before any work is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gentool.config import EvalConfig, RunConfig, TrainerConfig, apply_set, merge, read_toml, validate_section
from gentool.errors import GentoolError
from gentool.registry import Component, registry


@dataclass
class ResolvedRun:
    """A validated run: the components, their configs, and `as_json()` for config.json."""

    model: Component
    model_config: Any
    dataset: Component
    dataset_config: Any
    metrics: list[tuple[str, dict[str, Any]]]
    sample_options: Any  # the model's validated SampleConfig, or None when the model declares no sample options
    trainer: TrainerConfig
    eval: EvalConfig
    seed: int
    device: str
    out: str | None
    steps: int | None
    minutes: float | None

    @property
    def total_steps(self) -> int | None:
        """The step budget: --steps, else the model's default (None when only --minutes bounds the run)."""
        if self.steps is not None:
            return self.steps
        return None if self.minutes is not None else self.model_config.steps

    def as_json(self) -> dict[str, Any]:
        return {
            "model": {"name": self.model.name, **self.model_config.model_dump(mode="json")},
            "dataset": {"name": self.dataset.name, **self.dataset_config.model_dump(mode="json")},
            "metrics": [name for name, _ in self.metrics],
            "metric": {name: options for name, options in self.metrics},
            "sample": self.sample_options.model_dump(mode="json") if self.sample_options is not None else {},
            "trainer": self.trainer.model_dump(mode="json"),
            "eval": self.eval.model_dump(mode="json"),
            "seed": self.seed,
            "device": self.device,
            "out": self.out,
            "steps": self.steps,
            "minutes": self.minutes,
        }


def gather(config_file: str | None = None, flags: dict[str, Any] | None = None, sets: list[str] = ()) -> dict:
    """The raw config: file, then the command-line flags that were given, then each --set in order."""
    raw: dict[str, Any] = read_toml(config_file) if config_file else {}
    for key, value in (flags or {}).items():
        if value is None or value == []:
            continue
        if key in ("model", "dataset"):
            raw = merge(raw, {key: {"name": value}})
        else:
            raw[key] = value
    for assignment in sets:
        apply_set(raw, assignment)
    return raw


def gather_resume(run_dir: Any, config_file: str | None, flags: dict[str, Any], sets: list[str]) -> dict:
    """The raw config of a resumed run: its config.json, then what was given now (which must agree with it, but for
    the sample options); a missing or damaged config.json is a GentoolError naming the file."""
    from gentool.rundir import RunDir

    raw = merge(RunDir(run_dir).read_config(), gather(config_file, flags, sets))
    raw["out"] = str(run_dir)
    return raw


def _component(kind: str, section: dict[str, Any], prefix: str) -> tuple[Component, Any]:
    options = dict(section)
    name = options.pop("name", None)
    if not name:
        names = ", ".join(registry().names(kind)) or "(none installed)"
        raise GentoolError(f"No {kind} given: pass --{kind} NAME (or set {prefix}.name). Installed: {names}.")
    component = registry().get(kind, str(name))
    return component, component.parse(options, prefix)


def _metric_options(names: list[str], section: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Options per metric: `metric.<name>.<key>` for one, `metric.<key>` for every selected metric having the key."""
    shared = {k: v for k, v in section.items() if k not in names and not isinstance(v, dict)}
    stray = [k for k, v in section.items() if k not in names and isinstance(v, dict)]
    if stray:
        raise GentoolError(
            f'The section "metric.{stray[0]}" names a metric that is not selected. Selected metrics: '
            f"{', '.join(names) or '(none)'}; add it with --metric {stray[0]}."
        )
    resolved, used = [], set()
    for name in names:
        component = registry().get("metric", name)
        fields = component.config_model().model_fields
        options = {k: v for k, v in shared.items() if k in fields}
        used.update(options)
        options.update(section.get(name, {}))
        config = component.parse(options, f"metric.{name}")
        resolved.append((name, config.model_dump(mode="json")))
    unused = sorted(set(shared) - used)
    if unused:
        raise GentoolError(
            f'Unknown key "metric.{unused[0]}" (value {shared[unused[0]]!r}): no selected metric '
            f"({', '.join(names) or 'none'}) has such an option. See `gentool info METRIC` for each metric's options."
        )
    return resolved


def resolve_sample_options(model: Component, options: dict[str, Any]) -> Any:
    """The model's sample options validated (errors name `sample.KEY`), or None for a model that declares none
    (any option given to such a model is an error naming the valid keys: none)."""
    parsed = model.parse_sample(options, "sample")
    return parsed if model.sample_config is not None else None


def resolve(raw: dict[str, Any]) -> ResolvedRun:
    """Validate every section of `raw`; a GentoolError names the first bad key, its value and what is accepted."""
    raw = merge({"model": {}, "dataset": {"name": "digits"}}, raw)
    run = validate_section(RunConfig, raw, "")
    model, model_config = _component("model", run.model, "model")
    defaults = getattr(model_config, "trainer_defaults", {})
    trainer = validate_section(TrainerConfig, merge(defaults, raw.get("trainer", {})), "trainer") if defaults else run.trainer
    dataset, dataset_config = _component("dataset", run.dataset, "dataset")
    names = list(dict.fromkeys(run.metrics))
    return ResolvedRun(
        model=model,
        model_config=model_config,
        sample_options=resolve_sample_options(model, run.sample),
        dataset=dataset,
        dataset_config=dataset_config,
        metrics=_metric_options(names, run.metric),
        trainer=trainer,
        eval=run.eval,
        seed=run.seed,
        device=run.device,
        out=run.out,
        steps=run.steps,
        minutes=run.minutes,
    )
