"""`vq`: the quantizer of van den Oord et al. (2017), trained by gradients.

Each latent vector z is replaced by its nearest code e. The decoder's gradient is copied straight through to z
(quantized = z + sg(e - z)); the codebook learns from |sg(z) - e|^2 and the encoder is kept near its codes by the
commitment loss beta * |z - sg(e)|^2 (both averaged over elements).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gentool.api import QuantizerOutput
from gentool_vqvae import codes
from gentool_vqvae.config import VQConfig


class VectorQuantizer(nn.Module):
    """Nearest-code quantizer of (N, D, H, W) latents with a learned (K, D) codebook."""

    def __init__(self, config: VQConfig, dim: int) -> None:
        super().__init__()
        self.config = config
        self.codebook_size = config.codebook_size
        self.codebook = nn.Parameter(torch.empty(config.codebook_size, dim).uniform_(-1.0, 1.0) / config.codebook_size)

    def forward(self, z: Tensor) -> QuantizerOutput:
        rows = codes.to_rows(z.float())
        indices = codes.nearest(rows.detach(), self.codebook.detach())
        chosen = self.codebook[indices]
        codebook_loss = (rows.detach() - chosen).square().mean()
        commitment = (rows - chosen.detach()).square().mean()
        quantized = rows + (chosen - rows).detach()
        return QuantizerOutput(
            quantized=codes.to_grid(quantized, z.shape).to(z.dtype),
            indices=indices.view(z.shape[0], z.shape[2], z.shape[3]),
            loss=codebook_loss + self.config.beta * commitment,
            metrics=codes.usage(indices, self.codebook_size),
        )

    def lookup(self, indices: Tensor) -> Tensor:
        """Codes (N, H, W) -> latents (N, D, H, W)."""
        return self.codebook[indices].permute(0, 3, 1, 2).contiguous()
