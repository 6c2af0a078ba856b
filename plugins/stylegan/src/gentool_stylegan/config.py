"""Options of the `stylegan` model and its sample-time options; no torch import, so `gentool info stylegan` is fast.

The defaults are sized for the embedded digits on two CPU cores (about the `gan` default's wall time); the
docs page (docs/models/stylegan.md) gives the measurements behind them and the paper's values for large images.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from gentool.api import AugmentPolicy, ComponentName, GentoolError, ModelConfig, SampleConfig


class StyleGANConfig(ModelConfig):
    """StyleGAN2 (Karras et al. 2020): a mapping network and a modulated-convolution skip generator against a
    residual discriminator, lazy R1, optional path-length regularisation, style mixing and progressive growing."""

    steps: int = Field(2400, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(16, gt=0, description="real images per discriminator update (per stage when growing "
                            "unless stage_batch_sizes says otherwise)")
    ema: bool = Field(True, description="sample from the trainer's exponential moving average of the generator")
    ema_decay: float = Field(0.99, gt=0, lt=1, description="decay of the generator's weight average")
    latent_dim: int = Field(128, gt=0, description="size of z ~ N(0, I) and of the intermediate latent w")
    mapping_layers: int = Field(2, ge=1, description="depth of the mapping network z -> w (StyleGAN2: 8; its 32 px "
                                "CIFAR configuration: 2)")
    channel_base: int = Field(512, gt=0, description="feature maps at resolution R are channel_base / R, at most "
                              "channel_max (StyleGAN2: 32768 and 512)")
    channel_max: int = Field(128, gt=0, description="most feature maps of any layer")
    output: Literal["tanh", "linear"] = Field("tanh", description='the generator\'s last activation: "tanh" bounds '
                                              "the fakes to (-1, 1) as the reals are; \"linear\" is StyleGAN2's, which on "
                                              "data with saturated pixels (the digits' black background) lets D tell fakes "
                                              "by their background and G collapse onto one class (docs/models/stylegan.md)")
    mbstd_group: int = Field(4, ge=1, description="samples per group of the discriminator's minibatch standard "
                             "deviation, at most the batch size (StyleGAN2: 4; its CIFAR-10 configuration: 32)")
    conditional: bool = Field(False, description="condition on the class labels through the mapping network (and a "
                              "projection in the discriminator); needs labelled data")
    loss: ComponentName("loss") = Field("nonsaturating", description='adversarial loss by name: "nonsaturating" '
                                        "(StyleGAN2's logistic loss), \"hinge\", \"lsgan\", or any registered one")
    loss_options: dict[str, Any] = Field(default_factory=dict, description="options of the loss")
    lr_generator: float = Field(0.006, gt=0, description="Adam learning rate of the generator (StyleGAN2: 0.0025; "
                                "with R1 gamma 3, 0.005-0.006 gave the lowest FID at gan's wall time on digits, 0.006 the widest "
                                "class coverage)")
    lr_discriminator: float = Field(0.006, gt=0, description="Adam learning rate of the discriminator (StyleGAN2: "
                                    "0.0025)")
    beta1: float = Field(0.0, ge=0, lt=1, description="Adam beta1 of both optimizers (StyleGAN2: 0)")
    beta2: float = Field(0.99, ge=0, lt=1, description="Adam beta2 of both optimizers (StyleGAN2: 0.99)")
    r1_gamma: float = Field(3.0, ge=0, description="weight gamma of the R1 penalty gamma/2 |grad D(real)|^2; 0 "
                            "turns it off (StyleGAN2: 0.01 on CIFAR-10, 10 on FFHQ-1024)")
    r1_interval: int = Field(16, ge=1, description="apply R1 every this many steps, scaled by it (lazy "
                             "regularisation; Adam's lr and betas of D are corrected for the extra updates)")
    pl_weight: float = Field(0.0, ge=0, description="weight of the path-length penalty (StyleGAN2: 2); 0 turns it off")
    pl_interval: int = Field(4, ge=1, description="apply the path-length penalty every this many steps")
    pl_batch_shrink: int = Field(2, ge=1, description="the path-length penalty uses batch_size / this many samples")
    style_mixing: float = Field(0.0, ge=0, le=1, description="probability that a generator batch mixes the styles "
                                "of two latents from a random layer on (StyleGAN2: 0.9 on FFHQ, 0 in its CIFAR configuration)")
    augment: list[AugmentPolicy] = Field(default_factory=list, description="DiffAugment policies applied to every image "
                                  'the discriminator sees: any of "color", "translation", "cutout"')
    growing: bool = Field(False, description="train resolution by resolution (4, 8, ... full), one stage each, "
                          "each new resolution faded in (PGGAN)")
    stage_shares: list[float] | None = Field(None, description="with growing: each resolution's share of the "
                                             "budget, coarsest first (default: equal shares)")
    stage_batch_sizes: list[int] | None = Field(None, description="with growing: each resolution's batch size, "
                                                "coarsest first (default: batch_size doubled per coarser level, "
                                                "at most 4 x batch_size)")
    fade: float = Field(0.5, gt=0, le=1, description="with growing: the fraction of each stage (after the first) "
                        "over which its new layers fade in")

    @model_validator(mode="after")
    def _growing_lists(self) -> StyleGANConfig:
        for name in ("stage_shares", "stage_batch_sizes"):
            values = getattr(self, name)
            if values is not None and (not self.growing or any(v <= 0 for v in values)):
                raise GentoolError(
                    f"model.{name}={values} needs model.growing=true and positive values, one per resolution from 4 "
                    "up (digits: 4, 8, 16, 32 -> four values)."
                )
        return self


class StyleGANSampleConfig(SampleConfig):
    """Chosen when sampling a trained run: `gentool sample RUN --set truncation=0.7`."""

    truncation: float = Field(1.0, ge=0, description="truncation psi: w -> w_avg + psi (w - w_avg); 1 is off, "
                              "smaller trades variety for typical samples, 0 gives the mean style")
    truncation_cutoff: int | None = Field(None, ge=1, description="truncate only the first this many layers' styles "
                                          "(the coarse ones); default all")
    mixing_grid: bool = Field(False, description="n = k*k images as a style-mixing grid: the top row and left "
                              "column are sources, each cell takes the top source's coarse styles and the left "
                              "source's fine ones")
    crossover: int | None = Field(None, ge=1, description="with mixing_grid: the first layer whose style comes "
                                  "from the left column (default: half the layers)")
    noise: Literal["random", "none"] = Field("random", description="per-layer noise inputs: fresh N(0, 1), or none")
