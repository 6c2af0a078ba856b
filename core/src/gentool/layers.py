"""Generic building blocks that several model plugins share: DCGAN-style sizing, initialisation, spectral norm,
cheap dropout."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gentool.errors import GentoolError


def doubling_steps(height: int, width: int, model: str = "a DCGAN-style network") -> int:
    """How many 2x upsamplings grow a 3..7 pixel seed to (height, width): 28 -> 2 (7 px), 32 -> 3, 64 -> 4.

    A GentoolError naming `model` and the sizes that work when there is none.
    """
    for steps in range(1, 8):
        h, w = height / 2**steps, width / 2**steps
        if h.is_integer() and w.is_integer() and min(h, w) >= 3 and max(h, w) <= 7:
            return steps
    raise GentoolError(
        f"{model} cannot be sized for {height}x{width} images: height and width must be a 3..7 pixel seed doubled "
        "one or more times (e.g. 28, 32, 48, 64, 128)."
    )


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation (Radford et al. 2016): convolution and linear weights ~ N(0, 0.02), biases 0,
    BatchNorm gains ~ N(1, 0.02) where the norm has an affine part."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def spectral_norm_if(enabled: bool) -> Callable[[nn.Module], nn.Module]:
    """A wrapper that puts spectral normalisation (Miyato et al. 2018) on a layer when `enabled`, else the identity."""
    if not enabled:
        return lambda layer: layer
    return nn.utils.parametrizations.spectral_norm


def strided_features(
    channels: int, width: int, steps: int, norm: Callable[[nn.Module], nn.Module], batch_norm: bool
) -> tuple[nn.Sequential, int]:
    """DCGAN's discriminator trunk: `steps` 4x4 stride-2 convolutions (width, 2 width, ...) with LeakyReLU(0.2),
    BatchNorm after all but the first when `batch_norm`, each conv wrapped by `norm`; then Flatten.
    Returns the trunk and its last channel count."""
    layers: list[nn.Module] = []
    c_in, c_out = channels, width
    for i in range(steps):
        layers.append(norm(nn.Conv2d(c_in, c_out, 4, 2, 1)))
        if batch_norm and i > 0:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.LeakyReLU(0.2))
        c_in, c_out = c_out, c_out * 2
    return nn.Sequential(*layers, nn.Flatten()), c_in


def embed_labels(embedding: nn.Embedding, labels: Tensor) -> Tensor:
    """`embedding(labels)` for int64 labels (N,); for class weights (N, K) the weighted mix of the class embeddings,
    so that a conditional model can be walked from one label to another at fixed noise."""
    if labels.is_floating_point():
        return labels.to(embedding.weight.dtype) @ embedding.weight
    return embedding(labels)


@contextlib.contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """Within the block `module`'s parameters collect no gradients (gradients still flow through it to its input):
    a GAN's generator update through a fixed discriminator."""
    flags = [p.requires_grad for p in module.parameters()]
    module.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(module.parameters(), flags):
            p.requires_grad_(flag)


def eager() -> contextlib.AbstractContextManager[None]:
    """Within the block, modules compiled by `trainer.compile` run eagerly: wrap the forward of a penalty that
    differentiates twice (R1, gradient or path-length penalties), which compiled graphs do not support."""
    return torch.compiler.set_stance("force_eager")


def dropout_rate(p: float) -> float:
    """The rate `dropout` applies for p: p rounded to a multiple of 1/256, at most 255/256."""
    return min(255, round(p * 256)) / 256


def dropout(x: Tensor, p: float, training: bool = True) -> Tensor:
    """Inverted dropout at `dropout_rate(p)`. On the CPU the keep mask is one random byte per element compared with
    256 times that rate, drawn eight to a 64-bit word: about 8x cheaper than torch's per-element Bernoulli draws,
    which took a third of a small transformer's training step on 2 cores. On other devices it is torch's own
    dropout at the same rate."""
    threshold = round(dropout_rate(p) * 256)
    if not training or threshold == 0:
        return x
    if x.device.type != "cpu":
        return F.dropout(x, threshold / 256, True)
    n = x.numel()
    words = torch.empty((n + 7) // 8, dtype=torch.int64).random_(-(2**63), 2**63 - 1)
    keep = words.view(torch.uint8)[:n].view(x.shape) >= threshold
    return x * keep.to(x.dtype).mul_(256 / (256 - threshold))


class Dropout(nn.Module):
    """`dropout` as a module (in training mode only), for use in nn.Sequential."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
