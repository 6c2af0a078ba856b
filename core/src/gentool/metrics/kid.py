"""KID (Bińkowski et al. 2018): unbiased MMD² with the kernel k(x, y) = (xᵀy / d + 1)³, averaged over random subsets."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gentool.errors import GentoolError
from gentool.metrics.frechet import as_float64

PRECOMPUTE_LIMIT = 4096  # up to this many items per set, the full kernel matrices are computed once


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(x yᵀ / d + 1)³ for x (N, D) and y (M, D): the (N, M) kernel matrix."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(kxx: Any, kyy: Any, kxy: Any) -> float:
    """The unbiased MMD² estimate from the kernel matrices (torch or numpy) of m real and m generated items:
    the means of k(x, x') and k(y, y') over distinct pairs, less twice the mean of k(x, y) over all pairs."""
    m = kxx.shape[0]
    same = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(same - 2 * kxy.sum() / (m * m))


def kernel_inception_distance(
    real: Any, fake: Any, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float, int]:
    """(mean, population std, subset size) of the unbiased MMD² over `subsets` random subsets drawn without
    replacement; the subset size shrinks to the smaller set's size when that holds fewer items."""
    x, y = as_float64(real), as_float64(fake)
    m = min(subset_size, len(x), len(y))
    if m < 2:
        raise GentoolError(f"KID needs at least 2 items in each set, got {len(x)} and {len(y)}.")
    rng = np.random.default_rng(seed)
    picks = [(rng.choice(len(x), m, replace=False), rng.choice(len(y), m, replace=False)) for _ in range(subsets)]
    if max(len(x), len(y)) <= PRECOMPUTE_LIMIT:
        values = _subset_estimates(x, y, picks)
    else:
        values = []
        for i, j in picks:
            a, b = x[torch.from_numpy(i)], y[torch.from_numpy(j)]
            values.append(mmd2_unbiased(polynomial_kernel(a, a), polynomial_kernel(b, b), polynomial_kernel(a, b)))
    return float(np.mean(values)), float(np.std(values)), m


def _subset_estimates(x: torch.Tensor, y: torch.Tensor, picks: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    """mmd2_unbiased on every subset from the full kernel matrices: with 0/1 membership rows A (subsets, n), the
    kernel sum over a subset's pairs is the diagonal of A K Aᵀ, so all subsets cost three matrix products."""
    m = len(picks[0][0])
    member_x = torch.zeros(len(picks), len(x), dtype=torch.float64)
    member_y = torch.zeros(len(picks), len(y), dtype=torch.float64)
    for s, (i, j) in enumerate(picks):
        member_x[s, torch.from_numpy(i)] = 1
        member_y[s, torch.from_numpy(j)] = 1
    kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    xx = ((member_x @ kxx) * member_x).sum(1) - member_x @ kxx.diagonal()
    yy = ((member_y @ kyy) * member_y).sum(1) - member_y @ kyy.diagonal()
    xy = ((member_x @ kxy) * member_y).sum(1)
    return ((xx + yy) / (m * (m - 1)) - 2 * xy / (m * m)).tolist()


class KID:
    """Reports `kid` and `kid_std` of samples vs the test split, and the `kid_subset_size` actually used."""

    def __init__(self, config: Any) -> None:
        self.config = config

    def compute(self, evaluator: Any) -> dict[str, float]:
        c = self.config
        real = evaluator.features(evaluator.real("test"), c.features, c.features_options)["features"]
        fake = evaluator.features(evaluator.samples(), c.features, c.features_options)["features"]
        mean, std, size = kernel_inception_distance(
            real, fake, subsets=c.subsets, subset_size=c.subset_size, seed=evaluator.seed
        )
        return {"kid": mean, "kid_std": std, "kid_subset_size": float(size), "kid_subsets": float(c.subsets)}
