"""Core's reconstruction losses, checked against hand-computed values and a numpy/scipy pyramid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from gentool.errors import GentoolError
from gentool.losses.reconstruction import (
    AbsoluteError,
    BinaryCrossEntropy,
    LaplacianPyramid,
    LaplacianPyramidConfig,
    SquaredError,
)
from gentool.registry import build


def test_squared_and_absolute_error_sum_per_sample():
    pred = torch.tensor([[[[0.0, 0.5], [1.0, 0.25]]], [[[1.0, 1.0], [1.0, 1.0]]]])
    target = torch.tensor([[[[1.0, 0.5], [0.0, 0.75]]], [[[1.0, 1.0], [1.0, 0.0]]]])
    # sample 0: differences -1, 0, 1, -0.5; sample 1: 0, 0, 0, 1
    assert SquaredError(None)(pred, target).tolist() == pytest.approx([1 + 0 + 1 + 0.25, 1.0])
    assert AbsoluteError(None)(pred, target).tolist() == pytest.approx([1 + 0 + 1 + 0.5, 1.0])


def test_bce_is_the_bernoulli_negative_log_likelihood():
    pred = torch.tensor([[0.9, 0.2, 0.5], [0.5, 0.5, 0.5]])
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.25]])
    by_hand = [
        -(math.log(0.9) + math.log(0.8) + math.log(0.5)),
        -(math.log(0.5) + math.log(0.5) + math.log(0.5)),  # for p = 0.5 every target costs log 2
    ]
    assert BinaryCrossEntropy(None)(pred, target).tolist() == pytest.approx(by_hand, rel=1e-6)


def test_bce_accepts_logits():
    logits = torch.tensor([[2.0, -1.0, 0.0, 30.0]])
    target = torch.tensor([[1.0, 0.0, 0.3, 0.0]])
    lg, t = logits.numpy().astype(np.float64), target.numpy().astype(np.float64)
    # -[t log s(lg) + (1 - t) log(1 - s(lg))] = log(1 + e^lg) - t lg; the last entry is far past what probabilities
    # can express in float32 (about 30 nats), logits keep it exact
    by_hand = (np.logaddexp(0.0, lg) - t * lg).sum()
    assert BinaryCrossEntropy(None)(logits, target, logits=True).item() == pytest.approx(by_hand, rel=1e-5)


def test_bce_of_certain_wrong_prediction_is_finite():
    loss = BinaryCrossEntropy(None)(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2))
    assert torch.isfinite(loss).all() and loss.item() == pytest.approx(400.0)


def test_losses_are_built_by_name_and_give_gradients():
    pred = torch.rand(3, 1, 8, 8, requires_grad=True)
    target = torch.rand(3, 1, 8, 8)
    for name in ("bce", "mse", "l2", "l1", "laplacian"):
        loss = build("loss", name, {})
        assert loss.role == "reconstruction"
        out = loss(pred.clamp(0.01, 0.99), target)
        assert out.shape == (3,)
        out.sum().backward()
        assert pred.grad is not None and torch.isfinite(pred.grad).all()
        pred.grad = None


# --- Laplacian pyramid ---------------------------------------------------------------------------------------------
KERNEL = np.array([1, 4, 6, 4, 1], np.float64) / 16


def _blur(img: np.ndarray) -> np.ndarray:
    out = ndimage.convolve1d(img, KERNEL, axis=0, mode="nearest")
    return ndimage.convolve1d(out, KERNEL, axis=1, mode="nearest")


def _pyramid(img: np.ndarray, levels: int) -> list[np.ndarray]:
    """Burt & Adelson pyramid of one (H, W) image: blur-and-decimate, expand by pixel repetition then blur."""
    bands, current = [], img
    for _ in range(levels - 1):
        small = _blur(current)[::2, ::2]
        up = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)[: current.shape[0], : current.shape[1]]
        bands.append(current - _blur(up))
        current = small
    return [*bands, current]


def test_laplacian_loss_matches_a_scipy_pyramid():
    rng = np.random.default_rng(0)
    pred, target = rng.random((2, 3, 13, 10)), rng.random((2, 3, 13, 10))  # odd sizes on purpose
    levels = 3
    expected = np.zeros(2)
    for n in range(2):
        for c in range(3):
            for j, (a, b) in enumerate(zip(_pyramid(pred[n, c], levels), _pyramid(target[n, c], levels))):
                expected[n] += 4.0**-j * np.abs(a - b).sum()
    loss = build("loss", "laplacian", {"levels": levels})
    got = loss(torch.tensor(pred), torch.tensor(target))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


def test_laplacian_loss_of_a_constant_shift_lives_in_the_residual_only():
    # every band-pass level of a constant image is 0; the residual of a 16x16 image after 2 halvings is 4x4
    pred = torch.full((1, 1, 16, 16), 0.7, dtype=torch.float64)
    target = torch.full((1, 1, 16, 16), 0.2, dtype=torch.float64)
    loss = LaplacianPyramid(LaplacianPyramidConfig(levels=3))
    assert loss(pred, target).item() == pytest.approx(4.0**-2 * 0.5 * 16)


def test_laplacian_levels_sum_back_to_the_image_and_custom_weights_apply():
    from gentool.losses.reconstruction import laplacian_pyramid, upsample

    x = torch.rand(2, 1, 12, 12, dtype=torch.float64)
    bands = laplacian_pyramid(x, 3)
    rebuilt = bands[-1]
    for band in reversed(bands[:-1]):
        rebuilt = band + upsample(rebuilt, band.shape[2:])
    torch.testing.assert_close(rebuilt, x)
    # with weights (1, 0, 0) the loss is the L1 distance of the finest band alone
    y = torch.rand(2, 1, 12, 12, dtype=torch.float64)
    finest = (laplacian_pyramid(x, 3)[0] - laplacian_pyramid(y, 3)[0]).abs().sum(dim=(1, 2, 3))
    loss = build("loss", "laplacian", {"levels": 3, "weights": [1.0, 0.0, 0.0]})
    torch.testing.assert_close(loss(x, y), finest)


def test_laplacian_weights_must_match_levels():
    with pytest.raises(GentoolError, match="weights"):
        build("loss", "laplacian", {"levels": 3, "weights": [1.0]}, prefix="model.loss_options")
