"""Convolutional encoder and decoder sized from the image shape: stride-2 convs down to about 8x8, then dense."""

from __future__ import annotations

from torch import Tensor, nn

from gentool.api import GentoolError


def halvings(height: int, width: int) -> int:
    """How many stride-2 stages take (H, W) down to at most 8 on the longer side: 28 -> 7 and 32 -> 8 in 2."""
    count = 0
    while max(height, width) > 8 and height % 2 == 0 and width % 2 == 0:
        height, width, count = height // 2, width // 2, count + 1
    if count == 0 and max(height, width) > 8:
        raise GentoolError(f"The vae cannot size itself for {height}x{width} images: use even heights and widths.")
    return count


class Encoder(nn.Module):
    """(N, C, H, W) in [0, 1] -> (mean, log-variance) of q(z|x), each (N, latent_dim)."""

    def __init__(self, shape: tuple[int, int, int], latent_dim: int, width: int, hidden: int) -> None:
        super().__init__()
        channels, height, wide = shape
        layers: list[nn.Module] = []
        for i in range(halvings(height, wide)):
            out = width * 2**i
            layers += [nn.Conv2d(channels, out, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels, height, wide = out, height // 2, wide // 2
        self.convs = nn.Sequential(*layers)
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(channels * height * wide, hidden), nn.LeakyReLU(0.2))
        self.head = nn.Linear(hidden, 2 * latent_dim)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        mean, log_var = self.head(self.dense(self.convs(x * 2 - 1))).chunk(2, dim=1)
        return mean, log_var.clamp(-12.0, 8.0)


class Decoder(nn.Module):
    """(N, latent_dim) -> (N, C, H, W) outputs: pixel logits for a Bernoulli likelihood, else pixel means."""

    def __init__(self, shape: tuple[int, int, int], latent_dim: int, width: int, hidden: int) -> None:
        super().__init__()
        channels, height, wide = shape
        steps = halvings(height, wide)
        self.start = (width * 2 ** max(steps - 1, 0), height >> steps, wide >> steps)
        self.dense = nn.Sequential(
            nn.Linear(latent_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, self.start[0] * self.start[1] * self.start[2]),
            nn.ReLU(),
        )
        layers: list[nn.Module] = []
        current = self.start[0]
        for i in reversed(range(steps)):
            out = channels if i == 0 else width * 2 ** (i - 1)
            layers.append(nn.ConvTranspose2d(current, out, 4, stride=2, padding=1))
            if i > 0:
                layers.append(nn.ReLU())
            current = out
        if steps == 0:
            layers.append(nn.Conv2d(current, channels, 3, padding=1))
        self.convs = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.convs(self.dense(z).view(len(z), *self.start))
