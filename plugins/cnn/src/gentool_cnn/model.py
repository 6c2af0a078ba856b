"""GLO (Bojanowski et al. 2018): a generator and one latent per training image, optimised jointly by regression.

Each step reconstructs a batch from its images' latents; the generator's weights take a step of their optimizer
and the latents a projected SGD step back onto the unit sphere. After training, a mixture of full-covariance
Gaussians (`prior_components` of them; one is the paper's single Gaussian) is fitted to the latents. Samples decode
draws of a kernel density estimate on the latents shaped by that mixture (by default) or draws of the mixture itself.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gentool.api import Batch, DataInfo, GentoolError, Stage, all_gather_cat, build, sample_options
from gentool_cnn.config import CNNConfig, CNNSampleConfig
from gentool_cnn.generator import Generator
from gentool_cnn.latents import pixel_projection, project_pixels, random_latents, sphere_step
from gentool_cnn.mixture import (
    Mixture,
    fit_mixture,
    nearest_components,
    pick_codes,
    sample_kernel,
    sample_mixture,
)

# EM stops earlier for the grids drawn during training (previews, before `end_stage` fits for good): on the digits'
# 4,000 latents 1.6 s instead of 7.5 s per grid, 0.04 nats per code below the full fit's log-likelihood.
PREVIEW_TOLERANCE = 1e-3


def _check_data(config: CNNConfig, info: DataInfo) -> None:
    if info.kind != "image" or len(info.shape) != 3:
        raise GentoolError(f"The cnn model generates images (C, H, W); the dataset gives {info.kind} {info.shape}.")
    if info.train_size <= 0:
        raise GentoolError("The cnn model keeps one latent per training image, so it needs DataInfo.train_size > 0.")
    if config.conditional and not info.labelled:
        raise GentoolError("model.conditional=true needs labelled data; this dataset has no labels.")


class GLO(nn.Module):
    """Generative Latent Optimization, built as `GLO(config: CNNConfig, info: DataInfo)`.

    `conditional` is set per instance from `config.conditional` (the class default is False). State that survives
    save/load: the generator, `latents` (train_size, D), `trained` (which rows were optimised), `labels` (the class
    of each row, conditional only) and the fitted mixture `prior_weights` (K,), `prior_means` (K, D), `prior_chols`
    (K, D, D) and `prior_fitted`.
    """

    conditional = False
    ema_modules = ("generator",)
    prefers_channels_last = True  # its default step on 2 CPU cores: +19 % images/s (docs/benchmarks.md#speed)

    def __init__(self, config: CNNConfig, info: DataInfo) -> None:
        super().__init__()
        _check_data(config, info)
        self.config, self.info = config, info
        self.conditional = config.conditional
        classes = info.num_classes if config.conditional else 0
        self.generator = Generator(info.shape, config.latent_dim, config.width, classes, config.label_dim)
        self.loss = build("loss", config.loss, config.loss_options, prefix="model.loss_options", role="reconstruction")
        self.pixels = math.prod(info.shape)
        dim = config.latent_dim
        self.register_buffer("latents", random_latents(info.train_size, dim))
        self.register_buffer("trained", torch.zeros(info.train_size, dtype=torch.bool))
        if self.conditional:
            self.register_buffer("labels", torch.zeros(info.train_size, dtype=torch.int64))
        k = config.prior_components
        self.register_buffer("prior_weights", torch.full((k,), 1.0 / k))
        self.register_buffer("prior_means", torch.zeros(k, dim))
        self.register_buffer("prior_chols", torch.eye(dim).repeat(k, 1, 1) / math.sqrt(dim))
        self.register_buffer("prior_fitted", torch.tensor(False))
        if config.init == "projection":
            self.register_buffer("projection", pixel_projection(self.pixels, dim), persistent=False)

    # -- training ----------------------------------------------------------------------------------------------
    def stages(self) -> list[Stage]:
        return [Stage("fit")]

    def optimizers(self, stage: str) -> dict[str, torch.optim.Optimizer]:
        """The generator's Adam; the latents are updated by hand in `train_step` (projected SGD)."""
        return {"generator": torch.optim.Adam(self.generator.parameters(), lr=self.config.lr_generator)}

    def train_step(self, batch: Batch, ctx: Any) -> dict[str, Any]:
        """Reconstruct the batch from its latents; step the generator, then move those latents on the sphere.

        The objective is the reconstruction loss per pixel, averaged over the batch. A latent's step uses the
        gradient of its own image's loss (the batch gradient times N), so `lr_latent` does not depend on batch size.
        """
        labels = batch.y if self.conditional else None
        if self.config.init == "projection":
            self._initialise_new(batch)
        z = self.latents[batch.index].clone().requires_grad_(True)
        with ctx.autocast():
            x_hat = self.generator(z, labels)
        per_image = self.loss(x_hat.float(), batch.x.float()) / self.pixels
        loss = per_image.mean()
        scaler = getattr(ctx, "scalers", {}).get("generator")
        scale = scaler.get_scale() if scaler is not None and scaler.is_enabled() else 1.0
        ctx.step("generator", loss)
        with torch.no_grad():
            grad = z.grad.float() * (len(z) / scale)
            if bool(torch.isfinite(grad).all()):  # an fp16 overflow skips the generator's step; skip ours too
                group = ctx.optimizers["generator"].param_groups[0]
                lr = self.config.lr_latent * group["lr"] / self.config.lr_generator  # follows the lr schedule
                self.latents[batch.index] = sphere_step(z.detach().float(), grad, lr).to(self.latents.dtype)
                self.trained[batch.index] = True
                if self.conditional:
                    self.labels[batch.index] = batch.y
                self.prior_fitted.fill_(False)
        return {"loss": loss.detach()}

    @torch.no_grad()
    def _initialise_new(self, batch: Batch) -> None:
        """Rows seen for the first time start at a random projection of their pixels (similar images, near codes)."""
        new = ~self.trained[batch.index]
        if bool(new.any()):
            self.latents[batch.index[new]] = project_pixels(batch.x[new].float(), self.projection).to(
                self.latents.dtype
            )

    @torch.no_grad()
    def end_stage(self, stage: str, ctx: Any) -> None:
        """Gather every rank's trained latents into every rank's table, then fit the mixture over all of them."""
        local = self.trained.nonzero().squeeze(1)
        rows = all_gather_cat(local)
        self.latents[rows] = all_gather_cat(self.latents[local])
        if self.conditional:
            self.labels[rows] = all_gather_cat(self.labels[local])
        self.trained[rows] = True
        self.fit()

    @torch.no_grad()
    def fit(self) -> None:
        """Fit and store the mixture of the trained latents (of all latents when none is trained yet)."""
        weights, means, chols = self._current_mixture()
        k = len(weights)  # fewer than prior_components only with fewer codes than components
        self.prior_weights.zero_()[:k] = weights
        self.prior_means.zero_()[:k] = means
        self.prior_chols[:k] = chols
        self.prior_fitted.fill_(True)

    def _current_mixture(self, tolerance: float = 1e-7) -> Mixture:
        return fit_mixture(self.latents[self._rows()], self.config.prior_components, tolerance=tolerance)

    def _rows(self) -> torch.Tensor:
        """Indices of the trained latents (of all latents when none is trained yet): what the priors are fitted to."""
        return self.trained.nonzero().squeeze(1) if bool(self.trained.any()) else torch.arange(len(self.latents))

    # -- generation --------------------------------------------------------------------------------------------
    def sample(
        self, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
        options: Any = None,
    ) -> torch.Tensor:
        """n images in [0, 1] decoded from n draws of the prior that `options` (CNNSampleConfig fields) choose.

        Conditional models draw `labels` (N,) when given, else uniform labels from `generator`.
        """
        if self.conditional and labels is None:
            labels = torch.randint(self.info.num_classes, (n,), generator=generator)
        z = self.draw_latents(n, generator=generator, options=options, labels=labels if self.conditional else None)
        return self.generate(z, labels=labels)

    latent_path = "lerp"  # latents of a fitted mixture, not of N(0, I): walk straight

    def draw_latents(self, n: int, *, generator: torch.Generator | None = None, options: Any = None,
                     labels: torch.Tensor | None = None) -> torch.Tensor:
        """n latents (n, latent_dim) on the model's device: by default trained latents moved by `bandwidth` times
        their mixture component's spread, or (`prior="mixture"`) draws of the mixture. Before `end_stage` the mixture
        is fitted on the fly, with a looser EM tolerance. A conditional model's kernel draws for class `labels` (n,)
        start from latents of training images of that class."""
        opts = sample_options(CNNSampleConfig, options)
        if bool(self.prior_fitted):
            mixture = (self.prior_weights, self.prior_means, self.prior_chols)
        else:
            mixture = self._current_mixture(PREVIEW_TOLERANCE)
        if opts.prior == "mixture":
            return sample_mixture(mixture, n, generator)
        rows = self._rows()
        codes = self.latents[rows]
        by_class = self.conditional and labels is not None and not labels.is_floating_point()
        groups, wanted = (self.labels[rows], labels) if by_class else (None, None)
        centres = codes[pick_codes(len(codes), n, generator, groups, wanted).to(codes.device)]
        return sample_kernel(centres, nearest_components(centres, mixture), mixture[2], opts.bandwidth, generator)

    def generate(self, z: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [0, 1] of latents z (N, latent_dim); a conditional model takes `labels`, int64 (N,) or class
        weights (N, K)."""
        if self.conditional and labels is None:
            raise GentoolError("This conditional cnn model needs labels: one class (or class weights) per latent.")
        return self.generator(z, labels.to(z.device) if self.conditional else None)

    def reconstruct_index(self, index: torch.Tensor) -> torch.Tensor:
        """The generator's output (N, C, H, W) for the latents of training images at positions `index` (N,)."""
        index = index.to(self.latents.device)
        labels = self.labels[index] if self.conditional else None
        return self.generator(self.latents[index], labels)
