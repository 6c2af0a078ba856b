"""A convolution to one output channel (a grey image's last layer) computed the way the CPU runs fast.

oneDNN, torch's CPU convolution library, runs a k x k convolution to a single output channel at a small fraction of
its speed on wider ones (about 12 GFLOP/s against 150 - 210 for the layers beside it in a DCGAN generator on two
cores). The same arithmetic as a 1 x 1 convolution to the kernel's k*k taps followed by their shifted sum
(`F.fold`, col2im) takes half the time forward and backward (docs/benchmarks.md#one-channel-convolutions).
`NarrowConv2d` is an `nn.Conv2d` that does that where it applies (on the CPU, stride 1, no dilation or groups, zero
padding up to k - 1) and is `nn.Conv2d` everywhere else: same parameters, state dict and results to rounding.
`trainer.narrow_convs` turns a model's eligible `nn.Conv2d` layers into it for a run (`use_narrow_convs`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def narrow_eligible(conv: nn.Module) -> bool:
    """Whether `conv` is a plain `nn.Conv2d` the one-channel path computes exactly (`_narrow_shape`)."""
    return type(conv) is nn.Conv2d and _narrow_shape(conv)


def _narrow_shape(conv: nn.Conv2d) -> bool:
    """One output channel, a kernel larger than 1 x 1, stride 1, no dilation, one group, zero padding of at most
    k - 1 given as numbers."""
    kernel, padding = conv.kernel_size, conv.padding
    return (
        conv.out_channels == 1 and max(kernel) > 1 and conv.stride == (1, 1) and conv.dilation == (1, 1)
        and conv.groups == 1 and conv.padding_mode == "zeros" and not isinstance(padding, str)
        and all(0 <= p <= k - 1 for p, k in zip(padding, kernel))
    )


def tap_sum_conv2d(x: Tensor, weight: Tensor, bias: Tensor | None, padding: tuple[int, int]) -> Tensor:
    """`F.conv2d(x, weight, bias, padding=padding)` (stride 1) as a 1 x 1 convolution to the k*k taps of each output
    channel, summed at their offsets by `F.fold`; the same FLOPs, differentiable twice."""
    n, c, h, w = x.shape
    out_channels, _, kh, kw = weight.shape
    # fold adds tap (i, j) of block (y, x) at (y - pad + i, x - pad + j); flipping the kernel and padding k - 1 - p
    # puts x's tap (i, j) product where the convolution sums it
    taps_weight = weight.flip(2, 3).permute(0, 2, 3, 1).reshape(out_channels * kh * kw, c, 1, 1)
    taps = F.conv2d(x, taps_weight.to(memory_format=torch.channels_last)
                    if x.is_contiguous(memory_format=torch.channels_last) else taps_weight)
    size = (h + 2 * padding[0] - kh + 1, w + 2 * padding[1] - kw + 1)
    out = F.fold(taps.reshape(n, out_channels * kh * kw, h * w), size, (kh, kw),
                 padding=(kh - 1 - padding[0], kw - 1 - padding[1]))
    return out if bias is None else out + bias.to(out.dtype).view(1, -1, 1, 1)


class NarrowConv2d(nn.Conv2d):
    """`nn.Conv2d` that computes itself with `tap_sum_conv2d` on CPU batches when its shape allows
    (`narrow_eligible`); the usual convolution otherwise (other devices, unbatched input)."""

    def forward(self, x: Tensor) -> Tensor:
        if x.device.type != "cpu" or x.dim() != 4 or not _narrow_shape(self):
            return super().forward(x)
        return tap_sum_conv2d(x, self.weight, self.bias, self.padding)


def use_narrow_convs(model: nn.Module) -> list[str]:
    """Turn every eligible `nn.Conv2d` of `model` into a NarrowConv2d in place (its class only: the parameters,
    hooks and state dict stay); the names of those turned."""
    turned = []
    for name, module in model.named_modules():
        if narrow_eligible(module):
            module.__class__ = NarrowConv2d
            turned.append(name)
    return turned
