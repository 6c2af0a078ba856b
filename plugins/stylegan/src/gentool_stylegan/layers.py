"""StyleGAN2's building blocks: equalized learning rate, modulated convolution with demodulation, noise inputs.

Every weight is stored as N(0, 1) / lr_multiplier and scaled at run time by lr_multiplier / sqrt(fan_in)
(equalized learning rate, Karras et al. 2018), so Adam's per-parameter step is the same for every layer.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LRELU_GAIN = math.sqrt(2.0)  # keeps the activations' scale through LeakyReLU(0.2), as in StyleGAN2


def lrelu(x: Tensor) -> Tensor:
    """LeakyReLU(0.2) times sqrt(2)."""
    return F.leaky_relu(x, 0.2).mul_(LRELU_GAIN)  # in place: leaky_relu's backward reads its input, not output


class EqualLinear(nn.Module):
    """`forward(x (N, in)) -> (N, out)`: a linear layer with equalized learning rate; `activate` adds lrelu."""

    def __init__(self, c_in: int, c_out: int, *, bias_init: float = 0.0, lr_multiplier: float = 1.0,
                 activate: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in) / lr_multiplier)
        self.bias = nn.Parameter(torch.full((c_out,), float(bias_init)) / lr_multiplier)
        self.weight_gain = lr_multiplier / math.sqrt(c_in)
        self.lr_multiplier = lr_multiplier
        self.activate = activate

    def forward(self, x: Tensor) -> Tensor:
        x = F.linear(x, self.weight * self.weight_gain, self.bias * self.lr_multiplier)
        return lrelu(x) if self.activate else x


class EqualConv2d(nn.Module):
    """`forward(x) -> conv(x)` (same padding) with equalized learning rate; `activate` adds bias and lrelu."""

    def __init__(self, c_in: int, c_out: int, kernel: int, *, bias: bool = True, activate: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(c_in * kernel * kernel)
        self.activate = activate

    def forward(self, x: Tensor) -> Tensor:
        x = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.weight.shape[-1] // 2)
        return lrelu(x) if self.activate else x


def modulated_conv2d(x: Tensor, weight: Tensor, styles: Tensor, *, demodulate: bool = True, eps: float = 1e-8) -> Tensor:
    """Conv of x (N, I, H, W) by per-sample weights weight (O, I, k, k) * styles (N, I), each output channel then
    scaled to unit norm over (I, k, k) when `demodulate` (StyleGAN2's eq. 1-3); same padding.

    Computed without per-sample kernels: scaling the input by the styles and the output by the demodulation
    coefficients is the same linear map (StyleGAN2's "non-fused" form), one ordinary convolution for the batch.
    """
    x = x * styles[:, :, None, None]
    out = F.conv2d(x, weight, padding=weight.shape[-1] // 2)
    if demodulate:
        # sum over (I, k, k) of (w * s)^2 = (w^2 summed over k) @ s^2
        d = torch.rsqrt(styles.square() @ weight.square().sum(dim=(2, 3)).t() + eps)  # (N, O)
        out = out * d[:, :, None, None]
    return out


class ModulatedConv(nn.Module):
    """`forward(x, w) -> y`: a style-modulated k x k convolution with an affine map w -> styles (bias 1).

    `up` doubles the size first (bilinear, which is the [1, 3, 3, 1] filter of StyleGAN2); a 3x3 layer adds noise
    (a learned strength times N(0, 1) per pixel, shared over channels), a bias and lrelu; a 1x1 toRGB layer
    (`demodulate=False`) adds only the bias.
    """

    def __init__(self, c_in: int, c_out: int, w_dim: int, kernel: int = 3, *, up: bool = False,
                 demodulate: bool = True, noise: bool = True, activate: bool = True) -> None:
        super().__init__()
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(c_out, c_in, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(c_out))
        self.weight_gain = 1.0 / math.sqrt(c_in * kernel * kernel)
        self.noise_strength = nn.Parameter(torch.zeros(())) if noise else None
        self.up, self.demodulate, self.activate = up, demodulate, activate

    def forward(self, x: Tensor, w: Tensor, noise: Tensor | None = None) -> Tensor:
        if self.up:
            x = upsample(x)
        styles = self.affine(w)
        if not self.demodulate:  # toRGB: the weight gain goes into the styles, as in StyleGAN2
            styles = styles * self.weight_gain
            x = modulated_conv2d(x, self.weight, styles, demodulate=False)
        else:
            x = modulated_conv2d(x, self.weight * self.weight_gain, styles, demodulate=True)
        shift = self.bias[None, :, None, None]
        if self.noise_strength is not None:
            if noise is None:
                noise = torch.randn(len(x), 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
            shift = shift + noise * self.noise_strength
        x = x + shift
        return lrelu(x) if self.activate else x


def upsample(x: Tensor) -> Tensor:
    """2x bilinear upsampling (the separable [1, 3, 3, 1] / 4 filter)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)


def downsample(x: Tensor) -> Tensor:
    """2x downsampling by 2x2 averaging (what PGGAN uses for the real images of a coarser stage)."""
    return F.avg_pool2d(x, 2)


def minibatch_stddev(x: Tensor, group_size: int = 4) -> Tensor:
    """Appends one channel: the standard deviation over groups of up to `group_size` samples, averaged over
    channels and pixels (PGGAN's minibatch discrimination); the batch size must be a multiple of the group."""
    n, c, h, w = x.shape
    g = math.gcd(min(group_size, n), n)
    y = x.reshape(g, n // g, c, h, w)
    y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n // g,)
    y = y.repeat(g).reshape(n, 1, 1, 1).expand(n, 1, h, w)
    return torch.cat([x, y], dim=1)
