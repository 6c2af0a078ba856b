"""Reconstruction quality on the test split: mean squared error and PSNR for data in [0, 1]."""

from __future__ import annotations

from typing import Any

import torch


def mse_psnr(x: torch.Tensor, x_hat: torch.Tensor) -> tuple[float, float]:
    """(MSE over every value, mean over items of the PSNR 10·log10(1 / MSE_item)) in float64; an exact
    reconstruction counts as MSE 1e-10 (100 dB)."""
    err = ((x.double() - x_hat.double()) ** 2).flatten(1).mean(1)
    return float(err.mean()), float((-10 * torch.log10(err.clamp(min=1e-10))).mean())


class Recon:
    """Reports `mse` and `psnr` of the model's reconstructions of the test split (NotApplicable without them)."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        x_hat = evaluator.reconstructions("test")
        mse, psnr = mse_psnr(evaluator.real("test"), x_hat)
        return {"mse": mse, "psnr": psnr}
