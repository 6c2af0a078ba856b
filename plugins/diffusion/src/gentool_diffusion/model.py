"""The `flow` and `ddpm` models: one U-Net, two ways of turning noise into images.

Both work on images scaled to [-1, 1], regress the U-Net onto a target with a mean squared error, and sample by
running the network a chosen number of times (`sample_steps`, chosen at sample time) without gradients.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gentool.api import Batch, DataInfo, GentoolError, Stage, sample_options
from gentool_diffusion import denoising, flow_matching
from gentool_diffusion.config import DDPMConfig, DDPMSampleConfig, DiffusionConfig, FlowConfig, FlowSampleConfig
from gentool_diffusion.guidance import drop_labels, guided
from gentool_diffusion.unet import UNet


class _Diffusion(nn.Module):
    """What `flow` and `ddpm` share: the U-Net, labels and guidance, the optimizer, the training step's frame and
    the sampling frame. Subclasses give `loss(x0, labels)` and `from_noise(noise, labels, options, draw)` (images
    in [-1, 1] from the starting noise; `draw()` gives fresh noise, None where the sampler must not add any)."""

    conditional = False  # per instance: True when built with class_conditional on labelled data
    ema_modules = ("net",)
    prefers_channels_last = True  # its default step on 2 CPU cores: +13 % images/s (docs/benchmarks.md#speed)
    sample_config: type = FlowSampleConfig

    def __init__(self, config: DiffusionConfig, info: DataInfo) -> None:
        super().__init__()
        name = type(self).__name__.lower()
        if info.kind != "image" or len(info.shape) != 3:
            raise GentoolError(f"The {name} model needs image data (C, H, W); this dataset holds {info.kind} {info.shape}.")
        if config.class_conditional and not info.labelled:
            raise GentoolError(
                f"model.class_conditional=true needs labelled data; dataset \"{info.name}\" has no labels. "
                "Set model.class_conditional=false or choose a labelled dataset."
            )
        self.config, self.info = config, info
        self.conditional = bool(config.class_conditional)
        self.null_label = info.num_classes  # the "no label" row of the label embedding
        self.net = UNet(
            info.shape[0], tuple(config.widths), config.blocks, attention=config.attention, heads=config.heads,
            dropout=config.dropout, num_classes=info.num_classes if self.conditional else 0,
        )

    # -- the trainer's protocol ------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        return [Stage(type(self).__name__.lower())]

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]:
        return {"net": torch.optim.AdamW(self.net.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)}

    def train_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        labels = None
        if self.conditional:
            labels = drop_labels(batch.y, self.null_label, self.config.label_dropout)
        with ctx.autocast():
            loss = self.loss(batch.x * 2 - 1, labels)
        ctx.step("net", loss)
        return {"loss": loss.detach()}

    @torch.no_grad()
    def sample(
        self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None, options: Any = None,
    ) -> Tensor:
        """n images in [0, 1] from noise drawn on the CPU from `generator`; `labels` (n,) choose the classes of a
        conditional model (drawn uniformly when absent; ignored by an unconditional one); `options` are the model's
        sample options (a dict, an instance, or None for the defaults)."""
        opts = sample_options(self.sample_config, options)
        noise = self.draw_latents(n, generator=generator)
        if self.conditional and labels is None:
            labels = torch.randint(0, self.info.num_classes, (n,), generator=generator)

        def draw() -> Tensor:
            return torch.randn(noise.shape, generator=generator).to(noise.device)

        return self._images(noise, labels, opts, draw)

    # -- latents: the starting noise, mapped to an image by the deterministic sampler --------------------------
    latent_path = "slerp"

    def draw_latents(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """n starting noises (n, C, H, W) ~ N(0, I), drawn on the CPU from `generator`, on the model's device."""
        device = next(self.parameters()).device
        return torch.randn((n, *self.info.shape), generator=generator).to(device)

    def generate(self, z: Tensor, *, labels: Tensor | None = None, options: Any = None) -> Tensor:
        """Images in [0, 1] of starting noises z with the deterministic sampler (ddpm: DDIM with eta 0) and the
        given sample options; a conditional model takes int64 labels (N,) or class weights (N, K), and without
        labels gives its unconditional prediction."""
        opts = self.deterministic(sample_options(self.sample_config, options))
        return self._images(z, labels, opts, None)

    def deterministic(self, options: Any) -> Any:
        """The sample options with any noise of the sampler turned off (flow's ODE solvers are deterministic)."""
        return options

    def _images(self, noise: Tensor, labels: Tensor | None, options: Any, draw: Any) -> Tensor:
        if self.conditional and labels is not None:
            labels = labels.to(noise.device)
            labels = labels.float() if labels.is_floating_point() else labels.long()
        elif self.conditional:
            labels = torch.full((len(noise),), self.null_label, dtype=torch.long, device=noise.device)
        else:
            labels = None
        x = self.from_noise(noise, labels, options, draw)
        return ((x.float() + 1) / 2).clamp(0, 1)

    # -- shared maths ----------------------------------------------------------------------------------------
    def predict(self, x: Tensor, t: Tensor, labels: Tensor | None, guidance: float) -> Tensor:
        """The U-Net's output at (x, t), guided when the model is conditional."""
        return guided(self.net, x, t, labels, guidance, self.null_label)

    def loss(self, x0: Tensor, labels: Tensor | None) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def from_noise(self, noise: Tensor, labels: Tensor | None, options: Any, draw: Any) -> Tensor:  # pragma: no cover
        raise NotImplementedError


class Flow(_Diffusion):
    """Conditional flow matching (rectified flow): regress v(x_t, t) onto x1 - x0 along x_t = (1 - t) x0 + t x1,
    then integrate dx/dt = v from noise at t = 0 to an image at t = 1 (Euler or Heun)."""

    sample_config = FlowSampleConfig

    def __init__(self, config: FlowConfig, info: DataInfo) -> None:
        super().__init__(config, info)

    def loss(self, x0: Tensor, labels: Tensor | None) -> Tensor:
        t = flow_matching.sample_times(len(x0), self.config.time_sampling, device=x0.device)
        x_t, target = flow_matching.training_pair(torch.randn_like(x0), x0, t)
        return F.mse_loss(self.net(x_t, t, labels).float(), target)

    def from_noise(self, noise: Tensor, labels: Tensor | None, options: FlowSampleConfig, draw: Any) -> Tensor:
        def velocity(x: Tensor, t: Tensor) -> Tensor:
            return self.predict(x, t, labels, options.guidance)

        return flow_matching.INTEGRATORS[options.sampler](velocity, noise, options.sample_steps)


class DDPM(_Diffusion):
    """Denoising diffusion with the cosine schedule: regress eps or v at a random one of T noise levels, then run
    the reverse process with DDIM (eta) or ancestral steps on an evenly spaced subset of the levels."""

    sample_config = DDPMSampleConfig

    def __init__(self, config: DDPMConfig, info: DataInfo) -> None:
        super().__init__(config, info)
        # derived from the config, so not saved with the weights
        self.register_buffer("alpha_bar", denoising.alpha_bars(denoising.cosine_betas(config.timesteps)).float(),
                             persistent=False)

    def times(self, k: Tensor) -> Tensor:
        """The U-Net's time input for step indices k: (k + 1) / T in (0, 1]."""
        return (k.float() + 1) / self.config.timesteps

    def loss(self, x0: Tensor, labels: Tensor | None) -> Tensor:
        k = torch.randint(0, self.config.timesteps, (len(x0),), device=x0.device)
        ab, noise = self.alpha_bar[k], torch.randn_like(x0)
        x_t = denoising.q_sample(x0, ab, noise)
        target = denoising.target(x0, noise, ab, self.config.prediction)
        return F.mse_loss(self.net(x_t, self.times(k), labels).float(), target)

    def deterministic(self, options: DDPMSampleConfig) -> DDPMSampleConfig:
        return options.model_copy(update={"sampler": "ddim", "eta": 0.0})

    def from_noise(self, noise: Tensor, labels: Tensor | None, options: DDPMSampleConfig, draw: Any) -> Tensor:
        def predict(x: Tensor, k: int) -> tuple[Tensor, Tensor]:
            ks = torch.full((len(x),), k, device=x.device, dtype=torch.long)
            out = self.predict(x, self.times(ks), labels, options.guidance).float()
            return denoising.split(x, out, self.alpha_bar[ks], self.config.prediction)

        return denoising.reverse(predict, noise, self.alpha_bar.double(), options.sample_steps, options.sampler,
                                 options.eta, draw)
