"""Reconstruction losses: `loss(pred, target) -> (N,)`, each sample's loss summed over its non-batch dims.

Summing (not averaging) per sample keeps the value a negative log-likelihood up to a constant, so a VAE's
KL term is weighted correctly: "bce" is the Bernoulli likelihood, "mse" a Gaussian one with variance 1/2,
"l1" a Laplace one. Images are in [0, 1].
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator

from gentool.config import ComponentConfig


def _per_sample(values: torch.Tensor) -> torch.Tensor:
    """Sum over every dimension but the first: (N, ...) -> (N,)."""
    return values.reshape(values.shape[0], -1).sum(dim=1)


class BinaryCrossEntropy:
    """Bernoulli negative log-likelihood of `target` in [0, 1] under probabilities `pred`.

    `loss(pred, target, logits=True)` takes pre-sigmoid logits instead of probabilities (more stable; use it when
    the decoder's last layer has no sigmoid). Probabilities are clamped so log(0) costs 100 nats, not infinity.
    """

    role: ClassVar[str] = "reconstruction"
    accepts_logits: ClassVar[bool] = True

    def __init__(self, config: ComponentConfig | None = None) -> None:
        self.config = config

    def __call__(self, pred: torch.Tensor, target: torch.Tensor, *, logits: bool = False) -> torch.Tensor:
        if logits:
            values = F.binary_cross_entropy_with_logits(pred, target, reduction="none")
        else:
            values = F.binary_cross_entropy(pred, target, reduction="none")
        return _per_sample(values)


class SquaredError:
    """Squared error summed per sample: sum (pred - target)^2."""

    role: ClassVar[str] = "reconstruction"

    def __init__(self, config: ComponentConfig | None = None) -> None:
        self.config = config

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _per_sample((pred - target).square())


class AbsoluteError:
    """Absolute error summed per sample: sum |pred - target|."""

    role: ClassVar[str] = "reconstruction"

    def __init__(self, config: ComponentConfig | None = None) -> None:
        self.config = config

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return _per_sample((pred - target).abs())


class LaplacianPyramidConfig(ComponentConfig):
    """Options of the Laplacian-pyramid L1 loss."""

    levels: int = Field(4, ge=1, le=8, description="pyramid levels, the last being the low-pass residual")
    weights: list[float] | None = Field(
        None,
        description="weight per level, finest first; default 4^-j (level j, finest j=0): GLO's 2^(2j) with j "
        "counted from the coarsest level, scaled so the finest level weighs 1",
    )

    @model_validator(mode="after")
    def _weights_match_levels(self) -> LaplacianPyramidConfig:
        if self.weights is not None and len(self.weights) != self.levels:
            raise ValueError(f"weights has {len(self.weights)} entries but levels is {self.levels}")
        return self

    def level_weights(self) -> list[float]:
        """The weight of each level, finest first."""
        return list(self.weights) if self.weights is not None else [4.0**-j for j in range(self.levels)]


BINOMIAL_5 = (1.0, 4.0, 6.0, 4.0, 1.0)  # Burt & Adelson's 5-tap kernel, / 16


def blur(x: torch.Tensor) -> torch.Tensor:
    """Separable 5-tap binomial blur of (N, C, H, W) with edge replication (constants stay constant)."""
    channels = x.shape[1]
    taps = torch.tensor(BINOMIAL_5, dtype=x.dtype, device=x.device) / 16.0
    x = F.pad(x, (2, 2, 2, 2), mode="replicate")
    x = F.conv2d(x, taps.view(1, 1, 1, 5).expand(channels, 1, 1, 5), groups=channels)
    return F.conv2d(x, taps.view(1, 1, 5, 1).expand(channels, 1, 5, 1), groups=channels)


def downsample(x: torch.Tensor) -> torch.Tensor:
    """Blur, then keep every other row and column: H -> ceil(H / 2)."""
    return blur(x)[:, :, ::2, ::2]


def upsample(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Repeat each pixel 2x2, crop to `size`, blur."""
    up = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    return blur(up[:, :, : size[0], : size[1]])


def laplacian_pyramid(x: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """Band-pass levels L^0 (finest) .. L^(levels-2), then the low-pass residual; they sum back to x when expanded."""
    bands = []
    current = x
    for _ in range(levels - 1):
        smaller = downsample(current)
        bands.append(current - upsample(smaller, (current.shape[2], current.shape[3])))
        current = smaller
    bands.append(current)
    return bands


class LaplacianPyramid:
    """GLO's Lap1 loss (Bojanowski et al. 2018): sum_j w_j |L^j(pred) - L^j(target)|_1 per sample.

    L^j is level j of the Laplacian pyramid (finest first, the last level the low-pass residual); each coarser level
    weighs 4x less than the one above it, so fine detail counts more than under a plain L1 or L2 loss.
    """

    role: ClassVar[str] = "reconstruction"

    def __init__(self, config: LaplacianPyramidConfig | None = None) -> None:
        self.config = config or LaplacianPyramidConfig()
        self.weights = self.config.level_weights()

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        levels = self.config.levels
        total = pred.new_zeros(pred.shape[0])
        for weight, a, b in zip(self.weights, laplacian_pyramid(pred, levels), laplacian_pyramid(target, levels)):
            total = total + weight * _per_sample((a - b).abs())
        return total
