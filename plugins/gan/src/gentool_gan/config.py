"""Options of the `gan` model (DCGAN); no torch import, so `gentool info gan` is fast.

The defaults are tuned for the embedded 4,000 digits on two CPU cores (about 3 minutes): see the plugin's README
for the measurements behind each one.
"""

from __future__ import annotations

from pydantic import Field

from gentool.api import AdversarialConfig, AugmentPolicy


class GANConfig(AdversarialConfig):
    """DCGAN: a transposed-convolution generator against a strided-convolution discriminator (MLPs on points)."""

    steps: int = Field(
        6500, gt=0, description="default training budget in optimizer steps (--steps overrides); about 140 s on 2 CPU "
        "cores, under the 164 s the coverage target allows"
    )
    batch_size: int = Field(
        64, gt=0, description="training batch size (real images per discriminator update); 64 measured better than "
        "32 on digits in FID and class coverage over three seeds (docs/models/gan.md)"
    )
    ema: bool = Field(True, description="sample from an exponential moving average of the generator's weights")
    ema_decay: float = Field(0.995, gt=0, lt=1, description="decay of the generator's weight average")
    latent_dim: int = Field(64, gt=0, description="size of the noise vector z ~ N(0, I) fed to the generator")
    width: int = Field(
        32, gt=0, description="channels of the generator's last hidden layer and the discriminator's first; doubled at "
        "each coarser layer"
    )
    generators: int = Field(
        1, ge=1, le=8, description="generators in a mixture against one discriminator, each drawing an equal share "
        "picked by z's first coordinate; on digits 2 gave cleaner samples (FID, precision) and less diverse ones "
        "(recall) than 1, DCGAN's single generator (docs/models/gan.md)"
    )
    mlp_width: int = Field(128, gt=0, description="hidden units of every layer of the two MLPs used on points data")
    pack: int = Field(
        2, ge=1, le=8, description="PacGAN (Lin et al. 2018): the discriminator judges this many samples at once, side "
        "by side in its input channels, which penalises a generator that drops modes; 1 turns it off"
    )
    lr_generator: float = Field(
        3e-3, gt=0, description="Adam learning rate of the generator (DCGAN used 2e-4; with R1 and Adam's beta1 0, 3e-3 "
        "lowered FID on three seeds of digits against 2e-3, and both against 1e-3 with DCGAN's betas, docs/models/gan.md)"
    )
    lr_discriminator: float = Field(3e-3, gt=0, description="Adam learning rate of the discriminator (DCGAN used 2e-4)")
    beta1: float = Field(
        0.0, ge=0, lt=1, description="Adam beta1 of both optimizers (DCGAN: 0.5; StyleGAN2 and this default: 0, no "
        "momentum, which lets the larger learning rate stay stable)"
    )
    beta2: float = Field(0.99, ge=0, lt=1, description="Adam beta2 of both optimizers (DCGAN: 0.999; StyleGAN2: 0.99)")
    r1_gamma: float = Field(
        1.0, ge=0, description="R1 penalty (Mescheder et al. 2018): gamma/2 times the squared gradient of D at the "
        "real data, added to the discriminator's loss; 0 turns it off"
    )
    r1_every: int = Field(
        4, ge=1, description="apply the R1 penalty on every this-many-th step only, scaled by it (StyleGAN2's lazy "
        "regularisation: the same average pull at a fraction of the cost; 4 buys 5,000 steps in the time of 4,000 "
        "with R1 on every step, and lowered FID on three seeds of digits)"
    )
    coverage_weight: float | None = Field(
        None, ge=0, description="weight of a coverage term in G's loss (IMLE, Li & Malik 2018): each real example "
        "pulls the nearest of the batch's fakes towards it (mean squared distance after `coverage_pool` pooling), so "
        "kinds of images the generator draws too rarely gain samples; None: 3 on images (it raised the rarest class "
        "and lowered FID on three seeds of digits, docs/models/gan.md), 0 on points (where it did not help); 0 turns "
        "it off"
    )
    coverage_pool: int = Field(
        4, ge=1, description="average pooling (pixels per side) before the coverage term measures distances, so it "
        "matches shapes rather than strokes (4: 28 px digits as 7x7); points are used as they are"
    )
    augment: list[AugmentPolicy] = Field(
        default_factory=list, description="DiffAugment (Zhao et al. 2020) policies applied to real and fake images "
        "before the discriminator, in order (images only)"
    )

    def coverage_for(self, kind: str) -> float:
        """The coverage term's weight on data of `kind` ("image" or "points"), `coverage_weight`'s None resolved."""
        if self.coverage_weight is not None:
            return self.coverage_weight
        return 0.0 if kind == "points" else 3.0
