"""The deconvolutional (DCGAN-style) generator: a latent code, optionally with a class embedding, to an image."""

from __future__ import annotations

import torch
from torch import nn

from gentool.api import doubling_steps, embed_labels


class Generator(nn.Module):
    """`forward(z (N, D), labels (N,) | None) -> images (N, C, H, W)` in [0, 1].

    Linear -> (width * 2^(k-1), H/2^k, W/2^k), then k transposed convolutions (stride 2, BatchNorm, ReLU) that
    halve the channels as they double the size, then a 3x3 convolution to C channels and a sigmoid.
    """

    def __init__(
        self, shape: tuple[int, ...], latent_dim: int, width: int, num_classes: int = 0, label_dim: int = 0
    ) -> None:
        super().__init__()
        channels, height, wide = shape
        ups = doubling_steps(height, wide, "The cnn generator")
        self.seed_shape = (width * 2 ** (ups - 1), height // 2**ups, wide // 2**ups)
        self.embed = nn.Embedding(num_classes, label_dim) if num_classes else None
        seed_size = self.seed_shape[0] * self.seed_shape[1] * self.seed_shape[2]
        self.project = nn.Sequential(
            nn.Linear(latent_dim + (label_dim if num_classes else 0), seed_size, bias=False),
            nn.BatchNorm1d(seed_size),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        c = self.seed_shape[0]
        for _ in range(ups):
            layers += [
                nn.ConvTranspose2d(c, max(c // 2, width), 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(max(c // 2, width)),
                nn.ReLU(inplace=True),
            ]
            c = max(c // 2, width)
        layers += [nn.Conv2d(c, channels, 3, padding=1), nn.Sigmoid()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if self.embed is not None:
            if labels is None:
                raise ValueError("this generator is class-conditional: pass labels")
            z = torch.cat([z, embed_labels(self.embed, labels)], dim=1)
        seed = self.project(z).view(len(z), *self.seed_shape)
        return self.body(seed)
