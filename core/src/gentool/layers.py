"""Generic building blocks that several model plugins share: DCGAN-style sizing, initialisation, spectral norm."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

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
