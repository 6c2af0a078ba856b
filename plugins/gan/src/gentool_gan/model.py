"""The `gan` model: a generator and a discriminator trained in alternation with a named adversarial loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from gentool.api import (
    Batch,
    DataInfo,
    GentoolError,
    Stage,
    build,
    diff_augment,
    frozen,
    nearest_fake_pull,
    r1_penalty,
)
from gentool_gan.config import GANConfig
from gentool_gan.dcgan import Discriminator, Generator
from gentool_gan.mixture import GeneratorMixture, stratified_latents
from gentool_gan.mlp import PointDiscriminator, PointGenerator


class GAN(nn.Module):
    """DCGAN (Radford et al. 2016) on images, an MLP pair on points; the loss is any registered adversarial loss;
    `generators` > 1 puts a mixture of generators (gentool_gan.mixture) against the one discriminator.

    Each `train_step` makes `n_critic` discriminator updates, each on the batch's real images and fresh fakes
    (the last one adds the R1 penalty at the reals when `r1_gamma` > 0, every `r1_every` steps), then one
    generator update on the last fakes, whose loss adds the coverage term's weight times the nearest-fake pull
    of the batch's reals. `sample(n)` maps z ~ N(0, I) to images in [0, 1] (points as is).
    """

    conditional = False
    ema_modules = ("generator",)
    prefers_channels_last = True  # its default step on 2 CPU cores: +23 % images/s (docs/benchmarks.md#speed)

    def __init__(self, config: GANConfig, info: DataInfo) -> None:
        super().__init__()
        self.config, self.info = config, info
        self.loss = build("loss", config.loss, config.loss_options, prefix="model.loss_options", role="adversarial")
        if info.kind == "points":
            if config.augment:
                raise GentoolError(f"model.augment={config.augment} transforms images; points take augment=[].")
            self.generator: nn.Module = self._generators(
                lambda: PointGenerator(info.shape[0], config.latent_dim, config.mlp_width)
            )
            self.discriminator: nn.Module = PointDiscriminator(
                info.shape[0] * config.pack, config.mlp_width, config.spectral_norm
            )
        elif len(info.shape) == 3:
            self.generator = self._generators(lambda: Generator(info.shape, config.latent_dim, config.width))
            packed = (info.shape[0] * config.pack, *info.shape[1:])
            self.discriminator = Discriminator(
                packed, config.width, config.spectral_norm, config.uses_batch_norm()
            )
        else:
            raise GentoolError(f"The gan model needs images (C, H, W) or points (D,); this dataset holds {info.shape}.")

    def _generators(self, build_one: Callable[[], nn.Module]) -> nn.Module:
        """One generator, or a mixture of `generators` of them."""
        k = self.config.generators
        return build_one() if k == 1 else GeneratorMixture(k, build_one)

    def training_latents(self, n: int, device: torch.device, step: int) -> Tensor:
        """z ~ N(0, I) for training step `step`; with a mixture, stratified so that every member gets its share."""
        k, dim = self.config.generators, self.config.latent_dim
        return torch.randn(n, dim, device=device) if k == 1 else stratified_latents(n, dim, k, device, step)

    # -- between the public range and the networks' -----------------------------------------------------------
    def to_critic(self, x: Tensor) -> Tensor:
        """Images in [0, 1] to the networks' [-1, 1]; points unchanged."""
        return x if self.info.kind == "points" else x * 2.0 - 1.0

    def from_generator(self, x: Tensor) -> Tensor:
        """The generator's [-1, 1] output to images in [0, 1]; points unchanged."""
        return x.float() if self.info.kind == "points" else ((x.float() + 1.0) / 2.0).clamp(0.0, 1.0)

    def critic(self, x: Tensor) -> Tensor:
        """Logits (N // pack,): each item through the `augment` policies, then PacGAN (Lin et al. 2018) judges each
        run of `pack` consecutive items as one input with their channels side by side (a batch's last N % pack
        items are left out)."""
        x = diff_augment(x, tuple(self.config.augment))
        m = self.config.pack
        if m > 1:
            n = len(x) - len(x) % m
            x = x[:n].reshape(n // m, m * x.shape[1], *x.shape[2:])
        return self.discriminator(x)

    # -- the trainer's protocol -------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        return [Stage("adversarial")]

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        betas = (c.beta1, c.beta2)
        return {
            "disc": torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_discriminator, betas=betas),
            "gen": torch.optim.Adam(self.generator.parameters(), lr=c.lr_generator, betas=betas),
        }

    def train_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        c = self.config
        real = self.to_critic(batch.x)
        n, logs = len(real), {}
        for i in range(c.n_critic):
            last = i == c.n_critic - 1
            z = self.training_latents(n, real.device, ctx.global_step)
            with torch.set_grad_enabled(last), ctx.autocast():  # the last fakes also feed the generator's update
                fake = self.generator(z)
            with ctx.autocast():
                d_loss = self.loss.discriminator(self.critic, real, fake)
                total = d_loss
                if last and c.r1_gamma > 0 and ctx.global_step % c.r1_every == 0:
                    r1 = r1_penalty(self.critic, real)
                    total = d_loss + c.r1_gamma * c.r1_every / 2 * r1
                    logs["r1"] = r1.detach()
            ctx.step("disc", total)
        with frozen(self.discriminator), ctx.autocast():
            fake_logits = self.critic(fake)
        g_loss = self.loss.generator(fake_logits)
        total, weight = g_loss, c.coverage_for(self.info.kind)
        if weight > 0:
            coverage = nearest_fake_pull(real, fake, c.coverage_pool)
            total = g_loss + weight * coverage
            logs["coverage"] = coverage.detach()
        ctx.step("gen", total)
        return logs | {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "d_fake": fake_logits.detach().float().mean()}

    latent_path = "slerp"  # z ~ N(0, I): walk on the sphere where the draws lie

    def draw_latents(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """z ~ N(0, I) (n, latent_dim) on the model's device, drawn on the CPU from `generator`."""
        return torch.randn(n, self.config.latent_dim, generator=generator).to(next(self.parameters()).device)

    def generate(self, z: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """Images in [0, 1] (or points) of latents z (N, latent_dim)."""
        return self.from_generator(self.generator(z))

    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """n images in [0, 1] (or points) from z ~ N(0, I), the noise drawn on the CPU from `generator`."""
        return self.generate(self.draw_latents(n, generator=generator))
