"""The `stylegan` model: the generator and discriminator trained in alternation, with lazy regularisers, style
mixing, differentiable augmentation and, optionally, resolution-by-resolution growth."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gentool.api import (
    Batch,
    DataInfo,
    GentoolError,
    Stage,
    build,
    diff_augment,
    eager,
    frozen,
    r1_penalty,
    sample_options,
)
from gentool_stylegan.config import StyleGANConfig, StyleGANSampleConfig
from gentool_stylegan.discriminator import Discriminator
from gentool_stylegan.generator import Generator
from gentool_stylegan.layers import downsample, upsample
from gentool_stylegan.regularize import lazy_adam_hyper, path_length_penalty
from gentool_stylegan.sampling import mixing_grid, noise_inputs


def canvas_size(height: int, width: int) -> int:
    """The power of two (at least 8) the networks work at: images are padded to it and cropped back (28 -> 32)."""
    return max(8, 2 ** math.ceil(math.log2(max(height, width))))


class StyleGAN(nn.Module):
    """StyleGAN2 (Karras et al. 2020) on images of any size up to a power of two, optionally class-conditional.

    Each `train_step`: one discriminator update on real and fake images (every `r1_interval` steps a second one
    on the R1 penalty), then one generator update (every `pl_interval` steps a second one on the path-length
    penalty when `pl_weight` > 0), on the same fakes judged by the updated D. With `growing`, one stage per resolution; `ctx.progress` drives the fade-in.
    """

    conditional = False
    ema_modules = ("generator",)
    prefers_channels_last = True  # its default step on 2 CPU cores: +15 % images/s (docs/benchmarks.md#speed)

    def __init__(self, config: StyleGANConfig, info: DataInfo) -> None:
        super().__init__()
        self.config, self.info = config, info
        if info.kind != "image" or len(info.shape) != 3:
            raise GentoolError(f"The stylegan model needs images (C, H, W); this dataset holds {info.kind} {info.shape}.")
        if config.conditional and not info.num_classes:
            raise GentoolError(f'model.conditional=true needs labelled data; the dataset "{info.name}" has no classes. '
                               "Set model.conditional=false or choose a labelled dataset (digits, shapes, mnist).")
        self.conditional = config.conditional
        channels, height, width = info.shape
        self.canvas = canvas_size(height, width)
        self.pad = ((self.canvas - width) // 2, (self.canvas - height) // 2)  # left, top
        self.levels = int(math.log2(self.canvas)) - 1
        self.loss = build("loss", config.loss, config.loss_options, prefix="model.loss_options", role="adversarial")
        classes = info.num_classes if config.conditional else 0
        sizes = {"levels": self.levels, "channel_base": config.channel_base, "channel_max": config.channel_max}
        self.generator = Generator(z_dim=config.latent_dim, w_dim=config.latent_dim, mapping_layers=config.mapping_layers,
                                   num_classes=classes, channels=channels, output=config.output, **sizes)
        self.discriminator = Discriminator(channels=channels, num_classes=classes, growing=config.growing,
                                           mbstd_group=config.mbstd_group, **sizes)
        self.register_buffer("pl_mean", torch.zeros(()))
        self.level, self.alpha = self.levels - 1, 1.0  # where growth stands; set by optimizers() and train_step()
        self._check_stage_lists()

    def _check_stage_lists(self) -> None:
        for name in ("stage_shares", "stage_batch_sizes"):
            values = getattr(self.config, name)
            if values is not None and len(values) != self.levels:
                sizes = ", ".join(str(4 * 2**lv) for lv in range(self.levels))
                raise GentoolError(f"model.{name}={values} needs {self.levels} values, one per resolution ({sizes}).")

    # -- between the public [0, 1] images and the networks' [-1, 1] canvas --------------------------------------
    def to_canvas(self, x: Tensor) -> Tensor:
        """Images in [0, 1] to [-1, 1], padded with black to the canvas size."""
        left, top = self.pad
        x = x * 2.0 - 1.0
        if left or top:
            x = F.pad(x, (left, self.canvas - x.shape[3] - left, top, self.canvas - x.shape[2] - top), value=-1.0)
        return x

    def from_canvas(self, x: Tensor) -> Tensor:
        """The generator's canvas (at any level) to images of the data's size in [0, 1]."""
        if x.shape[-1] != self.canvas:
            x = F.interpolate(x.float(), size=(self.canvas, self.canvas), mode="nearest")
        left, top = self.pad
        _, height, width = self.info.shape
        return ((x[:, :, top : top + height, left : left + width].float() + 1.0) / 2.0).clamp(0.0, 1.0)

    def fit_border(self, fake: Tensor) -> Tensor:
        """At full size the padding of fakes is set to black, as it is in the real images D sees."""
        left, top = self.pad
        if not (left or top) or fake.shape[-1] != self.canvas:
            return fake
        _, height, width = self.info.shape
        return self.to_canvas((fake[:, :, top : top + height, left : left + width] + 1.0) / 2.0)

    def real_at_level(self, x: Tensor) -> Tensor:
        """Real images at the current resolution; while a level fades in, blended with the coarser one (PGGAN)."""
        real = self.to_canvas(x)
        for _ in range(self.levels - 1 - self.level):
            real = downsample(real)
        if self.alpha < 1.0:
            real = torch.lerp(upsample(downsample(real)), real, self.alpha)
        return real

    # -- the trainer's protocol -------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        c = self.config
        if not c.growing:
            return [Stage("adversarial")]
        shares = c.stage_shares or [1.0] * self.levels
        batches = c.stage_batch_sizes or [min(4, 2 ** (self.levels - 1 - lv)) * c.batch_size for lv in range(self.levels)]
        return [Stage(f"res{4 * 2**lv}", shares[lv], batches[lv]) for lv in range(self.levels)]

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        self.level = int(math.log2(int(stage[3:]) // 4)) if stage.startswith("res") else self.levels - 1
        self.alpha = 1.0 if self.level == 0 or not c.growing else 0.0
        betas = (c.beta1, c.beta2)
        d_lr, d_betas = lazy_adam_hyper(c.lr_discriminator, betas, c.r1_interval if c.r1_gamma > 0 else 0)
        g_lr, g_betas = lazy_adam_hyper(c.lr_generator, betas, c.pl_interval if c.pl_weight > 0 else 0)
        return {
            "disc": torch.optim.Adam(self.discriminator.parameters(), lr=d_lr, betas=d_betas),
            "gen": torch.optim.Adam(self.generator.parameters(), lr=g_lr, betas=g_betas),
        }

    def critic(self, x: Tensor, labels: Tensor | None) -> Tensor:
        """D's logits (N,) at the current level and fade, after the augmentation when one is configured."""
        if self.config.augment:
            x = diff_augment(x, tuple(self.config.augment))
        return self.discriminator(x, labels, self.level, self.alpha)

    def fakes(self, n: int, labels: Tensor | None, device: torch.device, *, track: bool = False) -> tuple[Tensor, Tensor]:
        """(fakes on the canvas at the current level, their ws) for training, with style mixing."""
        g = self.generator
        ws = g.styles(torch.randn(n, g.z_dim, device=device), labels, track=track)
        ws = g.mix(ws, torch.randn(n, g.z_dim, device=device), labels, self.config.style_mixing)
        return self.fit_border(g.synthesis(ws, self.level, self.alpha)), ws

    def train_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        c = self.config
        if c.growing and self.level > 0:
            self.alpha = min(1.0, ctx.progress / c.fade)
        real = self.real_at_level(batch.x)
        labels = batch.y if self.conditional else None
        n, logs = len(real), {}

        def critic(x: Tensor) -> Tensor:
            return self.critic(x, labels)

        with ctx.autocast():  # one batch of fakes serves both updates, as in the gan model
            fake, _ = self.fakes(n, labels, real.device, track=True)
            d_loss = self.loss.discriminator(critic, real, fake.detach())
        ctx.step("disc", d_loss)
        if c.r1_gamma > 0 and ctx.global_step % c.r1_interval == 0:
            r1 = r1_penalty(critic, real)
            ctx.step("disc", r1 * (c.r1_gamma / 2 * c.r1_interval))
            logs["r1"] = r1.detach()

        with frozen(self.discriminator), ctx.autocast():
            fake_logits = critic(fake)
        g_loss = self.loss.generator(fake_logits)
        ctx.step("gen", g_loss)
        if c.pl_weight > 0 and ctx.global_step % c.pl_interval == 0:
            m = max(1, n // c.pl_batch_shrink)
            pl_labels = labels[:m] if labels is not None else None
            ws = self.generator.styles(torch.randn(m, self.generator.z_dim, device=real.device), pl_labels)
            ws = self.generator.mix(ws, torch.randn_like(ws[:, 0]), pl_labels, c.style_mixing)
            with eager():  # the penalty differentiates twice, which compiled graphs cannot
                images = self.generator.synthesis(ws, self.level, self.alpha)
            pl = path_length_penalty(images, ws, self.pl_mean)
            ctx.step("gen", pl * (c.pl_weight * c.pl_interval))
            logs["pl"] = pl.detach()
        logs.update(d_loss=d_loss.detach(), g_loss=g_loss.detach(), d_fake=fake_logits.detach().float().mean())
        if c.growing:
            logs.update(resolution=4 * 2**self.level, alpha=self.alpha)
        return logs

    # -- sampling ---------------------------------------------------------------------------------------------
    def _labels(self, n: int, labels: Tensor | None, generator: torch.Generator | None, device: torch.device) -> Tensor | None:
        if not self.conditional:
            return None
        if labels is None:
            labels = torch.randint(0, self.info.num_classes, (n,), generator=generator)
        return labels.to(device=device, dtype=torch.long)

    @torch.no_grad()
    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None,
               options: Any = None) -> Tensor:
        """n images in [0, 1] from z ~ N(0, I) drawn on the CPU from `generator`; `options` are the
        StyleGANSampleConfig fields (truncation, its cutoff, a style-mixing grid, noise)."""
        opts = sample_options(StyleGANSampleConfig, options)
        device = next(self.parameters()).device
        g = self.generator
        if opts.mixing_grid:
            ws = mixing_grid(g, n, self.conditional and self.info.num_classes, opts, generator, device)
            noise = [x[:1].expand(len(ws), -1, -1, -1) for x in noise_inputs(g.synthesis, 1, self.level, opts, generator, device)]
            images = self.from_canvas(g.synthesis(ws, self.level, self.alpha, noise))
            images[0] = 1.0  # the grid's empty corner
            return images
        z = torch.randn(n, g.z_dim, generator=generator).to(device)
        labels = self._labels(n, labels, generator, device)
        ws = g.styles(z, labels, psi=opts.truncation, cutoff=opts.truncation_cutoff)
        noise = noise_inputs(g.synthesis, n, self.level, opts, generator, device)
        return self.from_canvas(g.synthesis(ws, self.level, self.alpha, noise))

    # -- latents: the style space W+ ---------------------------------------------------------------------------
    latent_path = "lerp"  # walks in W, as the StyleGAN papers do (W is not Gaussian)

    @torch.no_grad()
    def draw_latents(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """Styles ws (n, num_ws, w_dim) of z ~ N(0, I) drawn on the CPU from `generator` (a conditional model's
        classes drawn uniformly from it too): one w per layer, so a projection may move each layer's on its own."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.generator.z_dim, generator=generator).to(device)
        return self.generator.styles(z, self._labels(n, None, generator, device))

    def generate(self, ws: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """Images in [0, 1] of styles ws (N, num_ws, w_dim) with the noise inputs at zero, so that the same styles
        give the same image (the class is in the styles already: `labels` are not needed)."""
        noise = [torch.zeros(len(ws), 1, h, w, device=ws.device) for h, w in self.generator.synthesis.noise_shapes(self.level)]
        return self.from_canvas(self.generator.synthesis(ws, self.level, self.alpha, noise))
