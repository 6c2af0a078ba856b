"""`fsq`: finite scalar quantization (Mentzer et al. 2023), an implicit codebook with nothing to learn or collapse.

Each of d = len(levels) channels is bounded to (-L/2, L/2) by a shifted tanh, rounded to one of its L integer levels
with a straight-through gradient, and scaled to [-1, 1]. The code index is the mixed-radix number of the per-channel
digits, so codebook_size = prod(levels). Latents with D != d channels pass through learned linear maps D -> d -> D.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gentool.api import QuantizerOutput
from gentool_vqvae import codes
from gentool_vqvae.config import FSQConfig


class FiniteScalarQuantizer(nn.Module):
    """Quantizes (N, D, H, W) latents to the grid prod(levels); no auxiliary loss."""

    def __init__(self, config: FSQConfig, dim: int) -> None:
        super().__init__()
        self.config = config
        levels = torch.tensor(config.levels, dtype=torch.int64)
        self.codebook_size = math.prod(config.levels)
        basis = torch.cumprod(torch.cat([torch.ones(1, dtype=torch.int64), levels[:-1]]), dim=0)
        self.register_buffer("levels", levels, persistent=False)
        self.register_buffer("basis", basis, persistent=False)
        d = len(config.levels)
        self.project_in: nn.Module = nn.Linear(dim, d) if dim != d else nn.Identity()
        self.project_out: nn.Module = nn.Linear(d, dim) if dim != d else nn.Identity()

    @property
    def half_width(self) -> Tensor:
        """L // 2 per channel: rounded values run from -L//2 to L - 1 - L//2."""
        return (self.levels // 2).float()

    def bound(self, h: Tensor) -> Tensor:
        """tanh squashed into (-L/2, L/2), shifted by 1/2 for even L so that rounding gives exactly L values."""
        levels = self.levels.float()
        half = (levels - 1) * (1 + 1e-3) / 2
        offset = torch.where(self.levels % 2 == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half)
        return torch.tanh(h + shift) * half - offset

    def quantize(self, h: Tensor) -> Tensor:
        """Round each channel to its nearest level (straight-through gradient), scaled to [-1, 1]."""
        bounded = self.bound(h)
        rounded = bounded + (bounded.round() - bounded).detach()
        return rounded / self.half_width

    def codes_to_indices(self, q: Tensor) -> Tensor:
        """Scaled codes (M, d) -> indices (M,): sum_i digit_i * prod(levels[:i])."""
        digits = (q * self.half_width + self.half_width).round().long()
        return (digits * self.basis).sum(dim=-1)

    def indices_to_codes(self, indices: Tensor) -> Tensor:
        """Indices (M,) -> scaled codes (M, d)."""
        digits = (indices.unsqueeze(-1) // self.basis) % self.levels
        return (digits.float() - self.half_width) / self.half_width

    def forward(self, z: Tensor) -> QuantizerOutput:
        rows = codes.to_rows(z.float())
        q = self.quantize(self.project_in(rows))
        indices = self.codes_to_indices(q.detach())
        return QuantizerOutput(
            quantized=codes.to_grid(self.project_out(q), z.shape).to(z.dtype),
            indices=indices.view(z.shape[0], z.shape[2], z.shape[3]),
            loss=rows.new_zeros(()),
            metrics=codes.usage(indices, self.codebook_size),
        )

    def lookup(self, indices: Tensor) -> Tensor:
        """Codes (N, H, W) -> latents (N, D, H, W)."""
        n, h, w = indices.shape
        rows = self.project_out(self.indices_to_codes(indices.reshape(-1)))
        return codes.to_grid(rows, (n, rows.shape[1], h, w))
