"""DCGAN's networks (Radford et al. 2016), sized from the image shape: strided (transposed) convolutions, no pooling.

Both work in the critic's pixel range [-1, 1]: the generator ends in tanh, and the model maps to [0, 1] at its
public boundary.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as with_spectral_norm

from gentool.errors import GentoolError


def resolutions(height: int, width: int) -> int:
    """How many 2x steps link a 3..7 pixel seed to (height, width), e.g. 28 -> 2 (7 px), 32 -> 3 (4 px), 64 -> 4."""
    for steps in range(1, 8):
        h, w = height / 2**steps, width / 2**steps
        if h.is_integer() and w.is_integer() and min(h, w) >= 3 and max(h, w) <= 7:
            return steps
    raise GentoolError(
        f"DCGAN cannot be sized for {height}x{width} images: height and width must be a 3..7 pixel seed doubled "
        "one or more times (e.g. 28, 32, 48, 64, 128)."
    )


def init_weights(module: nn.Module) -> None:
    """DCGAN's initialisation: convolution and linear weights ~ N(0, 0.02), BatchNorm gains ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class Generator(nn.Module):
    """`forward(z (N, latent_dim)) -> images (N, C, H, W)` in [-1, 1].

    Linear -> (width * 2^(k-1), H/2^k, W/2^k) seed, BatchNorm, ReLU; then k transposed convolutions (4x4, stride 2),
    each with BatchNorm and ReLU, that double the size and halve the channels down to `width`; a 3x3 convolution
    at full size gives C channels and tanh (on digits this last refining layer raised the share of the rarest
    class and lowered FID markedly).
    """

    def __init__(self, shape: tuple[int, ...], latent_dim: int, width: int) -> None:
        super().__init__()
        channels, height, wide = shape
        k = resolutions(height, wide)
        self.seed_shape = (width * 2 ** (k - 1), height // 2**k, wide // 2**k)
        seed_size = self.seed_shape[0] * self.seed_shape[1] * self.seed_shape[2]
        self.project = nn.Sequential(nn.Linear(latent_dim, seed_size, bias=False), nn.BatchNorm1d(seed_size), nn.ReLU())
        layers: list[nn.Module] = []
        c = self.seed_shape[0]
        for _ in range(k - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ConvTranspose2d(c, c, 4, 2, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
        layers += [nn.Conv2d(c, channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        init_weights(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(self.project(z).view(len(z), *self.seed_shape))


class Discriminator(nn.Module):
    """`forward(x (N, C, H, W) in [-1, 1]) -> logits (N,)`.

    k strided 4x4 convolutions (width, 2 width, ... channels) each followed by LeakyReLU(0.2), then a linear layer
    on the flattened seed-sized map. `batch_norm` adds BatchNorm after every convolution but the first (DCGAN's D);
    `spectral_norm` wraps every layer in spectral normalisation.
    """

    def __init__(self, shape: tuple[int, ...], width: int, spectral_norm: bool = False, batch_norm: bool = False) -> None:
        super().__init__()
        channels, height, wide = shape
        k = resolutions(height, wide)
        norm = with_spectral_norm if spectral_norm else (lambda layer: layer)
        layers: list[nn.Module] = []
        c_in, c_out = channels, width
        for i in range(k):
            layers.append(norm(nn.Conv2d(c_in, c_out, 4, 2, 1)))
            if batch_norm and i > 0:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2))
            c_in, c_out = c_out, c_out * 2
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = norm(nn.Linear(c_in * (height // 2**k) * (wide // 2**k), 1))
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)
