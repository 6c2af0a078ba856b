"""Sample-time helpers: the noise inputs drawn from a CPU generator, and the style-mixing grid."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from gentool.api import GentoolError


def noise_inputs(synthesis: Any, n: int, level: int, options: Any, generator: torch.Generator | None,
                 device: torch.device) -> list[Tensor]:
    """One (n, 1, H, W) noise map per 3x3 layer up to `level`: N(0, 1) from `generator`, or zeros."""
    shapes = synthesis.noise_shapes(level)
    if options.noise == "none":
        return [torch.zeros(n, 1, h, w, device=device) for h, w in shapes]
    return [torch.randn(n, 1, h, w, generator=generator).to(device) for h, w in shapes]


def mixing_grid(g: Any, n: int, num_classes: int, options: Any, generator: torch.Generator | None,
                device: torch.device) -> Tensor:
    """ws (k*k, num_ws, w_dim) of a style-mixing grid, k = sqrt(n), in row-major order: row 0 holds the column
    sources (after an empty corner), column 0 the row sources, and cell (i, j) takes the styles of layers below
    `options.crossover` from column source j and the rest from row source i. Truncation applies to every source."""
    k = math.isqrt(n)
    if k * k != n or k < 2:
        raise GentoolError(f"A style-mixing grid needs a square number of images (4, 9, ..., 64); got n={n}.")
    crossover = options.crossover or g.num_ws // 2
    if crossover >= g.num_ws:
        raise GentoolError(f"sample.crossover={crossover} must be below the generator's {g.num_ws} layers.")
    z = torch.randn(2 * (k - 1), g.z_dim, generator=generator).to(device)
    labels = torch.randint(0, num_classes, (len(z),), generator=generator).to(device) if num_classes else None
    ws = g.styles(z, labels, psi=options.truncation, cutoff=options.truncation_cutoff)
    cols, rows = ws[: k - 1], ws[k - 1 :]
    grid = torch.empty(k, k, *ws.shape[1:], device=device, dtype=ws.dtype)
    grid[0, 0] = cols[0]  # the corner is blanked after synthesis
    grid[0, 1:] = cols
    grid[1:, 0] = rows
    grid[1:, 1:, :crossover] = cols[None, :, :crossover]
    grid[1:, 1:, crossover:] = rows[:, None, crossover:]
    return grid.reshape(k * k, *ws.shape[1:])
