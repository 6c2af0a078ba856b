"""The mixture fitted to GLO's latents: EM recovers separated clusters and their weights, and draws follow them; the
kernel prior keeps the codes' proportions and moves each code by its component's spread."""

import torch

from gentool_cnn.gaussian import fit_gaussian
from gentool_cnn.mixture import (
    component_log_density,
    fit_mixture,
    nearest_components,
    pick_codes,
    sample_kernel,
    sample_mixture,
)


def _clusters(weights, n=6000, seed=0):
    """Points around well-separated centres, each centre holding its weight of the points; their labels."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[4.0, 0.0, 0.0], [-4.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, -4.0, 2.0]])
    counts = [round(w * n) for w in weights]
    labels = torch.cat([torch.full((c,), k) for k, c in enumerate(counts)])
    points = centres[labels] + 0.3 * torch.randn(len(labels), 3, generator=g, dtype=torch.float64).float()
    return points, labels, centres


def test_em_finds_each_cluster_with_its_weight():
    weights = [0.55, 0.25, 0.15, 0.05]
    points, _, centres = _clusters(weights)
    fitted_w, means, chols = fit_mixture(points, 4)
    order = torch.cdist(centres, means).argmin(1)  # the fitted component nearest each true centre
    assert sorted(order.tolist()) == [0, 1, 2, 3], "one component per cluster"
    assert torch.allclose(fitted_w[order], torch.tensor(weights), atol=0.01)
    assert torch.allclose(means[order], centres, atol=0.05)
    variances = (chols @ chols.transpose(1, 2)).diagonal(dim1=1, dim2=2)
    assert torch.allclose(variances, torch.full_like(variances, 0.09), rtol=0.15)


def test_draws_take_each_component_with_its_weight_and_repeat_with_the_same_generator():
    weights = [0.55, 0.25, 0.15, 0.05]
    points, _, centres = _clusters(weights)
    mixture = fit_mixture(points, 4)
    draws = sample_mixture(mixture, 20_000, torch.Generator().manual_seed(1))
    nearest = torch.cdist(draws, centres).argmin(1)
    shares = torch.bincount(nearest, minlength=4).double() / len(draws)
    assert torch.allclose(shares, torch.tensor(weights, dtype=torch.float64), atol=0.01)
    first = sample_mixture(mixture, 7, torch.Generator().manual_seed(3))
    assert torch.equal(first, sample_mixture(mixture, 7, torch.Generator().manual_seed(3)))


def test_the_mixture_explains_clustered_codes_better_than_one_gaussian():
    points, _, _ = _clusters([0.4, 0.3, 0.2, 0.1])
    mean, chol = fit_gaussian(points)
    single = (torch.ones(1), mean[None], chol[None])
    one = component_log_density(points, single).logsumexp(1).mean()
    four = component_log_density(points, fit_mixture(points, 4)).logsumexp(1).mean()
    assert four > one + 1.0


def test_one_component_is_the_single_gaussian_and_the_fit_is_deterministic():
    points, _, _ = _clusters([0.5, 0.5, 0.0, 0.0], n=500)
    weights, means, chols = fit_mixture(points, 1)
    mean, chol = fit_gaussian(points)
    assert weights.tolist() == [1.0]
    assert torch.equal(means[0], mean) and torch.equal(chols[0], chol)
    again = fit_mixture(points, 3)
    assert all(torch.equal(a, b) for a, b in zip(fit_mixture(points, 3), again))


def test_each_code_is_owned_by_the_component_of_its_cluster():
    points, labels, centres = _clusters([0.55, 0.25, 0.15, 0.05])
    mixture = fit_mixture(points, 4)
    order = torch.cdist(centres, mixture[1]).argmin(1)  # fitted component of each true cluster
    assert torch.equal(nearest_components(points, mixture), order[labels])


def test_kernel_draws_keep_the_codes_proportions_even_where_a_mixture_would_blur_them():
    weights = [0.55, 0.25, 0.15, 0.05]
    points, labels, centres = _clusters(weights)
    one = fit_mixture(points, 1)  # a single Gaussian spreads over all four clusters
    g = torch.Generator().manual_seed(2)
    starts = points[pick_codes(len(points), 20_000, g)]
    draws = sample_kernel(starts, nearest_components(starts, one), one[2] / one[2].diagonal().max(), 0.1, g)
    shares = torch.bincount(torch.cdist(draws, centres).argmin(1), minlength=4).double() / len(draws)
    assert torch.allclose(shares, torch.tensor(weights, dtype=torch.float64), atol=0.01)

    def again(seed):
        g = torch.Generator().manual_seed(seed)
        starts = points[pick_codes(len(points), 5, g)]
        return sample_kernel(starts, torch.zeros(5, dtype=torch.long), one[2], 0.5, g)

    assert torch.equal(again(4), again(4)) and not torch.equal(again(4), again(5))


def test_picks_for_a_wanted_group_come_from_that_group_uniformly_or_from_all_when_it_is_empty():
    groups = torch.tensor([2, 0, 2, 1, 2, 0, 2, 2])
    wanted = torch.tensor([2] * 30_000 + [0] * 10_000 + [5] * 8_000)  # nobody is in group 5
    pick = pick_codes(len(groups), len(wanted), torch.Generator().manual_seed(0), groups, wanted)
    assert (groups[pick[:40_000]] == wanted[:40_000]).all()
    counts = torch.bincount(pick[:30_000], minlength=8).double()
    assert torch.allclose(counts[groups == 2] / 30_000, torch.full((5,), 0.2, dtype=torch.float64), atol=0.01)
    assert set(pick[40_000:].tolist()) == set(range(8)), "an empty group draws from every code"


def test_kernel_moves_a_code_by_bandwidth_times_its_component_s_spread():
    code = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    chol = torch.tensor([[[2.0, 0.0], [1.0, 0.5]]], dtype=torch.float64)
    first = torch.zeros(40_000, dtype=torch.long)
    draws = sample_kernel(code.expand(40_000, 2), first, chol, 0.5, torch.Generator().manual_seed(0))
    moves = draws - code
    assert torch.allclose(moves.mean(0), torch.zeros(2, dtype=torch.float64), atol=0.02)
    expected = 0.25 * chol[0] @ chol[0].T  # [[1, 0.5], [0.5, 0.3125]]
    assert torch.allclose(torch.cov(moves.T), expected, rtol=0.03, atol=0.01)
    assert torch.equal(sample_kernel(code.expand(3, 2), first[:3], chol, 0.0), code.expand(3, 2))
    two = torch.cat([chol, 0.1 * torch.eye(2, dtype=torch.float64)[None]])  # each draw takes its own owner's shape
    owners = torch.arange(40_000) % 2
    moves = sample_kernel(code.expand(40_000, 2), owners, two, 0.5, torch.Generator().manual_seed(1)) - code
    assert torch.allclose(torch.cov(moves[owners == 0].T), expected, rtol=0.04, atol=0.01)
    assert torch.allclose(torch.cov(moves[owners == 1].T), 0.0025 * torch.eye(2, dtype=torch.float64), atol=3e-4)
