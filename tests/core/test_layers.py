"""Shared building blocks: DCGAN sizing, its initialisation, optional spectral norm, cheap dropout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gentool.errors import GentoolError
from gentool.layers import Dropout, dcgan_init, doubling_steps, dropout, frozen, spectral_norm_if, strided_features


@pytest.mark.parametrize("size, steps", [((28, 28), 2), ((32, 32), 3), ((64, 64), 4), ((48, 48), 3), ((24, 48), 3)])
def test_doubling_steps_reach_the_image_from_a_small_seed(size, steps):
    assert doubling_steps(*size) == steps
    assert 3 <= size[0] / 2**steps <= 7


def test_unsizable_images_name_the_model_and_the_sizes_that_work():
    with pytest.raises(GentoolError, match=r"The gan model cannot be sized for 30x30 images.*28, 32, 48, 64"):
        doubling_steps(30, 30, "The gan model")


def test_dcgan_init_draws_small_weights_and_zero_biases():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 64, 4), nn.BatchNorm2d(64), nn.Linear(64, 256))
    dcgan_init(net)
    assert abs(net[0].weight.std().item() - 0.02) < 0.002 and net[0].bias.abs().max() == 0
    assert abs(net[1].weight.mean().item() - 1.0) < 0.01 and net[1].bias.abs().max() == 0


def test_spectral_norm_brings_the_largest_singular_value_to_one():
    torch.manual_seed(0)
    layer = spectral_norm_if(True)(nn.Linear(16, 16))
    for _ in range(20):  # power iterations run on forward passes in training mode
        layer(torch.randn(4, 16))
    assert abs(torch.linalg.matrix_norm(layer.weight, ord=2).item() - 1.0) < 0.05
    plain = nn.Linear(16, 16)
    assert spectral_norm_if(False)(plain) is plain


def test_frozen_module_passes_gradients_through_but_collects_none():
    net = nn.Linear(3, 1)
    net.bias.requires_grad_(False)  # a flag set by the caller survives the block
    x = torch.randn(4, 3, requires_grad=True)
    with frozen(net):
        net(x).sum().backward()
    assert net.weight.grad is None and x.grad is not None
    assert net.weight.requires_grad and not net.bias.requires_grad


def test_strided_features_halve_the_size_and_double_the_channels():
    trunk, channels = strided_features(3, 8, 3, spectral_norm_if(False), batch_norm=True)
    assert channels == 32 and trunk(torch.randn(2, 3, 32, 32)).shape == (2, 32 * 4 * 4)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in trunk) == 2  # none after the first convolution


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_zeroes_the_rounded_share_and_keeps_the_mean(p):
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = dropout(x, p, training=True)
    rounded = round(p * 256) / 256
    dropped = float((y == 0).double().mean())
    assert abs(dropped - rounded) < 0.005
    assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - rounded)))
    assert abs(float(y.mean()) - 1.0) < 0.01
    assert dropout(x, p, training=False) is x


def test_dropout_draws_every_byte_of_its_words_independently():
    torch.manual_seed(1)
    y = dropout(torch.ones(8 * 40_000), 0.5, training=True).view(-1, 8)  # element i uses byte i % 8 of a word
    kept = (y != 0).double().mean(0)
    assert torch.all((kept - 0.5).abs() < 0.015), kept
    pairs = ((y[:, 0] != 0) & (y[:, 7] != 0)).double().mean()  # the lowest and highest byte of each word
    assert abs(float(pairs) - 0.25) < 0.015


def test_dropout_gradient_is_its_mask_and_the_same_seed_repeats_it():
    x = torch.randn(64, 49, 64, requires_grad=True)
    torch.manual_seed(3)
    y = dropout(x, 0.1, training=True)
    y.sum().backward()
    assert torch.allclose(x.grad, (y != 0).float() / (1 - 26 / 256))
    torch.manual_seed(3)
    assert torch.equal(dropout(x, 0.1, training=True), y)
    module = Dropout(0.1).eval()
    assert module(x) is x
