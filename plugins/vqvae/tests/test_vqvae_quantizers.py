"""The three quantizers on small cases worked out by hand (numpy references, no mocks)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gentool.api import Quantizer, QuantizerOutput, build

CODEBOOK = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], np.float32)


def grid(rows: np.ndarray, n: int, h: int, w: int) -> torch.Tensor:
    """Rows (n*h*w, D) in raster order -> a (n, D, h, w) latent grid."""
    return torch.tensor(rows, dtype=torch.float32).view(n, h, w, -1).permute(0, 3, 1, 2).contiguous()


def nearest_by_hand(rows: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    return ((rows[:, None, :] - codebook[None]) ** 2).sum(-1).argmin(1)


# --- vq ------------------------------------------------------------------------------------------------------------
def test_vq_chooses_the_nearest_code_and_passes_gradients_straight_through():
    q = build("quantizer", "vq", {"codebook_size": 3, "beta": 0.25}, dim=2)
    assert isinstance(q, Quantizer) and q.codebook_size == 3
    with torch.no_grad():
        q.codebook.copy_(torch.tensor(CODEBOOK))
    rows = np.array([[0.1, -0.2], [0.8, 0.3], [0.2, 1.5], [0.9, 0.9]], np.float32)  # 2 images of 1x2
    z = grid(rows, 2, 1, 2).requires_grad_(True)
    out = q(z)
    assert isinstance(out, QuantizerOutput)
    expected = nearest_by_hand(rows, CODEBOOK)
    assert out.indices.shape == (2, 1, 2) and out.indices.flatten().tolist() == expected.tolist()
    torch.testing.assert_close(out.quantized, grid(CODEBOOK[expected], 2, 1, 2))
    torch.testing.assert_close(q.lookup(out.indices), out.quantized.detach())
    # loss = |sg(z) - e|^2 + beta |z - sg(e)|^2, each a mean over the 8 elements
    squared = ((rows - CODEBOOK[expected]) ** 2).mean()
    assert out.loss.item() == pytest.approx(1.25 * squared, rel=1e-6)
    # straight through: d(sum(w * quantized))/dz = w, plus the commitment term 2 beta (z - e) / 8
    weights = torch.randn_like(z)
    (out.quantized * weights).sum().backward(retain_graph=True)
    torch.testing.assert_close(z.grad, weights)
    z.grad = None
    out.loss.backward()
    commitment = grid(2 * 0.25 * (rows - CODEBOOK[expected]) / rows.size, 2, 1, 2)
    torch.testing.assert_close(z.grad, commitment)
    # the codebook loss pulls each chosen code towards its rows; the unused code gets no gradient
    code_grad = np.zeros_like(CODEBOOK)
    for row, k in zip(rows, expected):
        code_grad[k] += 2 * (CODEBOOK[k] - row) / rows.size
    np.testing.assert_allclose(q.codebook.grad.numpy(), code_grad, rtol=1e-5, atol=1e-7)


def test_usage_and_perplexity_describe_the_batch():
    q = build("quantizer", "vq", {"codebook_size": 3}, dim=2)
    with torch.no_grad():
        q.codebook.copy_(torch.tensor(CODEBOOK))
    rows = np.array([[0, 0], [0, 0.1], [1, 0], [1, 0.1]], np.float32)  # codes 0, 0, 1, 1: two of three used
    metrics = q(grid(rows, 1, 2, 2)).metrics
    assert float(metrics["usage"]) == pytest.approx(2 / 3)
    assert float(metrics["perplexity"]) == pytest.approx(2.0)  # exp(entropy of (1/2, 1/2))


# --- vq-ema --------------------------------------------------------------------------------------------------------
def ema_quantizer(**options):
    q = build("quantizer", "vq-ema", {"codebook_size": 3, "dead_threshold": 0.0, **options}, dim=2)
    with torch.no_grad():
        q.codebook.copy_(torch.tensor(CODEBOOK))
        q.cluster_size.copy_(torch.tensor([4.0, 2.0, 1.0]))
        q.embed_sum.copy_(torch.tensor(CODEBOOK) * torch.tensor([[4.0], [2.0], [1.0]]))
        q.initialised.fill_(True)
    return q


def test_vq_ema_update_arithmetic():
    decay, eps = 0.9, 0.01
    q = ema_quantizer(decay=decay, epsilon=eps).train()
    rows = np.array([[0.2, 0.1], [0.9, -0.1], [1.2, 0.2], [0.1, 1.8]], np.float32)
    out = q(grid(rows, 1, 2, 2))
    chosen = nearest_by_hand(rows, CODEBOOK)
    assert chosen.tolist() == [0, 1, 1, 2]
    # the output uses the codebook from before the update
    torch.testing.assert_close(out.quantized, grid(CODEBOOK[chosen], 1, 2, 2))
    counts = np.bincount(chosen, minlength=3).astype(np.float64)
    sums = np.zeros((3, 2))
    np.add.at(sums, chosen, rows)
    size = decay * np.array([4.0, 2.0, 1.0]) + (1 - decay) * counts
    embed = decay * CODEBOOK * np.array([[4.0], [2.0], [1.0]]) + (1 - decay) * sums
    smoothed = (size + eps) / (size.sum() + 3 * eps) * size.sum()
    np.testing.assert_allclose(q.cluster_size.numpy(), size, rtol=1e-6)
    np.testing.assert_allclose(q.embed_sum.numpy(), embed, rtol=1e-6)
    np.testing.assert_allclose(q.codebook.numpy(), embed / smoothed[:, None], rtol=1e-5)
    # only the commitment term is left: beta * mean |z - e|^2
    assert out.loss.item() == pytest.approx(0.25 * ((rows - CODEBOOK[chosen]) ** 2).mean(), rel=1e-6)


def test_vq_ema_changes_nothing_in_eval_mode():
    q = ema_quantizer().eval()
    before = {k: v.clone() for k, v in q.state_dict().items()}
    q(grid(np.array([[5.0, 5.0], [0.3, 0.3]], np.float32), 1, 1, 2))
    for k, v in q.state_dict().items():
        torch.testing.assert_close(v, before[k])


def test_vq_ema_restarts_a_dead_code_on_a_live_encoder_output():
    q = ema_quantizer(dead_threshold=1.5, decay=0.5).train()
    q.codebook[2] = torch.tensor([50.0, 50.0])  # far from everything: never chosen
    rows = np.array([[0.1, 0.0], [0.9, 0.1], [1.1, 0.0], [0.0, 0.2]], np.float32)
    q(grid(rows, 1, 2, 2))
    # code 2's count decays to 0.5 * 1 < 1.5 and it moves onto one of this batch's rows, with count = threshold
    restarted = q.codebook[2].numpy()
    assert min(np.abs(rows - restarted).sum(1)) < 1e-6
    assert q.cluster_size[2].item() == pytest.approx(1.5)
    np.testing.assert_allclose(q.embed_sum[2].numpy(), restarted * 1.5, rtol=1e-6)
    # code 0 (count 0.5 * 4 + 0.5 * 2 = 3) is alive and stays where its average puts it
    assert q.cluster_size[0].item() == pytest.approx(3.0)


def test_vq_ema_initialises_by_kmeans_on_the_first_batch():
    rng = np.random.default_rng(0)
    centres = np.array([[5, 0], [-5, 0], [0, 5], [0, -5]], np.float32)
    rows = np.concatenate([c + 0.1 * rng.standard_normal((30, 2)) for c in centres]).astype(np.float32)
    rows = rows[rng.permutation(len(rows))]
    q = build("quantizer", "vq-ema", {"codebook_size": 4, "dead_threshold": 0.0}, dim=2).train()
    assert not bool(q.initialised)
    q(grid(rows, 1, 10, 12))
    assert bool(q.initialised)
    found = q.codebook.numpy()
    for c in centres:  # every blob got a code near its mean
        assert np.abs(found - c).sum(1).min() < 0.2
    assert (q.cluster_size.numpy() > 25).all()


# --- fsq -----------------------------------------------------------------------------------------------------------
def test_fsq_levels_codebook_size_and_index_round_trip():
    q = build("quantizer", "fsq", {"levels": [8, 5, 5, 5]}, dim=4)
    assert q.codebook_size == 8 * 5 * 5 * 5
    every = torch.arange(q.codebook_size)
    codes = q.indices_to_codes(every)
    assert codes.shape == (1000, 4)
    assert q.codes_to_indices(codes).tolist() == every.tolist()
    # lookup of the indices gives back the quantized latents (dim == len(levels): no projection)
    z = torch.randn(2, 4, 3, 3) * 3
    out = q(z)
    torch.testing.assert_close(q.lookup(out.indices), out.quantized)
    assert out.loss.item() == 0.0


def test_fsq_rounds_each_channel_to_its_levels_with_a_straight_through_gradient():
    levels = [8, 5, 3]
    q = build("quantizer", "fsq", {"levels": levels}, dim=3)
    sweep = torch.linspace(-10, 10, 2001)
    z = sweep.view(1, 1, 1, -1).expand(1, 3, 1, 2001).clone().requires_grad_(True)
    out = q(z)
    for channel, level in enumerate(levels):
        values = out.quantized[0, channel, 0].detach()
        half = level // 2
        # exactly `level` distinct values, on the grid (integer - half) / half, ordered like the input
        steps = (values * half).round()
        assert sorted(set(steps.tolist())) == [float(i - half) for i in range(level)]
        torch.testing.assert_close(values * half, steps)
        assert bool((values[1:] >= values[:-1]).all())
    # gradients flow through the rounding (the tanh's slope), largest near 0 where tanh is steep
    out.quantized.sum().backward()
    grad = z.grad[0, 0, 0]
    middle = sweep.abs() < 4  # beyond, tanh' underflows in float32
    assert bool((grad[middle] > 0).all()) and grad[1000] > grad[1300] > grad[1400]


def test_fsq_projects_latents_of_another_width():
    q = build("quantizer", "fsq", {"levels": [5, 5, 5]}, dim=16)
    z = torch.randn(2, 16, 4, 4, requires_grad=True)
    out = q(z)
    assert out.quantized.shape == z.shape and out.indices.shape == (2, 4, 4)
    assert int(out.indices.max()) < 125
    torch.testing.assert_close(q.lookup(out.indices), out.quantized.detach())
    out.quantized.square().sum().backward()
    assert z.grad is not None and float(z.grad.abs().sum()) > 0
