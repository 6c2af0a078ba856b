"""The autoregressive prior p(c) = prod_t p(c_t | c_<t, y) over the code grid read in raster order.

A small causal transformer (GPT-style, pre-norm). The first input is a start embedding that carries the class label
(one more row means "no label"), so the same network is conditional or not. Sampling feeds one position at a time
and keeps each block's keys and values, so a grid of T codes costs T single-position passes.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gentool.api import Dropout, dropout, dropout_rate
from gentool_vqvae.config import PriorConfig


def causal_attention(q: Tensor, k: Tensor, v: Tensor, p: float, training: bool) -> Tensor:
    """Softmax attention of q (N, H, T, D) over k, v with a causal mask, dropout p on the attention weights when
    training. Training on the CPU spells it out so that the weights take gentool's cheap dropout (torch's fused
    attention draws its own, at a tenth of the speed); elsewhere torch's fused kernel."""
    if not (training and p > 0 and q.device.type == "cpu"):
        rate = dropout_rate(p) if training else 0.0
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=rate)
    t = q.shape[-2]
    future = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    weights = (q @ k.transpose(-2, -1)).mul_(1 / math.sqrt(q.shape[-1])).masked_fill_(future, float("-inf")).softmax(-1)
    return dropout(weights, p, True) @ v


class Block(nn.Module):
    """Causal self-attention then an MLP, each with a residual; `cache` (a dict) holds past keys and values."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width), Dropout(dropout)
        )

    def forward(self, x: Tensor, cache: dict[str, Tensor] | None = None) -> Tensor:
        n, t, w = x.shape
        q, k, v = (
            p.view(n, t, self.heads, w // self.heads).transpose(1, 2) for p in self.qkv(self.norm1(x)).split(w, 2)
        )
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        if cache is None:
            attended = causal_attention(q, k, v, self.dropout, self.training)
        else:  # sampling: the new position attends to every cached one
            attended = F.scaled_dot_product_attention(q, k, v)
        x = x + dropout(self.proj(attended.transpose(1, 2).reshape(n, t, w)), self.dropout, self.training)
        return x + self.mlp(self.norm2(x))


class CodePrior(nn.Module):
    """Logits of each code given the codes before it (and the label): codes (N, T) -> (N, T, K)."""

    def __init__(self, config: PriorConfig, codebook_size: int, length: int, num_classes: int) -> None:
        super().__init__()
        self.config, self.length, self.num_classes = config, length, num_classes
        self.token = nn.Embedding(codebook_size, config.width)
        self.start = nn.Embedding(num_classes + 1, config.width)  # row num_classes: unconditional
        self.position = nn.Parameter(torch.randn(1, length, config.width) * 0.02)
        self.blocks = nn.ModuleList(Block(config.width, config.heads, config.dropout) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, codebook_size)

    def _start(self, n: int, labels: Tensor | None, device: torch.device) -> Tensor:
        if labels is None or self.num_classes == 0:
            labels = torch.full((n,), self.num_classes, dtype=torch.long, device=device)
        return self.start(labels.to(device)).unsqueeze(1)

    def forward(self, codes: Tensor, labels: Tensor | None = None) -> Tensor:
        x = torch.cat([self._start(len(codes), labels, codes.device), self.token(codes[:, :-1])], dim=1)
        x = dropout(x + self.position[:, : x.shape[1]], self.config.dropout, self.training)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))

    def loss(self, codes: Tensor, labels: Tensor | None = None) -> Tensor:
        """Mean negative log-likelihood per code, in nats."""
        logits = self.forward(codes, labels).float()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), codes.reshape(-1))

    @torch.no_grad()
    def sample(
        self, n: int, labels: Tensor | None = None, generator: torch.Generator | None = None, temperature: float = 1.0
    ) -> Tensor:
        """n code sequences (n, T); the Gumbel noise of each draw comes from `generator` on the CPU."""
        device = self.head.weight.device
        caches: list[dict[str, Tensor]] = [{} for _ in self.blocks]
        x = self._start(n, labels, device)
        out = torch.empty(n, self.length, dtype=torch.long, device=device)
        for t in range(self.length):
            h = x + self.position[:, t : t + 1]
            for block, cache in zip(self.blocks, caches):
                h = block(h, cache)
            logits = self.head(self.norm(h[:, -1])).float() / temperature
            uniform = torch.rand(logits.shape, generator=generator).to(device).clamp_(1e-10, 1 - 1e-7)
            out[:, t] = (logits - (-uniform.log()).log()).argmax(dim=1)
            x = self.token(out[:, t : t + 1])
        return out
