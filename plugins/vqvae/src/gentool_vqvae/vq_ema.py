"""`vq-ema`: a nearest-code quantizer whose codebook is a moving average of the vectors assigned to it.

van den Oord et al. (2017, appendix) and Razavi et al. (2019): instead of a codebook loss, each training step
- counts n_k and sums s_k of the vectors assigned to code k (summed over ranks so every rank holds the same codebook);
- keeps N_k <- decay N_k + (1 - decay) n_k and S_k <- decay S_k + (1 - decay) s_k;
- sets e_k = S_k / N'_k with Laplace-smoothed counts N'_k = (N_k + eps) / (sum N + K eps) * sum N.
The first training batch initialises the codebook by k-means; a code whose N_k falls below `dead_threshold` is
restarted at a random encoder output of the current batch. Only the commitment loss beta * |z - sg(e)|^2 remains.
Nothing changes in eval mode.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gentool.api import QuantizerOutput, all_gather_cat, all_reduce_sum
from gentool_vqvae import codes
from gentool_vqvae.config import VQEMAConfig


def kmeans(rows: Tensor, k: int, iters: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(centres (k, D), counts (k,)) after `iters` Lloyd steps from k distinct rows (drawn with replacement if few)."""
    m = rows.shape[0]
    pick = torch.randperm(m, generator=generator)[:k] if m >= k else torch.randint(m, (k,), generator=generator)
    centres = rows[pick.to(rows.device)].clone()
    counts = torch.zeros(k, device=rows.device)
    for step in range(iters + 1):
        assign = codes.nearest(rows, centres)
        counts = torch.bincount(assign, minlength=k).float()
        if step == iters:
            break
        sums = torch.zeros_like(centres).index_add_(0, assign, rows)
        centres = torch.where(counts[:, None] > 0, sums / counts.clamp_min(1)[:, None], centres)
    return centres, counts


class EMAVectorQuantizer(nn.Module):
    """Nearest-code quantizer of (N, D, H, W) latents; the (K, D) codebook and its statistics are buffers."""

    def __init__(self, config: VQEMAConfig, dim: int) -> None:
        super().__init__()
        self.config = config
        self.codebook_size = k = config.codebook_size
        self.register_buffer("codebook", torch.randn(k, dim))
        self.register_buffer("cluster_size", torch.zeros(k))
        self.register_buffer("embed_sum", torch.zeros(k, dim))
        self.register_buffer("initialised", torch.tensor(False))
        self.register_buffer("updates", torch.tensor(0, dtype=torch.int64))  # seeds identical draws on every rank

    def _generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(int(self.updates) * 7919 + 17)

    @torch.no_grad()
    def initialise(self, rows: Tensor) -> None:
        """k-means on the rows of every rank; the counts start the moving averages."""
        rows = all_gather_cat(rows)
        centres, counts = kmeans(rows, self.codebook_size, self.config.kmeans_iters, self._generator())
        self.codebook.copy_(centres)
        self.cluster_size.copy_(counts)
        self.embed_sum.copy_(centres * counts[:, None])
        self.initialised.fill_(True)

    @torch.no_grad()
    def update(self, rows: Tensor, indices: Tensor) -> None:
        """One moving-average step of counts and sums, the smoothed codebook, then dead-code restarts."""
        cfg, k = self.config, self.codebook_size
        counts = all_reduce_sum(torch.bincount(indices, minlength=k).float())
        sums = all_reduce_sum(torch.zeros_like(self.embed_sum).index_add_(0, indices, rows))
        self.cluster_size.mul_(cfg.decay).add_(counts, alpha=1 - cfg.decay)
        self.embed_sum.mul_(cfg.decay).add_(sums, alpha=1 - cfg.decay)
        total = self.cluster_size.sum()
        smoothed = (self.cluster_size + cfg.epsilon) / (total + k * cfg.epsilon) * total
        self.codebook.copy_(self.embed_sum / smoothed[:, None])
        self.updates += 1
        self.restart_dead(rows)

    @torch.no_grad()
    def restart_dead(self, rows: Tensor) -> int:
        """Move codes with cluster_size < dead_threshold onto random rows (of all ranks); returns how many moved."""
        threshold = self.config.dead_threshold
        dead = (self.cluster_size < threshold).nonzero().flatten()
        if threshold <= 0 or len(dead) == 0:
            return 0
        candidates = all_gather_cat(rows)
        pick = torch.randint(len(candidates), (len(dead),), generator=self._generator()).to(rows.device)
        self.codebook[dead] = candidates[pick]
        self.cluster_size[dead] = threshold
        self.embed_sum[dead] = candidates[pick] * threshold
        return len(dead)

    def forward(self, z: Tensor) -> QuantizerOutput:
        rows = codes.to_rows(z.float())
        if self.training and not bool(self.initialised):
            self.initialise(rows.detach())
        indices = codes.nearest(rows.detach(), self.codebook)
        chosen = self.codebook[indices]  # indexing copies, so the update below leaves it alone
        if self.training:
            self.update(rows.detach(), indices)
        quantized = rows + (chosen - rows).detach()
        return QuantizerOutput(
            quantized=codes.to_grid(quantized, z.shape).to(z.dtype),
            indices=indices.view(z.shape[0], z.shape[2], z.shape[3]),
            loss=self.config.beta * (rows - chosen).square().mean(),
            metrics=codes.usage(indices, self.codebook_size),
        )

    def lookup(self, indices: Tensor) -> Tensor:
        """Codes (N, H, W) -> latents (N, D, H, W)."""
        return self.codebook[indices].permute(0, 3, 1, 2).contiguous()
