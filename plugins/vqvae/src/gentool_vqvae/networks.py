"""Encoder and decoder of the VQ-VAE: stride-2 convs down to a grid of about 8x8, residual blocks, 1x1 to codes."""

from __future__ import annotations

from torch import Tensor, nn

from gentool.api import GentoolError


def halvings(height: int, width: int) -> int:
    """How many stride-2 stages take (H, W) to at most 8 on the longer side: 28 -> 7x7 and 32 -> 8x8 in 2."""
    count, h, w = 0, height, width
    while max(h, w) > 8 and h % 2 == 0 and w % 2 == 0:
        h, w, count = h // 2, w // 2, count + 1
    if count == 0 and max(h, w) > 8:
        raise GentoolError(f"The vqvae cannot size itself for {height}x{width} images: use even heights and widths.")
    return count


class ResBlock(nn.Module):
    """x + conv1x1(relu(conv3x3(relu(x)))), as in the VQ-VAE paper."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(), nn.Conv2d(channels, channels, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class Encoder(nn.Module):
    """(N, C, H, W) in [0, 1] -> latents (N, code_dim, H / 2^s, W / 2^s)."""

    def __init__(self, channels: int, steps: int, width: int, code_dim: int, res_blocks: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        current = channels
        for i in range(steps):
            out = width if i == steps - 1 else max(width // 2, 1)
            layers += [nn.Conv2d(current, out, 4, stride=2, padding=1), nn.ReLU()]
            current = out
        layers.append(nn.Conv2d(current, width, 3, padding=1))
        layers += [ResBlock(width) for _ in range(res_blocks)]
        layers += [nn.ReLU(), nn.Conv2d(width, code_dim, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x * 2 - 1)


class Decoder(nn.Module):
    """Latents (N, code_dim, h, w) -> pixel logits (N, C, h * 2^s, w * 2^s)."""

    def __init__(self, channels: int, steps: int, width: int, code_dim: int, res_blocks: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(code_dim, width, 3, padding=1)]
        layers += [ResBlock(width) for _ in range(res_blocks)]
        layers.append(nn.ReLU())
        current = width
        for i in range(steps):
            last = i == steps - 1
            out = channels if last else max(width // 2, 1)
            layers.append(nn.ConvTranspose2d(current, out, 4, stride=2, padding=1))
            if not last:
                layers.append(nn.ReLU())
            current = out
        if steps == 0:
            layers.append(nn.Conv2d(current, channels, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, latents: Tensor) -> Tensor:
        return self.net(latents)
