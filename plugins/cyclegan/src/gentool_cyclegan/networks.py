"""CycleGAN's networks (Zhu et al. 2017): ResNet and U-Net generators, and the PatchGAN discriminator.

All work in [-1, 1]: generators end in tanh. Normalisation is instance norm without affine parameters or running
statistics, as in the reference, so a generator treats every image alone (batch size 1 works the same).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

Upsample = Literal["transpose", "resize"]


class InstanceNorm(nn.GroupNorm):
    """Instance norm without affine parameters or running statistics (the reference's), computed by torch's
    group-norm kernel with one group per channel: the same numbers, and on the CPU about twice as fast with its
    backward as `nn.InstanceNorm2d`, which reshapes the batch for a batch-norm kernel."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, channels, eps=1e-5, affine=False)


class FewChannelConv2d(nn.Conv2d):
    """A convolution to few output channels (a generator's last 7x7 to 1 or 3, the PatchGAN's logit) computed in
    channels-last order and handed back in its input's: oneDNN's NCHW kernels run such convolutions at a fraction of
    the speed of its channels-last ones on the CPU
    (docs/benchmarks.md#fused-optimizers-and-cyclegans-kernels). Weights are the usual Conv2d's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.is_contiguous(memory_format=torch.channels_last):
            return super().forward(x)
        return super().forward(x.contiguous(memory_format=torch.channels_last)).contiguous()


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return InstanceNorm(channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


def _up(c_in: int, c_out: int, kernel: int, upsample: Upsample) -> nn.Module:
    """A 2x upsampling convolution: transposed (the reference), or nearest resize then a 3x3 convolution, which
    avoids the checkerboard pattern of overlapping transposed kernels (Odena et al. 2016)."""
    if upsample == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1))
    if kernel == 3:
        return nn.ConvTranspose2d(c_in, c_out, 3, 2, 1, output_padding=1)
    return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)


def init_weights(module: nn.Module, std: float = 0.02) -> None:
    """The reference's initialisation: convolution weights ~ N(0, std), biases 0; norm gains ~ N(1, std)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


class ResidualBlock(nn.Module):
    """x + (reflection pad, 3x3 conv, norm, ReLU, reflection pad, 3x3 conv, norm)(x)."""

    def __init__(self, channels: int, norm: str) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(norm, channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """`forward(x (N, c_in, H, W)) -> (N, c_out, H, W)` in [-1, 1]; H and W divisible by 2^downsamplings.

    7x7 convolution (reflection padded) to `width` channels; `downsamplings` stride-2 3x3 convolutions doubling the
    channels; `blocks` residual blocks; as many 2x upsamplings halving them; a 7x7 convolution to c_out and tanh.
    """

    def __init__(self, c_in: int, c_out: int, width: int = 32, blocks: int = 6, downsamplings: int = 2,
                 norm: str = "instance", upsample: Upsample = "transpose") -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(c_in, width, 7), _norm(norm, width), nn.ReLU(True)]
        c = width
        for _ in range(downsamplings):
            layers += [nn.Conv2d(c, c * 2, 3, 2, 1), _norm(norm, c * 2), nn.ReLU(True)]
            c *= 2
        layers += [ResidualBlock(c, norm) for _ in range(blocks)]
        for _ in range(downsamplings):
            layers += [_up(c, c // 2, 3, upsample), _norm(norm, c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ReflectionPad2d(3), FewChannelConv2d(c, c_out, 7), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class UnetGenerator(nn.Module):
    """`forward(x) -> (N, c_out, H, W)` in [-1, 1]: `downsamplings` stride-2 4x4 convolutions (LeakyReLU 0.2, norm
    but at the ends), then as many 2x upsamplings (ReLU, norm), each concatenated with the encoder map of the same
    size (skip connections); channels width, 2 width, ... capped at 8 width."""

    def __init__(self, c_in: int, c_out: int, width: int = 32, downsamplings: int = 2, norm: str = "instance",
                 upsample: Upsample = "transpose") -> None:
        super().__init__()
        chans = [min(width * 2**i, width * 8) for i in range(downsamplings)]
        self.down = nn.ModuleList()
        prev = c_in
        for i, c in enumerate(chans):
            first, last = i == 0, i == downsamplings - 1
            self.down.append(nn.Sequential(
                nn.Identity() if first else nn.LeakyReLU(0.2, True),
                nn.Conv2d(prev, c, 4, 2, 1),
                nn.Identity() if first or last else _norm(norm, c),
            ))
            prev = c
        self.up = nn.ModuleList()
        for i in reversed(range(downsamplings)):
            inner = i == downsamplings - 1
            c_from = chans[i] if inner else chans[i] * 2  # inner: the bottleneck alone; else with its skip
            outermost = i == 0
            target = c_out if outermost else chans[i - 1]
            self.up.append(nn.Sequential(
                nn.ReLU(True), _up(c_from, target, 4, upsample),
                nn.Tanh() if outermost else _norm(norm, target),
            ))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        x = skips.pop()
        for k, layer in enumerate(self.up):
            if k > 0:
                x = torch.cat([x, skips.pop()], 1)
            x = layer(x)
        return x


class PatchDiscriminator(nn.Module):
    """`forward(x (N, C, H, W) in [-1, 1]) -> (N, 1, h, w)` logits, one per overlapping patch (PatchGAN).

    A 4x4 stride-2 convolution (LeakyReLU 0.2), `layers - 1` more with norm (channels doubling, capped at 8 width),
    a stride-1 one, and a stride-1 convolution to one channel. With 3 layers each logit sees a 70x70 patch (the
    reference's at 256 px); 2 layers see 34x34, 1 layer 16x16.
    """

    def __init__(self, channels: int, width: int = 32, layers: int = 2, norm: str = "instance",
                 wrap=lambda m: m) -> None:
        super().__init__()
        body: list[nn.Module] = [wrap(nn.Conv2d(channels, width, 4, 2, 1)), nn.LeakyReLU(0.2, True)]
        c = width
        for n in range(1, layers + 1):
            c_next = min(width * 2**n, width * 8)
            stride = 2 if n < layers else 1
            body += [wrap(nn.Conv2d(c, c_next, 4, stride, 1)), _norm(norm, c_next), nn.LeakyReLU(0.2, True)]
            c = c_next
        body.append(wrap(FewChannelConv2d(c, 1, 4, 1, 1)))
        self.body = nn.Sequential(*body)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def patch_grid(size: int, layers: int) -> int:
    """Side of the PatchGAN's logit map for `size`-pixel images (0 when the images are too small)."""
    for _ in range(layers):
        size = (size + 2 - 4) // 2 + 1
    return max(0, size - 2)  # the two stride-1 4x4 convolutions with padding 1 take one pixel each
