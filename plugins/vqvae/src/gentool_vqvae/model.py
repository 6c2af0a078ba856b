"""The VQ-VAE: stage 1 trains encoder, quantizer and decoder; stage 2 trains an autoregressive prior over the codes."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from gentool.api import Batch, DataInfo, GentoolError, QuantizerOutput, Stage, build, sample_options
from gentool_vqvae import codes
from gentool_vqvae.config import VQVAEConfig, VQVAESampleConfig
from gentool_vqvae.networks import Decoder, Encoder, halvings
from gentool_vqvae.prior import CodePrior


class VQVAE(nn.Module):
    """van den Oord et al. (2017) with a registered quantizer (`vq`, `vq-ema`, `fsq`) and a causal-transformer prior.

    `encode_indices(x)` gives the (N, h, w) code grid, `reconstruct(x)` the decoded codes of x, and `sample(n)` decodes
    codes drawn from the prior (class-conditional on labelled data). Without a prior (`prior.enabled = false`)
    `sample` decodes codes drawn uniformly at random, which shows the codebook but does not look like the data.
    """

    conditional = False
    report_metrics = ("recon", "codebook")  # computed at the end of every run: the main job prints them

    def __init__(self, config: VQVAEConfig, info: DataInfo) -> None:
        super().__init__()
        if info.kind != "image" or len(info.shape) != 3:
            raise GentoolError(
                f"The vqvae model needs image data (C, H, W); this dataset holds {info.kind} {info.shape}."
            )
        self.config, self.info = config, info
        channels, height, width = info.shape
        steps = halvings(height, width)
        self.code_grid = (height >> steps, width >> steps)
        self.encoder = Encoder(channels, steps, config.width, config.code_dim, config.res_blocks)
        self.decoder = Decoder(channels, steps, config.width, config.code_dim, config.res_blocks)
        self.quantizer = build(
            "quantizer",
            config.quantizer,
            config.quantizer_options,
            prefix="model.quantizer_options",
            dim=config.code_dim,
        )
        self.likelihood = build(
            "loss", config.loss, config.loss_options, prefix="model.loss_options", role="reconstruction"
        )
        self.takes_logits = bool(getattr(self.likelihood, "accepts_logits", False))
        self.pixels = math.prod(info.shape)
        self.conditional = bool(config.prior.enabled and config.prior.conditional and info.labelled)
        self.ema_modules: tuple[str, ...] = ("prior",) if config.prior.enabled else ()
        if config.prior.enabled:
            classes = info.num_classes if self.conditional else 0
            length = self.code_grid[0] * self.code_grid[1]
            self.prior = CodePrior(config.prior, self.quantizer.codebook_size, length, classes)

    # -- the autoencoder -------------------------------------------------------------------------------------
    def encode(self, x: Tensor) -> QuantizerOutput:
        """Quantized latents, codes, auxiliary loss and usage metrics of images x."""
        return self.quantizer(self.encoder(x))

    def to_images(self, out: Tensor) -> Tensor:
        """Decoder output -> images in [0, 1]: a sigmoid of logits for "bce", else the output clamped."""
        out = out.float()
        return torch.sigmoid(out) if self.takes_logits else out.clamp(0.0, 1.0)

    def decode(self, latents: Tensor) -> Tensor:
        """Images in [0, 1] from (quantized) latents (N, code_dim, h, w)."""
        return self.to_images(self.decoder(latents))

    def reconstruction_loss(self, out: Tensor, x: Tensor) -> Tensor:
        """The named loss averaged per pixel (a scalar): on logits for "bce", else on the unclamped output (a sigmoid
        output layer would saturate under a squared error)."""
        out = out.float()
        if self.takes_logits:
            return self.likelihood(out, x, logits=True).mean() / self.pixels
        return self.likelihood(out, x).mean() / self.pixels

    @contextlib.contextmanager
    def _frozen_codebook(self) -> Iterator[None]:
        """Encoder and quantizer in eval mode for the block (no codebook updates, no restarts)."""
        modes = (self.encoder.training, self.quantizer.training)
        self.encoder.eval()
        self.quantizer.eval()
        try:
            yield
        finally:
            self.encoder.train(modes[0])
            self.quantizer.train(modes[1])

    @torch.no_grad()
    def encode_indices(self, x: Tensor) -> Tensor:
        """The code grid (N, h, w) int64 of images x, leaving the codebook untouched."""
        with self._frozen_codebook():
            return self.encode(x).indices

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """Decoded codes of x, in [0, 1]."""
        with self._frozen_codebook():
            return self.decode(self.encode(x).quantized)

    # -- the trainer's protocol ------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        if not self.config.prior.enabled:
            return [Stage("autoencoder")]
        share = self.config.autoencoder_share
        return [Stage("autoencoder", share), Stage("prior", 1 - share)]

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]:
        if stage == "prior":
            cfg = self.config.prior
            return {
                "prior": torch.optim.AdamW(self.prior.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.01)
            }
        params = [*self.encoder.parameters(), *self.decoder.parameters(), *self.quantizer.parameters()]
        return {"autoencoder": torch.optim.Adam(params, lr=self.config.lr)}

    def train_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        if ctx.stage == "prior":
            return self._prior_step(batch, ctx)
        x = batch.x
        with ctx.autocast():
            z = self.encoder(x)
        out = self.quantizer(z.float())  # distances and codebook statistics stay in fp32
        with ctx.autocast():
            logits = self.decoder(out.quantized)
        recon = self.reconstruction_loss(logits, x)
        ctx.step("autoencoder", recon + out.loss)
        logs = {"loss": (recon + out.loss).detach(), "recon": recon.detach(), "vq_loss": out.loss.detach()}
        if self.config.loss != "mse":
            logs["mse"] = (self.to_images(logits.detach()) - x).square().mean()
        return {**logs, **out.metrics}

    def _prior_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        indices = self.encode_indices(batch.x)
        labels = batch.y if self.conditional else None
        with ctx.autocast():
            loss = self.prior.loss(indices.flatten(1), labels)
        ctx.step("prior", loss)
        return {"prior_nll": loss.detach(), **codes.usage(indices, self.quantizer.codebook_size)}

    @property
    def codebook_size(self) -> int:
        """The number of distinct codes (what the codebook metric counts usage against)."""
        return self.quantizer.codebook_size

    @torch.no_grad()
    def sample(
        self, n: int, *, labels: Tensor | None = None, generator: torch.Generator | None = None, options: Any = None
    ) -> Tensor:
        """n images from codes drawn by the prior (uniform random codes without one); labels drawn uniformly if None.
        `options`: VQVAESampleConfig (or a dict of its fields), e.g. the prior's `temperature`."""
        options = sample_options(VQVAESampleConfig, options)
        device = next(self.parameters()).device
        h, w = self.code_grid
        if not self.config.prior.enabled:
            indices = torch.randint(self.quantizer.codebook_size, (n, h, w), generator=generator).to(device)
        else:
            if self.conditional and labels is None:
                labels = torch.randint(self.info.num_classes, (n,), generator=generator)
            if labels is not None:
                labels = labels.to(device) if self.conditional else None
            flat = self.prior.sample(n, labels, generator, options.temperature)
            indices = flat.view(n, h, w)
        return self.decode(self.quantizer.lookup(indices))
