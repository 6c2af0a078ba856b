"""Options of the `gan` model (DCGAN); no torch import, so `gentool info gan` is fast."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gentool.config import ModelConfig


class GANConfig(ModelConfig):
    """DCGAN: a transposed-convolution generator against a strided-convolution discriminator (MLPs on points)."""

    steps: int = Field(3000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(64, gt=0, description="training batch size (real images per discriminator update)")
    ema: bool = Field(True, description="sample from an exponential moving average of the generator's weights")
    ema_decay: float = Field(0.999, gt=0, lt=1, description="decay of the generator's weight average")
    latent_dim: int = Field(64, gt=0, description="size of the noise vector z ~ N(0, I) fed to the generator")
    width: int = Field(
        64, gt=0, description="channels of the generator's last hidden layer and the discriminator's first; doubled at "
        "each coarser layer"
    )
    mlp_width: int = Field(128, gt=0, description="hidden units of every layer of the two MLPs used on points data")
    spectral_norm: bool = Field(False, description="spectral normalisation (Miyato et al. 2018) on every discriminator layer")
    discriminator_norm: Literal["none", "batch"] = Field(
        "none", description="normalisation inside the discriminator: none, or BatchNorm after every convolution but the "
        "first (DCGAN's; not with wasserstein-gp, whose penalty assumes per-sample gradients)"
    )
    n_critic: int = Field(1, ge=1, description="discriminator updates per generator update (5 is usual for wasserstein-gp)")
    loss: str = Field(
        "nonsaturating",
        description='adversarial loss by name: "nonsaturating" (DCGAN\'s), "hinge", "lsgan", "wasserstein-gp", or any '
        "registered adversarial loss",
    )
    loss_options: dict[str, Any] = Field(
        default_factory=dict, description='options of the loss, e.g. {gp_weight = 10} for "wasserstein-gp"'
    )
    lr_generator: float = Field(2e-4, gt=0, description="Adam learning rate of the generator (DCGAN: 2e-4)")
    lr_discriminator: float = Field(2e-4, gt=0, description="Adam learning rate of the discriminator (DCGAN: 2e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam beta1 of both optimizers (DCGAN: 0.5)")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam beta2 of both optimizers")
