"""KID, precision/recall, inception score, reconstruction, codebook and mode metrics against hand-made cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gentool.metrics.codebook import usage_and_perplexity
from gentool.metrics.inception_score import inception_score
from gentool.metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel
from gentool.metrics.modes import mode_coverage
from gentool.metrics.precision_recall import knn_radii, precision_recall
from gentool.metrics.recon import mse_psnr


def kid_double_loop(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² with k(a, b) = (a·b / d + 1)³, written as the plain sums over pairs."""
    m, d = len(x), x.shape[1]

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1) ** 3

    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_kid_equals_the_double_loop_on_a_small_case():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(7, 3)), rng.normal(size=(7, 3)) + 0.5
    # one subset holding every item: the estimate is the double loop itself
    mean, std, size = kernel_inception_distance(x, y, subsets=3, subset_size=7)
    assert size == 7
    assert mean == pytest.approx(kid_double_loop(x, y), rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    direct = mmd2_unbiased(polynomial_kernel(tx, tx), polynomial_kernel(ty, ty), polynomial_kernel(tx, ty))
    assert direct == pytest.approx(kid_double_loop(x, y), rel=1e-12)


def test_kid_subsets_average_the_double_loop_on_each_subset():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(12, 4)), rng.normal(size=(10, 4)) * 1.5
    mean, std, size = kernel_inception_distance(x, y, subsets=5, subset_size=6, seed=3)
    picks = np.random.default_rng(3)
    values = []
    for _ in range(5):
        i, j = picks.choice(12, 6, replace=False), picks.choice(10, 6, replace=False)
        values.append(kid_double_loop(x[i], y[j]))
    assert size == 6
    assert mean == pytest.approx(np.mean(values), rel=1e-10)
    assert std == pytest.approx(np.std(values), rel=1e-8)


def test_kid_announces_a_smaller_subset_when_samples_are_few():
    rng = np.random.default_rng(2)
    _, _, size = kernel_inception_distance(rng.normal(size=(50, 4)), rng.normal(size=(40, 4)), subset_size=1000)
    assert size == 40


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(3)
    same, _, _ = kernel_inception_distance(rng.normal(size=(400, 8)), rng.normal(size=(400, 8)), subset_size=200)
    apart, _, _ = kernel_inception_distance(rng.normal(size=(400, 8)), rng.normal(size=(400, 8)) + 1, subset_size=200)
    assert abs(same) < 0.05 < apart


def test_precision_and_recall_on_constructed_point_sets():
    # real: 10 points on a line, 1 apart; with k=3 the ends reach 3 away, inner points 2 away
    real = np.stack([np.arange(10.0), np.zeros(10)], 1)
    np.testing.assert_allclose(knn_radii(real, k=3).sqrt().numpy(), [3, 2, 2, 2, 2, 2, 2, 2, 2, 3])
    # fake: copies of real 0..4 plus 5 points far away. Precision: 5 of 10 fake points lie on the real line.
    # Recall: the copies' balls (radii 3, 2, 2, 2, 3 around 0..4) reach x = 7 at most, so real 0..7 are covered.
    fake = np.concatenate([real[:5], [[100.0 + i, 100.0] for i in range(5)]])
    assert precision_recall(real, fake, k=3) == (pytest.approx(0.5), pytest.approx(0.8))
    # one fake point off the line but within 2 of real point 5 is inside the real manifold too
    fake[5] = [5.0, 1.9]
    assert precision_recall(real, fake, k=3)[0] == pytest.approx(0.6)


def test_precision_and_recall_of_identical_sets_are_one():
    points = np.random.default_rng(4).normal(size=(50, 3))
    assert precision_recall(points, points.copy(), k=3) == (1.0, 1.0)


def test_inception_score_hand_computed():
    # confident and uniform over 4 classes: IS = 4; every sample the same class: IS = 1
    confident = torch.full((8, 4), -30.0)
    confident[torch.arange(8), torch.arange(8) % 4] = 30.0
    assert inception_score(confident, splits=2, seed=None)[0] == pytest.approx(4.0, rel=1e-6)
    assert inception_score(torch.zeros(8, 4), splits=1)[0] == pytest.approx(1.0)
    one_class = torch.full((8, 4), -30.0)
    one_class[:, 2] = 30.0
    assert inception_score(one_class, splits=2) == pytest.approx((1.0, 0.0), abs=1e-6)
    # two samples, p = (0.5, 0.5) and (1, 0): marginal (0.75, 0.25)
    logits = torch.log(torch.tensor([[0.5, 0.5], [1.0, 1e-300]], dtype=torch.float64))
    kl = 0.5 * (0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)) + 0.5 * math.log(1 / 0.75)
    assert inception_score(logits, splits=1)[0] == pytest.approx(math.exp(kl), rel=1e-9)


def test_inception_score_shuffles_before_splitting():
    # 20 confident items sorted by class, 10 classes: kept in order, each half holds 5 classes -> IS 5 exactly
    logits = torch.full((20, 10), -30.0)
    logits[torch.arange(20), torch.arange(20) // 2] = 30.0
    assert inception_score(logits, splits=2, seed=None)[0] == pytest.approx(5.0, rel=1e-6)
    assert inception_score(logits, splits=2, seed=0)[0] > 5.5


def test_mse_and_psnr_hand_computed():
    x = torch.zeros(2, 1, 2, 2)
    x_hat = torch.zeros(2, 1, 2, 2)
    x_hat[0] = 0.1  # mse 0.01 -> 20 dB
    x_hat[1, 0, 0, 0] = 0.2  # mse 0.01 -> 20 dB
    mse, psnr = mse_psnr(x, x_hat)
    assert mse == pytest.approx(0.01)
    assert psnr == pytest.approx(20.0)


def test_codebook_usage_and_perplexity():
    usage, perplexity = usage_and_perplexity(torch.tensor([5, 5, 0, 0]))
    assert usage == 0.5 and perplexity == pytest.approx(2.0)
    usage, perplexity = usage_and_perplexity(torch.tensor([1, 1, 2]))
    entropy = -(0.25 * math.log(0.25) * 2 + 0.5 * math.log(0.5))
    assert usage == 1.0 and perplexity == pytest.approx(math.exp(entropy))


def test_mode_coverage_on_a_constructed_ring():
    centres = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    std = 0.01
    # 40 points: 18 at mode 0, 18 at mode 1, 2 at mode 2 (below a quarter of the uniform 10), 2 far off
    points = np.concatenate([np.repeat(centres[:1], 18, 0), np.repeat(centres[1:2], 18, 0) + 0.02,
                             np.repeat(centres[2:3], 2, 0), [[0.5, 0.5], [5.0, 5.0]]])
    result = mode_coverage(points, centres, std, radius_std=3.0, covered_share=0.25)
    assert result == {"modes_covered": 2.0, "modes_total": 4.0, "high_quality_share": pytest.approx(38 / 40)}
