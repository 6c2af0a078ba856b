"""Convolutions to one output channel (a grey image's last layer) computed the way the CPU runs them fast.

oneDNN, torch's CPU convolution library, runs a convolution to a single output channel at a small fraction of its
speed on wider ones (a 3 x 3 one at about 12 GFLOP/s against 150 - 210 for the layers beside it in a DCGAN generator
on two cores). The same arithmetic as a 1 x 1 convolution to the kernel's k*k taps followed by their shifted sum
(`F.fold`, col2im) takes about half the time forward and backward (docs/benchmarks.md#one-channel-convolutions).
`NarrowConv2d` and `NarrowConvTranspose2d` are `nn.Conv2d` and `nn.ConvTranspose2d` that compute themselves that way
on CPU batches where their shape allows (`narrow_eligible`) and as torch does everywhere else: the same parameters,
state dict and results to rounding. `trainer.narrow_convs` turns a model's eligible layers into them for a run
(`use_narrow_convs`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def narrow_eligible(conv: nn.Module) -> bool:
    """Whether `conv` is a plain `nn.Conv2d` or `nn.ConvTranspose2d` (not a subclass, not parametrized) whose shape
    the one-channel path computes exactly (`_narrow_shape`)."""
    return type(conv) in NARROW and _narrow_shape(conv)


def _narrow_shape(conv: nn.Conv2d | nn.ConvTranspose2d) -> bool:
    """One output channel, a kernel larger than 1 x 1, no dilation, one group, zero padding given as numbers; a
    convolution also needs stride 1 and padding of at most k - 1."""
    padding = conv.padding
    if isinstance(padding, str) or conv.out_channels != 1 or max(conv.kernel_size) == 1:
        return False
    if conv.dilation != (1, 1) or conv.groups != 1 or conv.padding_mode != "zeros":
        return False
    if isinstance(conv, nn.ConvTranspose2d):
        return True
    return conv.stride == (1, 1) and all(0 <= p <= k - 1 for p, k in zip(padding, conv.kernel_size))


def _taps(x: Tensor, weight: Tensor) -> Tensor:
    """The 1 x 1 convolution of x (N, C, H, W) with weight (T, C) to T tap maps, flattened to (N, T, H * W)."""
    n, c, h, w = x.shape
    weight = weight.reshape(-1, c, 1, 1)
    if x.is_contiguous(memory_format=torch.channels_last):
        weight = weight.contiguous(memory_format=torch.channels_last)
    return F.conv2d(x, weight).reshape(n, -1, h * w)


def _plus_bias(out: Tensor, bias: Tensor | None) -> Tensor:
    """out (N, C_out, H, W) plus the per-channel bias, in out's dtype (bf16 under autocast)."""
    return out if bias is None else out + bias.to(out.dtype).view(1, -1, 1, 1)


def tap_sum_conv2d(x: Tensor, weight: Tensor, bias: Tensor | None, padding: tuple[int, int]) -> Tensor:
    """`F.conv2d(x, weight, bias, padding=padding)` (stride 1) as a 1 x 1 convolution to the k*k taps of each output
    channel, summed at their offsets by `F.fold`: the same FLOPs, differentiable twice."""
    _, _, h, w = x.shape
    out_channels, c, kh, kw = weight.shape
    # fold adds tap (i, j) of block (y, x) at (y - pad + i, x - pad + j): the flipped kernel with padding k - 1 - p
    # puts each product where the convolution sums it
    taps = _taps(x, weight.flip(2, 3).permute(0, 2, 3, 1).reshape(out_channels * kh * kw, c))
    size = (h + 2 * padding[0] - kh + 1, w + 2 * padding[1] - kw + 1)
    out = F.fold(taps, size, (kh, kw), padding=(kh - 1 - padding[0], kw - 1 - padding[1]))
    return _plus_bias(out, bias)


def tap_sum_conv_transpose2d(
    x: Tensor, weight: Tensor, bias: Tensor | None, stride: tuple[int, int], padding: tuple[int, int],
    output_padding: tuple[int, int],
) -> Tensor:
    """`F.conv_transpose2d(x, weight, bias, stride, padding, output_padding)` as a 1 x 1 convolution to the k*k taps
    of each output channel and `F.fold`, which is a transposed convolution's col2im: the same FLOPs."""
    _, _, h, w = x.shape
    c, out_channels, kh, kw = weight.shape
    taps = _taps(x, weight.permute(1, 2, 3, 0).reshape(out_channels * kh * kw, c))
    size = tuple((n - 1) * s - 2 * p + k + o for n, s, p, k, o in zip((h, w), stride, padding, (kh, kw),
                                                                        output_padding))
    return _plus_bias(F.fold(taps, size, (kh, kw), padding=padding, stride=stride), bias)


class NarrowConv2d(nn.Conv2d):
    """`nn.Conv2d` computed by `tap_sum_conv2d` on CPU batches when its shape allows; as torch does otherwise."""

    def forward(self, x: Tensor) -> Tensor:
        if x.device.type != "cpu" or x.dim() != 4 or not _narrow_shape(self):
            return super().forward(x)
        return tap_sum_conv2d(x, self.weight, self.bias, self.padding)


class NarrowConvTranspose2d(nn.ConvTranspose2d):
    """`nn.ConvTranspose2d` computed by `tap_sum_conv_transpose2d` on CPU batches when its shape allows and no
    `output_size` is asked for; as torch does otherwise."""

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        if x.device.type != "cpu" or x.dim() != 4 or output_size is not None or not _narrow_shape(self):
            return super().forward(x, output_size)
        return tap_sum_conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, self.output_padding)


NARROW = {nn.Conv2d: NarrowConv2d, nn.ConvTranspose2d: NarrowConvTranspose2d}


def use_narrow_convs(model: nn.Module) -> list[str]:
    """Turn every eligible layer of `model` into its narrow class in place (the class only: parameters, hooks and
    state dict stay); the names of the layers turned."""
    turned = []
    for name, module in model.named_modules():
        if narrow_eligible(module):
            module.__class__ = NARROW[type(module)]
            turned.append(name)
    return turned
