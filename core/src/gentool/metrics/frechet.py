"""The Fréchet distance between Gaussians fitted to two feature sets (the distance behind FID), in float64.

    d² = ||mu1 - mu2||² + tr(S1) + tr(S2) - 2 tr sqrtm(S1 S2)

tr sqrtm(S1 S2) is the sum of the square roots of the eigenvalues of S1 S2. With the Cholesky factor S1 = L Lᵀ,
S1 S2 is similar to the symmetric Lᵀ S2 L, so one Cholesky, one congruence and one symmetric eigenvalue solve give
it (no general eigenproblem, no matrix square root). The congruence Lᵀ S2 L is formed block-recursively the way
LAPACK's sygst does, using that L is triangular and S2 symmetric: 4/3 D³ flops instead of the 4 D³ of two full
products. A singular S1 swaps the roles of S1 and S2; when both are singular, L is replaced by the symmetric square
root of S1 from its eigendecomposition. Covariances are taken as symmetric (as covariances are); the steps run on
torch's threads (`torch.set_num_threads`).

From features with fewer items than dimensions, the covariances are never formed: with centred features X1, X2,
tr sqrtm(S1 S2) equals the nuclear norm (sum of singular values) of X2 X1ᵀ over sqrt((n1 - 1)(n2 - 1)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gentool.errors import GentoolError


def as_float64(array: Any) -> torch.Tensor:
    """A CPU float64 tensor holding `array` (torch tensor, numpy array or nested lists)."""
    if isinstance(array, torch.Tensor):
        return array.detach().to("cpu", torch.float64)
    return torch.as_tensor(np.asarray(array), dtype=torch.float64)


def _check_features(x: torch.Tensor, name: str) -> None:
    if x.dim() != 2 or x.shape[0] < 2:
        raise GentoolError(f"{name} must be a (N, D) array with N >= 2 items, got shape {tuple(x.shape)}.")
    if not torch.isfinite(x).all():
        raise GentoolError(f"{name} holds NaN or infinite values, so no Fréchet distance can be computed.")


def gaussian_stats(features: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and unbiased covariance (D, D) of (N, D) features, in float64."""
    x = as_float64(features)
    _check_features(x, "features")
    mu = x.mean(0)
    centred = x - mu
    return mu, centred.T @ centred / (x.shape[0] - 1)


def _symmetric_sqrt(sigma: torch.Tensor) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(sigma)
    return (vectors * values.clamp(min=0).sqrt()) @ vectors.T


_LEAF = 256  # below this size a congruence block is two plain products


def _factor(sigma1: torch.Tensor, sigma2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, bool]:
    """(F, other, triangular) with F Fᵀ equal to one covariance: the lower Cholesky factor of a non-singular one,
    else the symmetric square root of sigma1."""
    for a, other in ((sigma1, sigma2), (sigma2, sigma1)):
        factor, info = torch.linalg.cholesky_ex(a)
        if int(info) == 0:
            return factor, other, True
    return _symmetric_sqrt(sigma1), sigma2, False


def _lower_congruence(lower: torch.Tensor, sym: torch.Tensor, out: torch.Tensor) -> None:
    """Write the lower triangle (and the diagonal blocks) of lowerᵀ · sym · lower into `out`, for a lower-triangular
    `lower` and a symmetric `sym`.

    With lower = [[L11, 0], [L21, L22]] and sym = [[A11, A21ᵀ], [A21, A22]]:
        C11 = L11ᵀ A11 L11 + L21ᵀ Y + Yᵀ L21   with Y = A21 L11 + ½ A22 L21
        C21 = L22ᵀ (A21 L11 + A22 L21)
        C22 = L22ᵀ A22 L22
    and the two diagonal congruences recurse.
    """
    n = lower.shape[0]
    if n <= _LEAF:
        torch.matmul(lower.T, sym @ lower, out=out)
        return
    h = n // 2
    l11, l21, l22 = lower[:h, :h], lower[h:, :h], lower[h:, h:]
    half_w = sym[h:, h:] @ l21
    half_w *= 0.5
    y = sym[h:, :h] @ l11
    y += half_w
    torch.matmul(l22.T, y + half_w, out=out[h:, :h])
    _lower_congruence(l11, sym[:h, :h], out[:h, :h])
    cross = l21.T @ y
    out[:h, :h] += cross
    out[:h, :h] += cross.T
    _lower_congruence(l22, sym[h:, h:], out[h:, h:])


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    """tr sqrtm(S1 S2) for symmetric positive semi-definite S1 and S2 (float64)."""
    factor, other, triangular = _factor(sigma1, sigma2)
    if triangular:
        inner = torch.zeros_like(other)
        _lower_congruence(factor, other, inner)  # eigvalsh reads the lower triangle only
    else:
        inner = factor.T @ (other @ factor)
    values = torch.linalg.eigvalsh(inner)
    return float(values.clamp(min=0).sqrt().sum())


def frechet_distance_stats(mu1: Any, sigma1: Any, mu2: Any, sigma2: Any) -> float:
    """The Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2); means (D,), covariances (D, D)."""
    mu1, mu2, sigma1, sigma2 = (as_float64(a) for a in (mu1, mu2, sigma1, sigma2))
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise GentoolError(
            f"Fréchet statistics disagree in shape: means {tuple(mu1.shape)} and {tuple(mu2.shape)}, "
            f"covariances {tuple(sigma1.shape)} and {tuple(sigma2.shape)}."
        )
    mean_term = float(((mu1 - mu2) ** 2).sum())
    value = mean_term + float(sigma1.trace() + sigma2.trace()) - 2 * trace_sqrt_product(sigma1, sigma2)
    return max(value, 0.0)  # round-off can push identical distributions a hair below zero


def frechet_distance(a: Any, b: Any) -> float:
    """The Fréchet distance between Gaussians fitted to features a (N1, D) and b (N2, D), torch or numpy."""
    x1, x2 = as_float64(a), as_float64(b)
    _check_features(x1, "first features")
    _check_features(x2, "second features")
    if x1.shape[1] != x2.shape[1]:
        raise GentoolError(f"Features differ in dimension: {x1.shape[1]} and {x2.shape[1]}.")
    n1, n2, d = x1.shape[0], x2.shape[0], x1.shape[1]
    if min(n1, n2) >= d:
        return frechet_distance_stats(*gaussian_stats(x1), *gaussian_stats(x2))
    mu1, mu2 = x1.mean(0), x2.mean(0)
    c1, c2 = x1 - mu1, x2 - mu2
    traces = float((c1**2).sum()) / (n1 - 1) + float((c2**2).sum()) / (n2 - 1)
    cross = c2 @ c1.T
    nuclear = float(torch.linalg.svdvals(cross).sum()) / float(np.sqrt((n1 - 1) * (n2 - 1)))
    return max(float(((mu1 - mu2) ** 2).sum()) + traces - 2 * nuclear, 0.0)
