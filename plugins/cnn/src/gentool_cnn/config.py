"""Options of the `cnn` model (GLO); no torch import, so `gentool info cnn` is fast."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gentool.api import ComponentName, ModelConfig, SampleConfig


class CNNConfig(ModelConfig):
    """GLO: a deconvolutional generator and one learned latent per training image, fitted by regression alone."""

    steps: int = Field(5000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(32, gt=0, description="training batch size")
    latent_dim: int = Field(16, gt=0, description="size of each image's latent code (on the unit sphere)")
    width: int = Field(48, gt=0, description="channels of the generator's last layer; doubled at each coarser layer")
    loss: ComponentName("loss") = Field(
        "laplacian",
        description='reconstruction loss by name: "laplacian" (GLO\'s Lap1, the paper\'s best), "l1", "l2", or any '
        "registered reconstruction loss",
    )
    loss_options: dict[str, Any] = Field(default_factory=dict, description="options of the reconstruction loss")
    init: Literal["projection", "random"] = Field(
        "projection",
        description="starting latents: a fixed random projection of each image's centred pixels, or uniform on the sphere",
    )
    lr_generator: float = Field(1e-3, gt=0, description="Adam learning rate of the generator's weights")
    lr_latent: float = Field(
        2.0, gt=0, description="learning rate of the latents: step = lr * gradient of each image's own per-pixel loss"
    )
    prior_components: int = Field(
        70, ge=1, le=100, description="Gaussians in the mixture fitted to the learned latents for sampling (EM, full "
        "covariances); 1 is GLO's single Gaussian, which mixes the classes' regions of latent space",
    )
    conditional: bool = Field(
        False, description="concatenate a learned class embedding to the latent, so samples can be drawn per class"
    )
    label_dim: int = Field(16, gt=0, description="size of the class embedding when conditional")


class CNNSampleConfig(SampleConfig):
    """Chosen when sampling a trained run: `gentool sample RUN --set prior=mixture`."""

    prior: Literal["kernel", "mixture"] = Field(
        "kernel",
        description='where latents are drawn: "kernel" picks a trained latent at random and moves it by its mixture '
        "component's spread times `bandwidth` (a kernel density estimate: the data's class proportions are kept); "
        '"mixture" draws a component by its weight, then mean + spread',
    )
    bandwidth: float = Field(
        0.5, ge=0, description="kernel prior: the move's scale relative to the component's spread; 0 decodes trained "
        "latents themselves (reconstructions of training images), larger is further from them",
    )
