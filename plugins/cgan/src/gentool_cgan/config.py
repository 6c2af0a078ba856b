"""Options of the `cgan` model (class-conditional DCGAN); no torch import, so `gentool info cgan` is fast."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gentool.config import ModelConfig


class CGANConfig(ModelConfig):
    """A class-conditional DCGAN: labels enter G through conditional BatchNorm and D by projection or concatenation."""

    steps: int = Field(3000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(64, gt=0, description="training batch size (real images per discriminator update)")
    ema: bool = Field(True, description="sample from an exponential moving average of the generator's weights")
    ema_decay: float = Field(0.99, gt=0, lt=1, description="decay of the generator's weight average")
    latent_dim: int = Field(64, gt=0, description="size of the noise vector z ~ N(0, I) fed to the generator")
    width: int = Field(
        64, gt=0, description="channels of the generator's last hidden layer and the discriminator's first; doubled at "
        "each coarser layer"
    )
    conditioning: Literal["projection", "concat"] = Field(
        "projection",
        description="how D sees the label: projection adds <embed(y), features(x)> to its logit (Miyato & Koyama "
        "2018); concat appends one-hot label planes to the input image",
    )
    spectral_norm: bool = Field(False, description="spectral normalisation (Miyato et al. 2018) on every discriminator layer")
    n_critic: int = Field(1, ge=1, description="discriminator updates per generator update (5 is usual for wasserstein-gp)")
    loss: str = Field(
        "nonsaturating",
        description='adversarial loss by name: "nonsaturating", "hinge", "lsgan", "wasserstein-gp", or any registered '
        "adversarial loss",
    )
    loss_options: dict[str, Any] = Field(
        default_factory=dict, description='options of the loss, e.g. {gp_weight = 10} for "wasserstein-gp"'
    )
    lr_generator: float = Field(2e-4, gt=0, description="Adam learning rate of the generator (DCGAN: 2e-4)")
    lr_discriminator: float = Field(2e-4, gt=0, description="Adam learning rate of the discriminator (DCGAN: 2e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam beta1 of both optimizers (DCGAN: 0.5)")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam beta2 of both optimizers")
