"""Mode coverage on a mixture of Gaussians: which modes the samples reach and how many samples are near any mode."""

from __future__ import annotations

from typing import Any

import torch

from gentool.errors import NotApplicable
from gentool.metrics.frechet import as_float64


def mode_coverage(
    points: Any, centres: Any, std: float, *, radius_std: float = 3.0, covered_share: float = 0.25
) -> dict[str, float]:
    """Each point goes to its nearest centre and is high quality within `radius_std`·`std` of it; a mode is covered
    when its high-quality points are at least `covered_share` of the uniform share N/K."""
    x, c = as_float64(points), as_float64(centres)
    distance, nearest = torch.cdist(x, c).min(dim=1)
    good = distance <= radius_std * std
    counts = torch.bincount(nearest[good], minlength=len(c)).double()
    covered = counts >= covered_share * len(x) / len(c)
    return {"modes_covered": float(covered.sum()), "modes_total": float(len(c)),
            "high_quality_share": float(good.double().mean())}


class Modes:
    """Reports `modes_covered`, `modes_total` and `high_quality_share` of the samples on data whose dataset exposes
    `mode_centers()` (K, D) and `mode_std`."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        dataset = evaluator.dataset
        if not hasattr(dataset, "mode_centers") or not hasattr(dataset, "mode_std"):
            raise NotApplicable("the dataset has no mode_centers() and mode_std (use a Gaussian-mixture dataset)")
        samples = evaluator.samples().flatten(1)
        return mode_coverage(samples, dataset.mode_centers(), float(dataset.mode_std),
                             radius_std=self.config.radius_std, covered_share=self.config.covered_share)
