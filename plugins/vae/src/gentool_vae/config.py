"""Options of the `vae` model and the `elbo` metric (pydantic only, no torch)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gentool.api import ComponentConfig, ComponentName, ModelConfig


class VAEConfig(ModelConfig):
    """A convolutional VAE; the defaults train on `digits` in about 5 minutes on 2 CPU cores."""

    steps: int = Field(5000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(64, gt=0, description="training batch size")
    latent_dim: int = Field(32, gt=0, description="size of the Gaussian latent z")
    width: int = Field(64, gt=0, description="channels of the first conv layer; doubled at each halving")
    hidden: int = Field(512, gt=0, description="width of the fully connected layer between convs and z")
    ema: bool = Field(True, description="evaluate, sample and encode with an exponential moving average of the weights")
    prior: Literal["mixture", "standard"] = Field(
        "mixture",
        description='p(z): "mixture" (a learned mixture of diagonal Gaussians, which follows the aggregate posterior) '
        'or "standard" (N(0, I), the KL in closed form)',
    )
    prior_components: int = Field(32, gt=0, description='Gaussians in the "mixture" prior')
    beta: float = Field(1.0, ge=0, description="weight of the KL term (beta-VAE when != 1)")
    kl_warmup: float = Field(
        0.1, ge=0, le=1, description="fraction of training over which the KL weight ramps linearly from 0 to beta"
    )
    loss: ComponentName("loss") = Field(
        "bce",
        description='reconstruction likelihood, a registered reconstruction loss: "bce" (Bernoulli), '
        '"mse" (Gaussian, variance 1/2) or "l1" (Laplace); others give an ELBO up to a constant',
    )
    loss_options: dict[str, Any] = Field(default_factory=dict, description="options of the reconstruction loss")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate")


class ElboConfig(ComponentConfig):
    """Options of the `elbo` metric."""

    k: int = Field(1, ge=1, le=5000, description="importance samples per image; k > 1 also reports the IWAE bound")
    images: int = Field(1000, gt=0, description="test images to average over (the first ones of the split)")
    batch_size: int = Field(500, gt=0, description="decoder passes at a time (batch_size // k images when k > 1)")
