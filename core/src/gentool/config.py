"""Run configuration: defaults < `--config FILE.toml` < command-line flags < `--set section.key=value`.

The resolved run is one JSON-able dict written to `config.json`:
    {"model": {"name": "vqvae", <model options>}, "dataset": {"name": "digits", <options>},
     "metrics": ["fid"], "metric": {"fid": {<options>}}, "trainer": {...}, "eval": {...},
     "seed": 0, "device": "auto", "out": "runs/vqvae-...", "steps": null, "minutes": null}
Component options are validated by the component's own pydantic model, so a typo fails before any work.
"""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from gentool.errors import GentoolError, did_you_mean


def ComponentName(kind: str) -> Any:  # noqa: N802 - used as a type: `loss: ComponentName("loss") = "hinge"`
    """A str option naming a registered component of `kind`, checked against the registry at validation time, so a
    typo fails before any work with the valid names (and a close one)."""

    def check(value: str) -> str:
        from gentool.registry import registry

        names = registry().names(kind)
        if value not in names:
            raise ValueError(f'no {kind} is called "{value}"; valid: {", ".join(names)}.{did_you_mean(value, names)}')
        return value

    return Annotated[str, AfterValidator(check)]


AugmentPolicy = Literal["color", "translation", "cutout"]
"""A DiffAugment policy name, for an adversarial model's `augment: list[AugmentPolicy]` option (gentool.regularizers)."""


class ComponentConfig(BaseModel):
    """Base of every component's options: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class SampleConfig(ComponentConfig):
    """Base of a model's sample-time options (truncation, sampler, step count, temperature): chosen when sampling a
    trained run, never fixed by training. A model registers its subclass as `sample_config`."""


def sample_options(config: type[BaseModel], options: Any = None, prefix: str = "sample") -> Any:
    """`options` (None, a dict of fields or an instance) as a validated `config` instance; a GentoolError names the
    bad key, its value and what is accepted."""
    if isinstance(options, config):
        return options
    if isinstance(options, BaseModel):
        options = options.model_dump()
    if options is not None and not isinstance(options, dict):
        raise GentoolError(f"Sample options must be a dict of {config.__name__}'s fields, not {type(options).__name__}.")
    return validate_section(config, dict(options or {}), prefix)


class ModelConfig(ComponentConfig):
    """Options every model has; plugins subclass it and may change the defaults.

    `trainer_defaults` (a class attribute, not an option) holds the trainer settings the model trains best with, e.g.
    {"schedule": "linear-decay"}; they replace the trainer's defaults and a user's `trainer.*` settings replace them.
    """

    trainer_defaults: ClassVar[dict[str, Any]] = {}

    steps: int = Field(2000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(64, gt=0, description="training batch size")
    ema: bool = Field(False, description="keep an exponential moving average of the weights for sampling")
    ema_decay: float = Field(0.999, gt=0, lt=1, description="decay of the weight average")


class AdversarialConfig(ModelConfig):
    """Options every adversarially trained model shares: the loss by name, the discriminator's normalisation,
    n_critic and the two Adam optimizers. GAN plugins subclass it and add their networks' options."""

    discriminator_norm: Literal["auto", "batch", "none"] = Field(
        "auto",
        description="BatchNorm after every discriminator convolution but the first (DCGAN's), or none; auto: batch, "
        'except none with "wasserstein-gp" (its penalty needs per-sample gradients) or spectral_norm',
    )
    spectral_norm: bool = Field(False, description="spectral normalisation (Miyato et al. 2018) on every discriminator layer")
    n_critic: int = Field(1, ge=1, description="discriminator updates per generator update (5 is usual for wasserstein-gp)")
    loss: ComponentName("loss") = Field(
        "nonsaturating",
        description='adversarial loss by name: "nonsaturating" (DCGAN\'s), "hinge", "lsgan", "wasserstein-gp", "forward-kl", or any '
        "registered adversarial loss",
    )
    loss_options: dict[str, Any] = Field(
        default_factory=dict, description='options of the loss, e.g. {gp_weight = 10} for "wasserstein-gp"'
    )
    lr_generator: float = Field(5e-4, gt=0, description="Adam learning rate of the generator (DCGAN used 2e-4)")
    lr_discriminator: float = Field(5e-4, gt=0, description="Adam learning rate of the discriminator (DCGAN used 2e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam beta1 of both optimizers (DCGAN: 0.5)")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam beta2 of both optimizers")

    def uses_batch_norm(self) -> bool:
        """Whether the discriminator gets BatchNorm (resolves `discriminator_norm = "auto"`)."""
        if self.discriminator_norm == "auto":
            return self.loss != "wasserstein-gp" and not self.spectral_norm
        return self.discriminator_norm == "batch"


class TrainerConfig(ComponentConfig):
    """How the trainer runs any model."""

    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 autocast on CUDA when supported, else fp32; fp16 uses a GradScaler (CUDA)"
    )
    clip_norm: float | None = Field(None, gt=0, description="clip each optimizer's gradient norm to this value")
    schedule: Literal["constant", "cosine", "linear-decay"] = Field(
        "constant",
        description="learning-rate schedule within a stage: constant; cosine to zero; linear-decay: constant, then "
        "linear to zero from `decay_start` (CycleGAN's)",
    )
    decay_start: float = Field(
        0.5, ge=0, lt=1, description='fraction of a stage after which "linear-decay" starts to lower the learning rate'
    )
    warmup_steps: int = Field(0, ge=0, description="linear learning-rate warm-up at the start of each stage")
    log_every: int = Field(25, gt=0, description="steps between lines of metrics.jsonl")
    sample_every: int = Field(500, gt=0, description="steps between sample grids in samples/")
    checkpoint_every: int = Field(500, gt=0, description="steps between checkpoints")
    grid_size: int = Field(64, gt=0, le=400, description="images in each sample grid")
    tensorboard: bool = Field(False, description="also log to TensorBoard (needs the `tensorboard` extra)")
    channels_last: bool | Literal["auto"] = Field(
        "auto", description="keep 4-D weights and image batches in channels-last memory order; auto: when the model "
        "says it pays (its `prefers_channels_last`); no effect on points"
    )
    fused_optimizers: bool | Literal["auto"] = Field(
        "auto", description="rebuild the model's Adam and AdamW optimizers (those that leave `fused` and `foreach` "
        "unset) with torch's fused kernel, the same update in one pass over all parameters; auto: on the CPU and CUDA"
    )
    narrow_convs: bool = Field(
        True, description="on the CPU, compute each nn.Conv2d (stride 1) and nn.ConvTranspose2d to one output channel "
        "(a grey image's last layer) as a 1x1 convolution to its k*k taps and their shifted sum: the same arithmetic, "
        "faster there than torch's kernel for one channel (gentool.api.NarrowConv2d); false keeps torch's"
    )
    compile: Literal["off", "default", "max-autotune", "reduce-overhead"] = Field(
        "off",
        description="torch.compile each of the model's submodules in place with this mode; the steps that compile "
        "count in train_seconds and are reported as compile.seconds in summary.json; where this machine cannot "
        "compile, the run trains eager and says why",
    )


class EvalConfig(ComponentConfig):
    """How metrics are computed at the end of a run and by `gentool eval`."""

    samples: int = Field(1000, gt=0, description="generated samples per metric (FID depends on this number)")
    batch_size: int = Field(250, gt=0, description="batch size for sampling and feature extraction")
    model_metrics: bool = Field(
        True,
        description="also compute, at the end of `gentool run`, the metrics the model reports by default (its "
        "`report_metrics`, e.g. recon and codebook for vqvae) with their default options",
    )


class RunConfig(ComponentConfig):
    """The top-level keys of a run; `model`, `dataset` and `metric` sections are validated by their components."""

    model: dict[str, Any] = Field(description="the model section: `name` plus the model's options (see Models below)")
    dataset: dict[str, Any] = Field(
        default_factory=lambda: {"name": "digits"},
        description="the dataset section: `name` (default `digits`) plus the dataset's options",
    )
    metrics: list[str] = Field(
        default_factory=list, description="metrics computed at the end of the run, by name (`--metric`, repeatable)"
    )
    metric: dict[str, Any] = Field(
        default_factory=dict,
        description="metric options: `metric.NAME.KEY` for one metric, `metric.KEY` for every selected metric having KEY",
    )
    sample: dict[str, Any] = Field(
        default_factory=dict,
        description="the model's sample-time options (truncation, sampler, steps...; see `gentool info MODEL`), used "
        "by the final metrics and the training grids; `gentool sample` and `gentool eval` take them too",
    )
    trainer: TrainerConfig = Field(
        default_factory=TrainerConfig, description="how the trainer runs any model (see the trainer section)"
    )
    eval: EvalConfig = Field(default_factory=EvalConfig, description="how metrics are computed (see the eval section)")
    seed: int = Field(0, description="random seed of weights, data order and sampling noise")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field("auto", description="auto (CUDA, then MPS, then CPU), cpu, cuda or mps")
    out: str | None = Field(None, description="the run directory (default `runs/<model>-<YYYYmmdd-HHMMSS>`)")
    steps: int | None = Field(
        None, gt=0, description="training budget in optimizer steps over all stages; default: the model's `steps` option"
    )
    minutes: float | None = Field(None, gt=0, description="wall-clock training budget instead of steps")


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The option names of the (nested) pydantic model that holds the key at `loc`."""
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _format_errors(error: ValidationError, prefix: str, model: type[BaseModel]) -> str:
    parts = []
    for item in error.errors():
        key = ".".join([prefix, *[str(p) for p in item["loc"]]]).strip(".")
        if item["type"] == "extra_forbidden":
            fields = _fields_at(model, tuple(item["loc"]))
            leaf = str(item["loc"][-1])
            valid = ", ".join(fields) if fields else "(none)"
            parts.append(
                f'Unknown key "{key}" (value {item["input"]!r}). Valid keys here: {valid}.{did_you_mean(leaf, fields)}'
            )
        elif item["type"] == "missing":
            parts.append(f'Missing key "{key}".')
        else:
            msg = item["msg"].removeprefix("Value error, ")
            parts.append(f'Invalid value for "{key}": {item["input"]!r}. {msg}{"" if msg.endswith((".", "?")) else "."}')
    return " ".join(parts)


def validate_section(model: type[BaseModel], options: dict[str, Any], prefix: str) -> Any:
    """`model(**options)`, or a GentoolError naming the dotted key, the bad value and what is accepted."""
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        raise GentoolError(_format_errors(exc, prefix, model)) from None


def parse_value(text: str) -> Any:
    """A `--set` value: TOML syntax when it parses (1, 0.5, true, [1, 2], "x"), else the raw string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_set(raw: dict[str, Any], assignment: str) -> None:
    """Apply one `section.key=value` to the raw config dict."""
    key, sep, value = assignment.partition("=")
    if not sep or not key.strip():
        raise GentoolError(f'Invalid --set "{assignment}": expected KEY=VALUE, e.g. --set trainer.clip_norm=1.0.')
    node = raw
    parts = key.strip().split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise GentoolError(f'Invalid --set "{assignment}": "{part}" holds a value, not a section.')
        node = child
    node[parts[-1]] = parse_value(value.strip())


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep merge: sections merge key by key, other values replace."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise GentoolError(f'Config file "{path}" does not exist.')
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise GentoolError(f'Config file "{path}" is not valid TOML: {exc}.') from None


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; used to name the keys that differ between two configs."""
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return out
