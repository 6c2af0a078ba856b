"""Options of the `gan` model (DCGAN); no torch import, so `gentool info gan` is fast.

The defaults are tuned for the embedded 4,000 digits on two CPU cores (about 3 minutes): see the plugin's README
for the measurements behind each one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gentool.config import ComponentName, ModelConfig


class GANConfig(ModelConfig):
    """DCGAN: a transposed-convolution generator against a strided-convolution discriminator (MLPs on points)."""

    steps: int = Field(4000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(32, gt=0, description="training batch size (real images per discriminator update)")
    ema: bool = Field(True, description="sample from an exponential moving average of the generator's weights")
    ema_decay: float = Field(0.995, gt=0, lt=1, description="decay of the generator's weight average")
    latent_dim: int = Field(64, gt=0, description="size of the noise vector z ~ N(0, I) fed to the generator")
    width: int = Field(
        32, gt=0, description="channels of the generator's last hidden layer and the discriminator's first; doubled at "
        "each coarser layer"
    )
    mlp_width: int = Field(128, gt=0, description="hidden units of every layer of the two MLPs used on points data")
    discriminator_norm: Literal["auto", "batch", "none"] = Field(
        "auto",
        description="BatchNorm after every discriminator convolution but the first (DCGAN's), or none; auto: batch, "
        'except none with "wasserstein-gp" (its penalty needs per-sample gradients) or spectral_norm',
    )
    spectral_norm: bool = Field(False, description="spectral normalisation (Miyato et al. 2018) on every discriminator layer")
    pack: int = Field(
        2, ge=1, le=8, description="PacGAN (Lin et al. 2018): the discriminator judges this many samples at once, side "
        "by side in its input channels, which penalises a generator that drops modes; 1 turns it off"
    )
    n_critic: int = Field(1, ge=1, description="discriminator updates per generator update (5 is usual for wasserstein-gp)")
    loss: ComponentName("loss") = Field(
        "nonsaturating",
        description='adversarial loss by name: "nonsaturating" (DCGAN\'s), "hinge", "lsgan", "wasserstein-gp", or any '
        "registered adversarial loss",
    )
    loss_options: dict[str, Any] = Field(
        default_factory=dict, description='options of the loss, e.g. {gp_weight = 10} for "wasserstein-gp"'
    )
    lr_generator: float = Field(5e-4, gt=0, description="Adam learning rate of the generator (DCGAN used 2e-4)")
    lr_discriminator: float = Field(5e-4, gt=0, description="Adam learning rate of the discriminator (DCGAN used 2e-4)")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam beta1 of both optimizers (DCGAN: 0.5)")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam beta2 of both optimizers")

    def uses_batch_norm(self) -> bool:
        """Whether the image discriminator gets BatchNorm (resolves `discriminator_norm = "auto"`)."""
        if self.discriminator_norm == "auto":
            return self.loss != "wasserstein-gp" and not self.spectral_norm
        return self.discriminator_norm == "batch"
