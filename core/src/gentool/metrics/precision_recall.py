"""Improved precision and recall (Kynkäänniemi et al. 2019) on k-nearest-neighbour manifolds of features.

Each point of a set owns a ball reaching its k-th nearest neighbour in the same set; the union of the balls is the
set's manifold. Precision: the share of generated points inside the real manifold. Recall: the share of real points
inside the generated manifold. Distances are computed in float64, in blocks of rows.
"""

from __future__ import annotations

from typing import Any

import torch

from gentool.errors import GentoolError
from gentool.metrics.frechet import as_float64

BLOCK = 1024


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((a * a).sum(1, keepdim=True) + (b * b).sum(1) - 2 * a @ b.T).clamp(min=0)


def knn_radii(points: Any, k: int = 3) -> torch.Tensor:
    """Squared distance (N,) from each point to its k-th nearest neighbour among the others."""
    x = as_float64(points)
    if len(x) <= k:
        raise GentoolError(f"k={k} neighbours need more than {k} points, got {len(x)}.")
    # the point itself is the nearest at distance 0, so the k-th neighbour is the (k+1)-th smallest
    return torch.cat([_squared_distances(block, x).kthvalue(k + 1, dim=1).values for block in x.split(BLOCK)])


def manifold_share(queries: Any, points: Any, radii: torch.Tensor) -> float:
    """The share of `queries` lying in at least one ball centred on `points` with squared radii `radii`."""
    q, x = as_float64(queries), as_float64(points)
    inside = [(_squared_distances(block, x) <= radii).any(dim=1) for block in q.split(BLOCK)]
    return float(torch.cat(inside).double().mean())


def precision_recall(real: Any, fake: Any, k: int = 3) -> tuple[float, float]:
    """(precision, recall) of generated features `fake` against real features `real`."""
    real, fake = as_float64(real), as_float64(fake)
    return manifold_share(fake, real, knn_radii(real, k)), manifold_share(real, fake, knn_radii(fake, k))


class _PrecisionRecall:
    key = ""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        c = self.config
        real = evaluator.features(evaluator.real("test"), c.features, c.features_options)["features"]
        fake = evaluator.features(evaluator.samples(), c.features, c.features_options)["features"]
        key = ("precision_recall", evaluator.network_name(c.features), repr(c.features_options), c.k)
        precision, recall = evaluator.memo(key, lambda: precision_recall(real, fake, c.k))
        return {self.key: precision if self.key == "precision" else recall}


class Precision(_PrecisionRecall):
    """Reports `precision`: the share of samples inside the manifold of the test split's features."""

    key = "precision"


class Recall(_PrecisionRecall):
    """Reports `recall`: the share of test items inside the manifold of the samples' features."""

    key = "recall"
