"""The style-based generator: a mapping network z (+ class) -> w, and a skip-output synthesis network w -> image.

Resolutions are 4 * 2^level for level 0..levels-1. The synthesis network starts from a learned 4x4 constant; each
level has two modulated 3x3 convolutions (one at level 0) and a toRGB layer whose output is added to the
upsampled image of the coarser levels (StyleGAN2's "skip" generator). One w per layer ("ws", StyleGAN2's
num_ws = 2 * levels): conv layers first, then the last toRGB's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gentool_stylegan.layers import EqualLinear, ModulatedConv, upsample


def normalize_2nd_moment(x: Tensor, eps: float = 1e-8) -> Tensor:
    """x / rms(x) over the feature dimension (StyleGAN's pixel norm of z)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class MappingNetwork(nn.Module):
    """`forward(z (N, z_dim), labels (N,) | None) -> w (N, w_dim)`: `depth` equalized-lr linear layers with lrelu
    and a 0.01 learning-rate multiplier; a class embedding (normalized like z) is concatenated to z when
    `num_classes > 0`. During training it tracks `w_avg` (per class when conditional), the centre truncation
    pulls towards."""

    def __init__(self, z_dim: int, w_dim: int, depth: int, num_classes: int = 0, *, lr_multiplier: float = 0.01,
                 w_avg_beta: float = 0.995) -> None:
        super().__init__()
        self.z_dim, self.w_dim, self.num_classes, self.w_avg_beta = z_dim, w_dim, num_classes, w_avg_beta
        self.embed = EqualLinear(num_classes, w_dim) if num_classes else None
        sizes = [z_dim + (w_dim if num_classes else 0)] + [w_dim] * depth
        self.layers = nn.Sequential(*[
            EqualLinear(sizes[i], sizes[i + 1], lr_multiplier=lr_multiplier, activate=True) for i in range(depth)
        ])
        self.register_buffer("w_avg", torch.zeros(max(num_classes, 1), w_dim))

    def forward(self, z: Tensor, labels: Tensor | None = None, *, track: bool = False) -> Tensor:
        x = normalize_2nd_moment(z)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this mapping network is class-conditional: pass labels")
            x = torch.cat([x, normalize_2nd_moment(self.embed(F.one_hot(labels, self.num_classes).to(x.dtype)))], 1)
        w = self.layers(x)
        if track:
            self._track(w.detach().float(), labels)
        return w

    @torch.no_grad()
    def _track(self, w: Tensor, labels: Tensor | None) -> None:
        if self.embed is None:
            self.w_avg.lerp_(w.mean(dim=0, keepdim=True), 1.0 - self.w_avg_beta)
            return
        sums = torch.zeros_like(self.w_avg).index_add_(0, labels, w)
        counts = torch.bincount(labels, minlength=self.num_classes).to(w.dtype)[:, None]
        present = counts > 0
        target = torch.where(present, sums / counts.clamp(min=1), self.w_avg)
        self.w_avg.lerp_(target, 1.0 - self.w_avg_beta)

    def center(self, labels: Tensor | None, n: int) -> Tensor:
        """The tracked mean w for each of n samples (N, w_dim)."""
        if self.embed is None:
            return self.w_avg.expand(n, -1)
        return self.w_avg[labels]


def channels_at(level: int, base: int, cap: int) -> int:
    """Feature maps at resolution 4 * 2^level: base / resolution, at most `cap` (StyleGAN2's channel_base rule)."""
    return max(1, min(cap, base // (4 * 2**level)))


class Synthesis(nn.Module):
    """`forward(ws (N, num_ws, w_dim), level, alpha) -> images (N, C, R, R)` in about [-1, 1], R = 4 * 2^level.

    `level` below the last stops early (progressive growing); `alpha` in [0, 1] fades in that level's toRGB
    output over the upsampled coarser image. `output="tanh"` bounds the sum of the toRGB outputs (the fade acts
    before it); "linear" (StyleGAN2's) leaves it as is. `noise` is a list of one tensor per 3x3 layer, or None for fresh
    N(0, 1) noise.
    """

    def __init__(self, levels: int, channels: int, w_dim: int, channel_base: int, channel_max: int,
                 output: str = "linear") -> None:
        super().__init__()
        self.levels, self.output = levels, output
        c0 = channels_at(0, channel_base, channel_max)
        self.const = nn.Parameter(torch.randn(c0, 4, 4))
        self.convs = nn.ModuleList()
        self.torgb = nn.ModuleList()
        for level in range(levels):
            c_in, c_out = channels_at(max(0, level - 1), channel_base, channel_max), channels_at(level, channel_base, channel_max)
            if level == 0:
                self.convs.append(nn.ModuleList([ModulatedConv(c0, c0, w_dim)]))
            else:
                self.convs.append(nn.ModuleList([ModulatedConv(c_in, c_out, w_dim, up=True), ModulatedConv(c_out, c_out, w_dim)]))
            self.torgb.append(ModulatedConv(c_out, channels, w_dim, kernel=1, demodulate=False, noise=False, activate=False))
        self.num_ws = 2 * levels

    def noise_shapes(self, level: int | None = None) -> list[tuple[int, int]]:
        """(H, W) of every 3x3 layer's noise up to `level`."""
        level = self.levels - 1 if level is None else level
        return [(4 * 2**lv, 4 * 2**lv) for lv in range(level + 1) for _ in self.convs[lv]]

    def forward(self, ws: Tensor, level: int | None = None, alpha: float = 1.0, noise: list[Tensor] | None = None) -> Tensor:
        level = self.levels - 1 if level is None else level
        x = self.const.unsqueeze(0).expand(len(ws), -1, -1, -1).to(ws.dtype)
        img = None
        w_index, noise_index = 0, 0
        for lv in range(level + 1):
            for conv in self.convs[lv]:
                x = conv(x, ws[:, w_index], None if noise is None else noise[noise_index])
                w_index, noise_index = w_index + 1, noise_index + 1
            # every toRGB reads the w of the next layer (StyleGAN2); the last one has a w of its own
            rgb = self.torgb[lv](x, ws[:, w_index])
            img = rgb if img is None else upsample(img) + (alpha * rgb if lv == level else rgb)
        return torch.tanh(img) if self.output == "tanh" else img


class Generator(nn.Module):
    """`forward(z, labels, ...) -> images`: mapping, broadcast of w to every layer, optional style mixing and
    truncation, then synthesis."""

    def __init__(self, *, z_dim: int, w_dim: int, mapping_layers: int, num_classes: int, channels: int, levels: int,
                 channel_base: int, channel_max: int, output: str = "linear") -> None:
        super().__init__()
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers, num_classes)
        self.synthesis = Synthesis(levels, channels, w_dim, channel_base, channel_max, output)
        self.z_dim, self.num_ws = z_dim, self.synthesis.num_ws

    def styles(self, z: Tensor, labels: Tensor | None = None, *, psi: float = 1.0, cutoff: int | None = None,
               track: bool = False) -> Tensor:
        """ws (N, num_ws, w_dim): one w for every layer; layers below `cutoff` (all when None) moved towards the
        tracked mean, w_avg + psi * (w - w_avg) (psi = 1: unchanged, psi = 0: the mean style)."""
        w = self.mapping(z, labels, track=track)
        ws = w.unsqueeze(1).repeat(1, self.num_ws, 1)
        if psi != 1.0:
            center = self.mapping.center(labels, len(z)).unsqueeze(1).to(ws.dtype)
            stop = self.num_ws if cutoff is None else min(cutoff, self.num_ws)
            ws[:, :stop] = center + psi * (ws[:, :stop] - center)
        return ws

    def mix(self, ws: Tensor, z2: Tensor, labels: Tensor | None, probability: float) -> Tensor:
        """Style mixing regularisation: with `probability`, the layers from a random crossover on take the styles
        of a second latent (per batch, as in StyleGAN2)."""
        if probability <= 0 or torch.rand(()) >= probability:
            return ws
        crossover = int(torch.randint(1, self.num_ws, ()))
        ws = ws.clone()
        ws[:, crossover:] = self.styles(z2, labels)[:, crossover:]
        return ws

    def forward(self, z: Tensor, labels: Tensor | None = None, *, level: int | None = None, alpha: float = 1.0,
                psi: float = 1.0, cutoff: int | None = None) -> Tensor:
        return self.synthesis(self.styles(z, labels, psi=psi, cutoff=cutoff), level, alpha)
