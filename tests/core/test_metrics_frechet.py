"""The Fréchet distance agrees with the textbook formula computed by scipy, including singular covariances."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
import torch

from gentool.errors import GentoolError


def textbook(a: np.ndarray, b: np.ndarray) -> float:
    """||mu1 - mu2||² + tr S1 + tr S2 - 2 tr sqrtm(S1 S2) with numpy covariances and scipy's sqrtm."""
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))


def correlated(rng: np.random.Generator, n: int, d: int, shift: float = 0.0) -> np.ndarray:
    return rng.normal(size=(n, d)) @ (np.eye(d) + 0.3 * rng.normal(size=(d, d))) + shift


@pytest.mark.parametrize(("n1", "n2", "d"), [(600, 500, 16), (400, 300, 64)])
def test_matches_scipy_on_well_conditioned_features(n1, n2, d):
    from gentool.metrics import frechet_distance

    rng = np.random.default_rng(d)
    a, b = correlated(rng, n1, d), correlated(rng, n2, d, shift=0.2)
    assert frechet_distance(a, b) == pytest.approx(textbook(a, b), rel=1e-6)
    assert frechet_distance(torch.from_numpy(a).float(), torch.from_numpy(b).float()) == pytest.approx(
        textbook(a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)), rel=1e-6
    )


def test_stats_function_matches_scipy_and_is_symmetric():
    from gentool.metrics import frechet_distance_stats

    rng = np.random.default_rng(1)
    a, b = correlated(rng, 800, 32), correlated(rng, 700, 32, shift=-0.5)
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    expected = textbook(a, b)
    assert frechet_distance_stats(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)
    assert frechet_distance_stats(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("d", [517, 600])
def test_large_dimensions_match_scipy_when_one_covariance_is_singular_or_neither(d):
    """Above 256 dimensions Lᵀ S2 L is built block by block (uneven halves at 517); both role orders agree."""
    from gentool.metrics import frechet_distance_stats

    rng = np.random.default_rng(d)
    a, b = correlated(rng, 2 * d, d), correlated(rng, 3 * d, d, shift=0.1)
    few = correlated(rng, d // 2, d, shift=-0.2)  # rank < d: its covariance has no Cholesky factor
    for x, y in ((a, b), (few, b), (b, few)):
        stats = (x.mean(0), np.cov(x, rowvar=False), y.mean(0), np.cov(y, rowvar=False))
        assert frechet_distance_stats(*stats) == pytest.approx(textbook(x, y), rel=1e-6)


@pytest.mark.parametrize(("n1", "n2", "d"), [(40, 50, 100), (30, 300, 64), (300, 30, 64)])
def test_fewer_items_than_dimensions_is_finite_and_matches_scipy(n1, n2, d):
    from gentool.metrics import frechet_distance

    rng = np.random.default_rng(n1)
    a, b = correlated(rng, n1, d), correlated(rng, n2, d, shift=0.3)
    value = frechet_distance(a, b)
    assert np.isfinite(value)
    assert value == pytest.approx(textbook(a, b), rel=1e-6)


def test_singular_covariances_in_the_stats_function():
    from gentool.metrics import frechet_distance_stats

    rng = np.random.default_rng(2)
    a, b = correlated(rng, 20, 48), correlated(rng, 25, 48, shift=1.0)  # both covariances have rank < 48
    value = frechet_distance_stats(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
    assert value == pytest.approx(textbook(a, b), rel=1e-6)


def test_hand_computed_diagonal_case_and_identity():
    from gentool.metrics import frechet_distance_stats

    # diagonal covariances: d² = |mu1 - mu2|² + sum (sqrt(s1) - sqrt(s2))²
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 9.0]), np.diag([4.0, 4.0, 1.0])
    assert frechet_distance_stats(mu1, s1, mu2, s2) == pytest.approx(5.0 + 1.0 + 0.0 + 4.0, rel=1e-12)
    assert frechet_distance_stats(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-12)


def test_bad_input_is_a_clear_error():
    from gentool.metrics import frechet_distance

    with pytest.raises(GentoolError, match="differ in dimension"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(GentoolError, match="NaN"):
        frechet_distance(np.full((5, 3), np.nan), np.zeros((5, 3)))


def test_importing_the_metrics_package_imports_no_torch():
    code = "import sys, gentool.metrics; assert 'torch' not in sys.modules; gentool.metrics.frechet_distance"
    subprocess.run([sys.executable, "-c", code], check=True)
