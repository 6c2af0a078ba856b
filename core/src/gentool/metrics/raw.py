"""The `raw` feature network: the inputs themselves, flattened (the natural features of 2-D points)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class RawFeatures(nn.Module):
    """Anything (N, ...) -> {"features": (N, prod(...))}."""

    def __init__(self, config: Any = None) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"features": x.flatten(1)}
