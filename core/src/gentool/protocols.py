"""The five component contracts: Model, Loss, Quantizer, Dataset, Metric, and the small records they exchange.

Conventions at every public boundary:
- images are float tensors, NCHW, values in [0, 1]; points (toy 2-D sets) are float (N, D) tensors;
- labels are int64 tensors of shape (N,) with values in [0, num_classes);
- every component is built as `Target(config, **context)` where `config` is its validated pydantic model.

This module imports no torch at run time, so `gentool list` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch

    from gentool.evaluate import Evaluator
    from gentool.trainer.context import StepContext

@dataclass(frozen=True)
class DataInfo:
    """What a model needs to size itself: `shape` is (C, H, W) for images or (D,) for points.

    `features` names the registered feature network that suits the data ("" lets the evaluator's documented
    fallback rule choose). `domains` describes each domain of multi-domain (unpaired) data, in order; the top-level
    fields then describe domain 0.
    """

    kind: Literal["image", "points"]
    shape: tuple[int, ...]
    num_classes: int = 0  # 0 when the data has no labels
    train_size: int = 0
    class_names: tuple[str, ...] = ()
    name: str = ""
    features: str = ""
    domains: tuple[DataInfo, ...] = ()

    @property
    def labelled(self) -> bool:
        return self.num_classes > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "shape": list(self.shape),
            "num_classes": self.num_classes,
            "train_size": self.train_size,
            "class_names": list(self.class_names),
            "name": self.name,
            "features": self.features,
            "domains": [domain.to_json() for domain in self.domains],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataInfo:
        return cls(
            kind=data["kind"],
            shape=tuple(data["shape"]),
            num_classes=data.get("num_classes", 0),
            train_size=data.get("train_size", 0),
            class_names=tuple(data.get("class_names", ())),
            name=data.get("name", ""),
            features=data.get("features", ""),
            domains=tuple(cls.from_json(domain) for domain in data.get("domains", ())),
        )


@dataclass
class Batch:
    """One training batch on the training device.

    `x`: images (N, C, H, W) in [0, 1] or points (N, D); `y`: labels (N,) or None;
    `index`: (N,) int64 positions of the items in the train split (GLO keeps one latent per item);
    `domains`: for multi-domain data, one independently shuffled Batch per domain (x, y, index are domain 0's).
    """

    x: torch.Tensor
    y: torch.Tensor | None
    index: torch.Tensor
    domains: tuple[Batch, ...] = ()


@dataclass(frozen=True)
class Stage:
    """A phase of training with its own optimizers; `share` is its fraction of the run's step or time budget and
    `batch_size`, when set, replaces the model's batch size for this stage (progressive growing: one per resolution)."""

    name: str
    share: float = 1.0
    batch_size: int | None = None


@dataclass
class QuantizerOutput:
    """Result of quantizing latents z of shape (N, D, H, W).

    `quantized`: same shape as z, with a straight-through (or equivalent) gradient to z;
    `indices`: (N, H, W) int64 code indices (FSQ: the implicit code index);
    `loss`: scalar auxiliary loss to add to the reconstruction loss (codebook + commitment terms; only the
    commitment term for EMA codebooks; 0 for FSQ);
    `metrics`: floats or 0-dim tensors to log, e.g. {"usage": fraction of codes used in the batch, "perplexity": ...}.
    """

    quantized: torch.Tensor
    indices: torch.Tensor
    loss: torch.Tensor
    metrics: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Model(Protocol):
    """A generative model: a `torch.nn.Module` built as `Model(config, info: DataInfo)`, keeping both as attributes.

    The trainer owns the loop, devices, precision, clipping, EMA, distribution, logging and checkpoints;
    the model owns only its maths:
    - `stages()` lists the phases in order (a GAN: [adversarial]; a VQ-VAE: [autoencoder, prior]).
    - `optimizers(stage)` returns the named optimizers of that stage (a GAN: {"disc": ..., "gen": ...}).
    - `train_step(batch, ctx)` does one step of the current stage, calling `ctx.step(name, loss)` once per
      optimizer update (any number of times: n_critic discriminator updates then one generator update),
      and returns the scalars to log (tensors or floats, detached).
    - `sample(n, labels=None, generator=None[, options])` returns n new images in [0, 1] (points for points data);
      a model with `conditional = True` accepts `labels` (N,) (on any device: the model moves them) and
      otherwise draws them uniformly. Noise comes from `generator` (a CPU generator) when given. A model that
      registers a `sample_config` also takes `options`: core passes a validated instance of it; Python callers may
      pass a dict or None (normalise with `gentool.api.sample_options`).
    Optional members, looked up with getattr: `reconstruct(x) -> x_hat` for autoencoders;
    `encode_indices(x)` with `codebook_size: int` for quantized models (the codebook metric counts codes);
    `ema_modules: tuple[str, ...]` naming submodules whose weights the trainer averages (used for sampling and the
    saved weights); `end_stage(stage, ctx)` called after a stage; `report_metrics: tuple[str, ...]` naming cheap
    metrics that every `gentool run` of the model computes at the end besides the requested ones (a VQ-VAE: recon
    and codebook); `extra_state() -> dict[str, Tensor]` and `load_extra_state(state)` for training state that is not
    in the state_dict but must survive a resume (an image pool); `translate(x, direction[, options])` with
    `directions: tuple[str, ...]` for translation models; `grid(n, generator) -> images` for what the training
    sample grids show when it is not plain samples (source | translation | cycle rows).
    """

    conditional: ClassVar[bool]
    config: Any
    info: DataInfo

    def stages(self) -> list[Stage]: ...

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]: ...

    def train_step(self, batch: Batch, ctx: StepContext) -> dict[str, Any]: ...

    def sample(
        self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None
    ) -> torch.Tensor: ...


@runtime_checkable
class Loss(Protocol):
    """A loss built as `Loss(config)`; `role` says which of two call forms it implements.

    role "reconstruction": `loss(pred, target) -> (N,)` per-sample loss, summed over non-batch dims; a loss with
    `accepts_logits = True` also takes `loss(logits, target, logits=True)` (pre-sigmoid decoder outputs).
    role "adversarial": `loss.discriminator(critic, real, fake) -> scalar` where `critic(x) -> (N,) logits`
    (it may call the critic more than once, e.g. a gradient penalty on interpolates), and
    `loss.generator(fake_logits) -> scalar`.
    """

    role: ClassVar[str]


@runtime_checkable
class Quantizer(Protocol):
    """An `nn.Module` built as `Quantizer(config, dim=D)` mapping latents (N, D, H, W) to a QuantizerOutput.

    `codebook_size` is the number of distinct codes; `lookup(indices (N, H, W)) -> (N, D, H, W)` maps codes
    back to latents (the prior's samples decode through it). Buffers (EMA statistics) must stay identical across
    ranks under torchrun: reduce them with `gentool.api.all_reduce_sum` before updating.
    """

    codebook_size: int

    def forward(self, z: torch.Tensor) -> QuantizerOutput: ...

    def lookup(self, indices: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class Dataset(Protocol):
    """A dataset built as `Dataset(config)`; reading or generating the data happens in `split`, not `__init__`.

    `info()` describes the data. `split(name)` for name in ("train", "test") returns either an `InMemorySplit`
    (small sets: the trainer moves it to the device and batches there), any map-style torch dataset whose items are
    `(x, label)` with x float CHW in [0, 1] and label an int (-1 when unlabelled) (large sets: streamed with a
    DataLoader), or a `MultiDomainSplit` of one such split per domain (unpaired data; `info().domains` describes
    them). Splits are deterministic for a given seed.
    """

    def info(self) -> DataInfo: ...

    def split(self, name: str) -> Any: ...


@runtime_checkable
class Metric(Protocol):
    """A metric built as `Metric(config)`; `compute(evaluator)` returns {key: float} for summary.json.

    The evaluator hands out (and caches) the held-out test images, model samples, reconstructions and
    feature-network features. A metric that does not apply raises `NotApplicable(reason)`.
    """

    def compute(self, evaluator: Evaluator) -> dict[str, float]: ...


# The members `gentool plugins --check` looks for on a registered target (class attributes or methods).
REQUIRED_MEMBERS: dict[str, tuple[str, ...]] = {
    "model": ("stages", "optimizers", "train_step", "sample", "conditional"),  # config, info: set in __init__
    "loss": ("role",),
    "quantizer": ("forward", "lookup"),
    "dataset": ("info", "split"),
    "metric": ("compute",),
    "features": (),
}
