"""The U-Net both models share: f(x_t, t, label) -> a tensor shaped like x_t (a velocity, a noise or a v).

Ho et al. (2020) / Dhariwal & Nichol (2021) in small: a sinusoidal embedding of t (plus a learned class embedding,
with one extra "no label" row for classifier-free guidance) feeds every residual block as a per-channel scale and
shift after its group norm; `blocks` residual blocks per resolution, a stride-2 convolution between resolutions,
self-attention at the lowest one, and the mirror image upwards with skip connections (nearest-neighbour upsampling
straight into the next residual block: a convolution after it at the full resolution would cost about a sixth of
the network's operations at the default widths). Images whose sides are not a
multiple of 2**(levels - 1) are zero-padded on the way in and cropped on the way out.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def timestep_embedding(t: Tensor, dim: int, scale: float = 1000.0, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal features (N, dim) of times t (N,) in [0, 1] (scaled by `scale`, as for integer DDPM steps)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = (t.float() * scale)[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    return F.pad(emb, (0, dim % 2))


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with 8 channels per group at most 32 groups (4 groups below 32 channels)."""
    groups = min(32, max(1, channels // 8)) if channels % 8 == 0 else 1
    return nn.GroupNorm(groups, channels)


def zero(module: nn.Module) -> nn.Module:
    """The module with its parameters zeroed (residual branches then start as the identity)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """GN-SiLU-conv, scale/shift by the embedding, GN-SiLU-dropout-conv (zero-initialised), plus a skip."""

    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float) -> None:
        super().__init__()
        self.norm1, self.conv1 = group_norm(cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, 2 * cout)
        self.norm2, self.drop = group_norm(cout), nn.Dropout(dropout)
        self.conv2 = zero(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.drop(F.silu(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    """Multi-head self-attention over the pixels of a feature map, residual, output projection zero-initialised."""

    def __init__(self, channels: int, heads: int) -> None:
        super().__init__()
        if channels % heads:
            heads = 1
        self.heads = heads
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = zero(nn.Conv2d(channels, channels, 1))

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, self.heads, c // self.heads, h * w).transpose(-1, -2).unbind(1)
        y = F.scaled_dot_product_attention(q, k, v)  # (n, heads, hw, c/heads)
        return x + self.out(y.transpose(-1, -2).reshape(n, c, h, w))


class UNet(nn.Module):
    """f(x, t, labels): x (N, C, H, W), t (N,) in [0, 1], labels (N,) int64 in [0, classes] where `classes` itself
    means "no label", or class weights (N, classes + 1) mixing the label embeddings (only when num_classes > 0).
    Returns (N, C, H, W) in float32."""

    def __init__(
        self, channels: int, widths: tuple[int, ...], blocks: int = 1, *, attention: bool = True, heads: int = 4,
        dropout: float = 0.0, num_classes: int = 0,
    ) -> None:
        super().__init__()
        self.levels, self.num_classes = len(widths), num_classes
        emb_dim = 4 * widths[0]
        self.time = nn.Sequential(nn.Linear(widths[0], emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label = nn.Embedding(num_classes + 1, emb_dim) if num_classes else None
        self.stem = nn.Conv2d(channels, widths[0], 3, padding=1)
        self.down = nn.ModuleList()
        skips, ch = [widths[0]], widths[0]
        for level, width in enumerate(widths):
            for _ in range(blocks):
                self.down.append(ResBlock(ch, width, emb_dim, dropout))
                ch = width
                skips.append(ch)
            if level < len(widths) - 1:
                self.down.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
                skips.append(ch)
        self.mid = nn.ModuleList([ResBlock(ch, ch, emb_dim, dropout), ResBlock(ch, ch, emb_dim, dropout)])
        self.attn = Attention(ch, heads) if attention else nn.Identity()
        self.up = nn.ModuleList()
        for level, width in reversed(list(enumerate(widths))):
            for _ in range(blocks + 1):
                self.up.append(ResBlock(ch + skips.pop(), width, emb_dim, dropout))
                ch = width
            if level > 0:
                self.up.append(nn.Upsample(scale_factor=2, mode="nearest"))  # the next block's convolutions follow
        self.head = nn.Sequential(group_norm(ch), nn.SiLU(), zero(nn.Conv2d(ch, channels, 3, padding=1)))

    def embed(self, t: Tensor, labels: Tensor | None) -> Tensor:
        emb = self.time(timestep_embedding(t, self.stem.out_channels))
        if self.label is not None:
            if labels is None:
                labels = torch.full((len(t),), self.num_classes, dtype=torch.long, device=t.device)
            emb = emb + (labels.to(self.label.weight.dtype) @ self.label.weight if labels.is_floating_point() else self.label(labels))
        return F.silu(emb)

    def forward(self, x: Tensor, t: Tensor, labels: Tensor | None = None) -> Tensor:
        height, width = x.shape[-2:]
        multiple = 2 ** (self.levels - 1)
        pad_h, pad_w = (-height) % multiple, (-width) % multiple
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        emb = self.embed(t.expand(len(x)) if t.dim() == 1 and len(t) == 1 else t, labels)
        h = self.stem(x)
        hs = [h]
        for layer in self.down:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        h = self.mid[0](h, emb)
        h = self.mid[1](self.attn(h), emb)
        for layer in self.up:
            h = layer(torch.cat([h, hs.pop()], dim=1), emb) if isinstance(layer, ResBlock) else layer(h)
        return self.head(h)[..., :height, :width].float()
