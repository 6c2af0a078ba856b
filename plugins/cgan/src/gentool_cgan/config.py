"""Options of the `cgan` model (class-conditional DCGAN); no torch import, so `gentool info cgan` is fast.

The defaults are tuned for the embedded 4,000 digits on two CPU cores (about 3 minutes): see the plugin's README
for the measurements behind them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gentool.api import AdversarialConfig


class CGANConfig(AdversarialConfig):
    """A class-conditional DCGAN: labels enter G through conditional BatchNorm and D by projection or concatenation."""

    steps: int = Field(3000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(32, gt=0, description="training batch size (real images per discriminator update)")
    ema: bool = Field(True, description="sample from an exponential moving average of the generator's weights")
    ema_decay: float = Field(0.995, gt=0, lt=1, description="decay of the generator's weight average")
    latent_dim: int = Field(64, gt=0, description="size of the noise vector z ~ N(0, I) fed to the generator")
    width: int = Field(
        32, gt=0, description="channels of the generator's last hidden layer and the discriminator's first; doubled at "
        "each coarser layer"
    )
    conditional_norms: Literal["all", "coarse"] = Field(
        "coarse",
        description="G's BatchNorms that take a per-class gain and bias: all, or coarse (all but the full-size "
        "layer's, which keeps one learned gain and bias: the class is set at the coarser layers, and the full-size "
        "layer's per-class affine costs 4 - 7 % of a step on the CPU)",
    )
    conditioning: Literal["projection", "concat"] = Field(
        "projection",
        description="how D sees the label: projection adds <embed(y), features(x)> to its logit (Miyato & Koyama "
        "2018); concat appends one-hot label planes to the input image",
    )
