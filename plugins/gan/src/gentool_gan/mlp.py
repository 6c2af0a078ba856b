"""The MLP generator and discriminator used on 2-D point sets (the mode-collapse experiments of Metz et al. 2017)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from gentool.api import spectral_norm_if


def _mlp(sizes: list[int], activation: Callable[[], nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class PointGenerator(nn.Module):
    """`forward(z (N, latent_dim)) -> points (N, dim)`: three hidden ReLU layers of `width` units."""

    def __init__(self, dim: int, latent_dim: int, width: int) -> None:
        super().__init__()
        self.net = _mlp([latent_dim, width, width, width, dim], nn.ReLU)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class PointDiscriminator(nn.Module):
    """`forward(x (N, dim)) -> logits (N,)`: three hidden LeakyReLU(0.2) layers of `width` units."""

    def __init__(self, dim: int, width: int, spectral_norm: bool = False) -> None:
        super().__init__()
        self.net = _mlp([dim, width, width, width, 1], lambda: nn.LeakyReLU(0.2))
        norm = spectral_norm_if(spectral_norm)
        for i, layer in enumerate(self.net):
            if isinstance(layer, nn.Linear):
                self.net[i] = norm(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)
