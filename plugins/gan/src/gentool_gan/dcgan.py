"""DCGAN's networks (Radford et al. 2016), sized from the image shape: strided (transposed) convolutions, no pooling.

Both work in the critic's pixel range [-1, 1]: the generator ends in tanh, and the model maps to [0, 1] at its
public boundary.
"""

from __future__ import annotations

import torch
from torch import nn

from gentool.api import dcgan_init, doubling_steps, spectral_norm_if, strided_features


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
        k = doubling_steps(height, wide, "The gan model")
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
        dcgan_init(self)

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
        k = doubling_steps(height, wide, "The gan model")
        norm = spectral_norm_if(spectral_norm)
        self.features, c_last = strided_features(channels, width, k, norm, batch_norm)
        self.head = norm(nn.Linear(c_last * (height // 2**k) * (wide // 2**k), 1))
        dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)).squeeze(1)
