"""The `cgan` model: a class-conditional generator and discriminator trained in alternation with a named loss."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gentool.api import Batch, DataInfo, GentoolError, Stage, batch_independent_critic, build, frozen
from gentool_cgan.config import CGANConfig
from gentool_cgan.networks import Discriminator, Generator

LABELLED = (
    'digits, mnist, fashion-mnist and shapes; image-folder with one subfolder per class; npz with a "labels" array'
)


class CGAN(nn.Module):
    """A class-conditional DCGAN: G(z, y) with conditional BatchNorm, D(x, y) by projection or concatenation.

    Each `train_step` makes `n_critic` discriminator updates on the batch's real images and fresh fakes of the
    same labels, then one generator update on the last fakes. `sample(n, labels=y)` draws images of classes y
    (uniform classes when y is None), in [0, 1].
    """

    conditional = True
    ema_modules = ("generator",)
    prefers_channels_last = True  # its default step on 2 CPU cores: +8 % images/s (docs/benchmarks.md#speed)

    def __init__(self, config: CGANConfig, info: DataInfo) -> None:
        super().__init__()
        self.config, self.info = config, info
        name = f'"{info.name}"' if info.name else "this dataset"
        if info.kind != "image" or len(info.shape) != 3:
            raise GentoolError(f"The cgan model needs labelled images (C, H, W); dataset {name} holds {info.kind} "
                               f"of shape {tuple(info.shape)}. Labelled image datasets: {LABELLED}.")
        if info.num_classes == 0:
            raise GentoolError(f"The cgan model needs class labels, but dataset {name} has none. Labelled datasets: "
                               f'{LABELLED}. For unlabelled images use the "gan" model.')
        self.loss = build("loss", config.loss, config.loss_options, prefix="model.loss_options", role="adversarial")
        k = info.num_classes
        self.generator = Generator(info.shape, config.latent_dim, k, config.width, config.conditional_norms)
        self.discriminator = Discriminator(
            info.shape, k, config.width, config.conditioning, config.spectral_norm,
            config.uses_batch_norm(),
        )

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
        if batch.y is None:
            raise GentoolError("The cgan model was handed a batch without labels; it trains only on labelled data.")
        real, labels = batch.x * 2.0 - 1.0, batch.y

        def critic(x: Tensor) -> Tensor:  # real and fake share the labels; joined, they take them twice
            return self.discriminator(x, labels if len(x) == len(labels) else labels.repeat(len(x) // len(labels)))

        if not self.config.uses_batch_norm():  # no image sees another: real and fake may be scored in one call
            critic = batch_independent_critic(critic)

        for i in range(self.config.n_critic):
            last = i == self.config.n_critic - 1
            z = torch.randn(len(real), self.config.latent_dim, device=real.device)
            with torch.set_grad_enabled(last), ctx.autocast():  # the last fakes also feed the generator's update
                fake = self.generator(z, labels)
            with ctx.autocast():
                d_loss = self.loss.discriminator(critic, real, fake)
            ctx.step("disc", d_loss)
        with frozen(self.discriminator), ctx.autocast():
            fake_logits = critic(fake)
        g_loss = self.loss.generator(fake_logits)
        ctx.step("gen", g_loss)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "d_fake": fake_logits.detach().float().mean()}

    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """n images in [0, 1] of classes `labels` (n,) (drawn uniformly when None); noise from `generator`."""
        device = next(self.parameters()).device
        k = self.info.num_classes
        if labels is None:
            labels = torch.randint(k, (n,), generator=generator)
        labels = torch.as_tensor(labels).to(dtype=torch.int64).reshape(-1)
        if len(labels) != n:
            raise GentoolError(f"cgan.sample was asked for {n} images but given {len(labels)} labels; give one per image.")
        if n and (int(labels.min()) < 0 or int(labels.max()) >= k):
            raise GentoolError(f"cgan.sample got labels outside 0..{k - 1} (this model knows {k} classes).")
        return self.generate(self.draw_latents(n, generator=generator), labels=labels.to(device))

    latent_path = "slerp"  # z ~ N(0, I)

    def draw_latents(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """z ~ N(0, I) (n, latent_dim) on the model's device, drawn on the CPU from `generator`."""
        return torch.randn(n, self.config.latent_dim, generator=generator).to(next(self.parameters()).device)

    def generate(self, z: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """Images in [0, 1] of latents z (N, latent_dim) and classes `labels`: int64 (N,) or class weights (N, K)."""
        if labels is None:
            raise GentoolError("cgan.generate needs labels: one class (or class weights) per latent.")
        x = self.generator(z, labels.to(z.device))
        return ((x.float() + 1.0) / 2.0).clamp(0.0, 1.0)
