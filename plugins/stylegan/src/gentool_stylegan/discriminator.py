"""StyleGAN2's residual discriminator, with a fromRGB layer per resolution when it grows progressively.

`forward(images (N, C, R, R) in [-1, 1], labels, level, alpha) -> logits (N,)`: fromRGB at R = 4 * 2^level, then
residual blocks down to 4x4, minibatch standard deviation, a 3x3 convolution, two linear layers. A conditional
discriminator projects the last features on a class embedding (Miyato & Koyama 2018).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gentool_stylegan.generator import channels_at
from gentool_stylegan.layers import EqualConv2d, EqualLinear, downsample, minibatch_stddev


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions then 2x downsampling, plus a 1x1 skip; the sum scaled by sqrt(1/2)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(c_in, c_in, 3, activate=True)
        self.conv1 = EqualConv2d(c_in, c_out, 3, activate=True)
        self.skip = EqualConv2d(c_in, c_out, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        y = downsample(self.conv1(self.conv0(x)))
        return (self.skip(downsample(x)) + y) * math.sqrt(0.5)


class Discriminator(nn.Module):
    """See the module docstring; `growing` keeps a fromRGB layer at every resolution, else only at the last."""

    def __init__(self, *, channels: int, levels: int, channel_base: int, channel_max: int, num_classes: int = 0,
                 growing: bool = False, mbstd_group: int = 4) -> None:
        super().__init__()
        self.levels, self.mbstd_group = levels, mbstd_group
        c = [channels_at(level, channel_base, channel_max) for level in range(levels)]
        self.fromrgb = nn.ModuleDict({
            str(level): EqualConv2d(channels, c[level], 1, activate=True)
            for level in (range(levels) if growing else [levels - 1])
        })
        # blocks[level] takes level's resolution down to level - 1's
        self.blocks = nn.ModuleList([nn.Identity()] + [ResidualBlock(c[lv], c[lv - 1]) for lv in range(1, levels)])
        self.conv = EqualConv2d(c[0] + 1, c[0], 3, activate=True)
        self.fc = EqualLinear(c[0] * 16, c[0], activate=True)
        self.out = EqualLinear(c[0], 1)
        self.embed = EqualLinear(num_classes, c[0]) if num_classes else None
        self.num_classes = num_classes

    def forward(self, img: Tensor, labels: Tensor | None = None, level: int | None = None, alpha: float = 1.0) -> Tensor:
        level = self.levels - 1 if level is None else level
        x = self.fromrgb[str(level)](img)
        if level > 0:
            x = self.blocks[level](x)
            if alpha < 1.0:  # fade in: mix with the coarser fromRGB of the downsampled image
                x = torch.lerp(self.fromrgb[str(level - 1)](downsample(img)), x, alpha)
        for lv in range(level - 1, 0, -1):
            x = self.blocks[lv](x)
        x = self.conv(minibatch_stddev(x, self.mbstd_group))
        h = self.fc(x.flatten(1))
        logits = self.out(h).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this discriminator is class-conditional: pass labels")
            e = self.embed(F.one_hot(labels, self.num_classes).to(h.dtype))
            logits = logits + (e * h).sum(dim=1) / math.sqrt(h.shape[1])
        return logits
