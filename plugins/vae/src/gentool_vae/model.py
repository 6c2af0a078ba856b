"""The variational autoencoder: q(z|x) Gaussian, p(z) learned or N(0, I), p(x|z) a reconstruction loss by name."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gentool.api import Batch, DataInfo, GentoolError, Stage, build
from gentool_vae import bounds
from gentool_vae.config import VAEConfig
from gentool_vae.networks import Decoder, Encoder
from gentool_vae.prior import build_prior


class VAE(nn.Module):
    """Kingma & Welling (2014): maximise the ELBO, with the KL weight ramped from 0 to `beta` over `kl_warmup`.

    `sample(n)` decodes z ~ p(z); `reconstruct(x)` decodes the posterior mean; `elbo(x)` and `iw_bound(x, k)`
    give per-image log-likelihood bounds in nats.
    """

    conditional = False
    ema_modules = ("encoder", "decoder", "prior")

    def __init__(self, config: VAEConfig, info: DataInfo) -> None:
        super().__init__()
        if info.kind != "image" or len(info.shape) != 3:
            raise GentoolError(
                f"The vae model needs image data (C, H, W); this dataset holds {info.kind} {info.shape}."
            )
        self.config, self.info = config, info
        self.likelihood = build(
            "loss", config.loss, config.loss_options, prefix="model.loss_options", role="reconstruction"
        )
        self.takes_logits = bool(getattr(self.likelihood, "accepts_logits", False))
        self.encoder = Encoder(info.shape, config.latent_dim, config.width, config.hidden)
        self.decoder = Decoder(info.shape, config.latent_dim, config.width, config.hidden)
        self.prior = build_prior(config.prior, config.latent_dim, config.prior_components)
        self.nats_per_image = bounds.NATS_PER_DIM.get(config.loss, 0.0) * float(torch.tensor(info.shape).prod())

    # -- the model -------------------------------------------------------------------------------------------
    def posterior(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(mean, log-variance) of q(z|x), each (N, latent_dim)."""
        return self.encoder(x)

    def to_images(self, out: Tensor) -> Tensor:
        """Decoder output -> images in [0, 1]: a sigmoid of logits for "bce", else the output clamped."""
        out = out.float()
        return torch.sigmoid(out) if self.takes_logits else out.clamp(0.0, 1.0)

    def decode(self, z: Tensor) -> Tensor:
        """Images in [0, 1] (the mean of p(x|z)) for latents z (N, latent_dim)."""
        return self.to_images(self.decoder(z))

    def reconstruction_loss(self, out: Tensor, x: Tensor) -> Tensor:
        """The named loss per image: on logits for "bce" (stable), else on the unclamped output (a sigmoid output
        layer saturates under squared or absolute errors)."""
        out = out.float()
        if self.takes_logits:
            return self.likelihood(out, x, logits=True)
        return self.likelihood(out, x)

    def log_likelihood(self, z: Tensor, x: Tensor) -> Tensor:
        """log p(x|z) per image in nats."""
        return -(self.reconstruction_loss(self.decoder(z), x) + self.nats_per_image)

    def kl_weight(self, progress: float) -> float:
        """beta, ramped linearly from 0 over the first `kl_warmup` of the stage."""
        warmup = self.config.kl_warmup
        return self.config.beta * (min(1.0, progress / warmup) if warmup > 0 else 1.0)

    # -- the trainer's protocol ------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        return [Stage("vae")]

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]:
        return {"vae": torch.optim.Adam(self.parameters(), lr=self.config.lr)}

    def train_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        x = batch.x
        with ctx.autocast():
            mean, log_var = self.posterior(x)
            mean, log_var = mean.float(), log_var.float()
            z = bounds.draw(mean, log_var)
            logits = self.decoder(z)
        recon = self.reconstruction_loss(logits, x)
        kl = self.prior.kl(mean, log_var, z)
        weight = self.kl_weight(ctx.progress)
        ctx.step("vae", (recon + weight * kl).mean())
        return {
            "loss": (recon + weight * kl).mean().detach(),
            "recon": recon.mean().detach(),
            "kl": kl.mean().detach(),
            "beta": weight,
            "elbo": -(recon + self.nats_per_image + kl).mean().detach(),
        }

    @property
    def latent_path(self) -> str:
        """Walks between latents: on the sphere under the standard normal prior, straight under the mixture."""
        return "slerp" if self.config.prior == "standard" else "lerp"

    def draw_latents(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """z ~ p(z) (n, latent_dim) on the model's device, drawn on the CPU from `generator`."""
        return self.prior.sample(n, generator).to(next(self.parameters()).device)

    def generate(self, z: Tensor, *, labels: Tensor | None = None) -> Tensor:
        """The decoded images in [0, 1] of latents z (N, latent_dim)."""
        return self.decode(z)

    def encode_latents(self, x: Tensor) -> Tensor:
        """The posterior mean of images x: where a projection starts."""
        return self.posterior(x)[0]

    def sample(self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None) -> Tensor:
        """n images decoded from z ~ p(z) (drawn on the CPU from `generator`)."""
        return self.generate(self.draw_latents(n, generator=generator))

    def reconstruct(self, x: Tensor) -> Tensor:
        """The decoded posterior mean of x (N, C, H, W) in [0, 1]."""
        return self.decode(self.posterior(x)[0])

    # -- likelihood bounds -----------------------------------------------------------------------------------
    def elbo(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The evidence lower bound per image (N,), in nats (one posterior sample; the KL in closed form under the
        standard prior, a one-sample estimate under the mixture)."""
        return bounds.elbo(x, self.posterior(x), self.log_likelihood, generator, kl=self.prior.kl)

    def iw_bound(self, x: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
        """The importance-weighted bound with k samples per image (N,), in nats; k = 1 is a one-sample ELBO."""
        return bounds.iw_bound(x, self.posterior(x), self.log_likelihood, k, generator, log_prior=self.prior.log_prob)
