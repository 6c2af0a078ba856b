"""The networks' maths against values computed independently here: modulation and demodulation, the mapping network
and truncation, the growing generator and discriminator, the path-length regulariser."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gentool_stylegan.discriminator import Discriminator
from gentool_stylegan.generator import Generator, MappingNetwork
from gentool_stylegan.layers import ModulatedConv, minibatch_stddev, modulated_conv2d, upsample
from gentool_stylegan.regularize import lazy_adam_hyper, path_length_penalty

SIZES = {"channel_base": 256, "channel_max": 16}


def test_modulated_conv_equals_per_sample_kernels_scaled_to_unit_norm():
    torch.manual_seed(0)
    x, weight, styles = torch.randn(3, 4, 6, 6), torch.randn(5, 4, 3, 3), torch.rand(3, 4) + 0.5
    expected = []
    for i in range(3):  # StyleGAN2 eq. 1-3 written out: w' = s w, w'' = w' / sqrt(sum w'^2 + eps)
        w1 = weight * styles[i][None, :, None, None]
        w2 = w1 / torch.sqrt(w1.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        expected.append(F.conv2d(x[i : i + 1], w2, padding=1))
    assert torch.allclose(modulated_conv2d(x, weight, styles), torch.cat(expected), atol=1e-5)
    plain = torch.cat([F.conv2d(x[i : i + 1], weight * styles[i][None, :, None, None], padding=1) for i in range(3)])
    assert torch.allclose(modulated_conv2d(x, weight, styles, demodulate=False), plain, atol=1e-5)


def test_modulated_layer_keeps_unit_scale_and_ignores_the_style_magnitude():
    torch.manual_seed(0)
    layer = ModulatedConv(64, 64, 8, activate=False, noise=False)
    x, w = torch.randn(16, 64, 8, 8), torch.randn(16, 8)
    with torch.no_grad():
        y = layer(x, w)
    assert 0.8 < float(y.std()) < 1.2  # demodulation restores unit variance for unit-variance inputs
    with torch.no_grad():  # scaling every style of a sample by 3 changes nothing after demodulation
        layer.affine.weight.mul_(3.0)
        layer.affine.bias.mul_(3.0)
        assert torch.allclose(layer(x, w), y, atol=1e-4)


@pytest.mark.parametrize("depth", [1, 2, 8])
def test_mapping_network_has_the_configured_depth(depth):
    mapping = MappingNetwork(16, 24, depth)
    assert len(mapping.layers) == depth
    assert mapping(torch.randn(5, 16)).shape == (5, 24)


def test_truncation_pulls_towards_the_tracked_mean_style():
    torch.manual_seed(0)
    g = Generator(z_dim=8, w_dim=8, mapping_layers=2, num_classes=0, channels=1, levels=3, **SIZES)
    z = torch.randn(2000, 8)
    g.mapping.w_avg_beta = 0.0  # one tracking call sets the mean to this batch's mean w
    w = g.mapping(z, track=True)
    assert torch.allclose(g.mapping.w_avg[0], w.mean(0), atol=1e-6)
    assert g.num_ws == 6
    z = torch.randn(4, 8)
    free, mean = g.styles(z), g.styles(z, psi=0.0)
    assert torch.allclose(mean, g.mapping.w_avg[0].expand(4, 6, 8), atol=1e-6)  # psi = 0: the mean style everywhere
    half = g.styles(z, psi=0.5)
    assert torch.allclose(half, (free + mean) / 2, atol=1e-5)
    cut = g.styles(z, psi=0.0, cutoff=2)  # only the first two layers' styles are truncated
    assert torch.allclose(cut[:, :2], mean[:, :2]) and torch.allclose(cut[:, 2:], free[:, 2:])


def test_conditional_mapping_tracks_one_mean_per_class():
    torch.manual_seed(0)
    mapping = MappingNetwork(8, 8, 2, num_classes=3, w_avg_beta=0.0)
    labels = torch.tensor([0, 0, 2, 2, 2])
    w = mapping(torch.randn(5, 8), labels, track=True)
    assert torch.allclose(mapping.w_avg[0], w[:2].mean(0), atol=1e-6)
    assert torch.allclose(mapping.w_avg[2], w[2:].mean(0), atol=1e-6)
    assert torch.equal(mapping.w_avg[1], torch.zeros(8))  # a class absent from the batch keeps its mean


def test_style_mixing_takes_later_layers_from_the_second_latent():
    torch.manual_seed(0)
    g = Generator(z_dim=8, w_dim=8, mapping_layers=2, num_classes=0, channels=1, levels=3, **SIZES)
    z1, z2 = torch.randn(3, 8), torch.randn(3, 8)
    ws = g.styles(z1)
    mixed = g.mix(ws, z2, None, probability=1.0)
    first = g.styles(z2)
    same = (mixed == ws).all(dim=2).all(dim=0)  # per layer: still z1's style
    crossover = int((~same).nonzero()[0])
    assert 1 <= crossover < g.num_ws and same[:crossover].all()
    assert torch.allclose(mixed[:, crossover:], first[:, crossover:])
    assert torch.equal(g.mix(ws, z2, None, probability=0.0), ws)


def test_generator_grows_and_a_new_level_starts_as_the_upsampled_coarser_image():
    torch.manual_seed(0)
    g = Generator(z_dim=8, w_dim=8, mapping_layers=2, num_classes=0, channels=3, levels=4, **SIZES)
    ws = g.styles(torch.randn(2, 8))
    noise = [torch.randn(2, 1, h, w) for h, w in g.synthesis.noise_shapes()]
    sizes = [g.synthesis(ws, level, 1.0, noise).shape[-1] for level in range(4)]
    assert sizes == [4, 8, 16, 32]
    coarse = g.synthesis(ws, 1, 1.0, noise)
    faded_out = g.synthesis(ws, 2, 0.0, noise)
    assert torch.allclose(faded_out, upsample(coarse), atol=1e-6)  # alpha = 0: nothing of the new level yet
    full = g.synthesis(ws, 2, 1.0, noise)
    half = g.synthesis(ws, 2, 0.5, noise)
    assert torch.allclose(half, (faded_out + full) / 2, atol=1e-5)


def test_tanh_output_bounds_the_linear_skip_sum_and_keeps_the_fade():
    torch.manual_seed(0)
    linear = Generator(z_dim=8, w_dim=8, mapping_layers=2, num_classes=0, channels=1, levels=3, **SIZES)
    bounded = Generator(z_dim=8, w_dim=8, mapping_layers=2, num_classes=0, channels=1, levels=3, output="tanh", **SIZES)
    bounded.load_state_dict(linear.state_dict())
    ws = linear.styles(torch.randn(4, 8))
    with torch.no_grad():
        linear.synthesis.torgb[-1].bias.fill_(-2.0)  # a background below the reals' -1
        bounded.synthesis.torgb[-1].bias.fill_(-2.0)
    noise = [torch.randn(4, 1, h, w) for h, w in linear.synthesis.noise_shapes()]
    with torch.no_grad():
        raw = linear.synthesis(ws, None, 1.0, noise)
        out = bounded.synthesis(ws, None, 1.0, noise)
        assert float(raw.min()) < -1.0 and float(out.abs().max()) <= 1.0
        assert torch.allclose(out, torch.tanh(raw), atol=1e-6)
        half = bounded.synthesis(ws, 2, 0.5, noise)  # the fade mixes before the activation
        assert torch.allclose(half, torch.tanh(linear.synthesis(ws, 2, 0.5, noise)), atol=1e-6)


def test_discriminator_fades_between_its_fromrgb_paths():
    torch.manual_seed(0)
    d = Discriminator(channels=3, levels=4, growing=True, **SIZES)
    x = torch.randn(4, 3, 16, 16)
    faded_out = d(x, None, level=2, alpha=0.0)
    assert torch.allclose(faded_out, d(F.avg_pool2d(x, 2), None, level=1), atol=1e-5)
    assert not torch.allclose(faded_out, d(x, None, level=2, alpha=1.0))
    fixed = Discriminator(channels=3, levels=4, **SIZES)
    assert list(fixed.fromrgb) == ["3"]  # without growth only the full-size fromRGB exists
    assert fixed(torch.randn(4, 3, 32, 32)).shape == (4,)


def test_minibatch_stddev_appends_the_group_deviation():
    x = torch.randn(8, 3, 4, 4)
    y = minibatch_stddev(x, 4)
    assert y.shape == (8, 4, 4, 4)
    group = x[[1, 3, 5, 7]]  # sample 1 is grouped with 3, 5 and 7 (samples i, i + 2, i + 4, i + 6)
    expected = (group.var(dim=0, unbiased=False) + 1e-8).sqrt().mean()
    assert torch.allclose(y[1, 3], expected.expand(4, 4), atol=1e-6)


def test_path_length_penalty_updates_its_running_mean():
    torch.manual_seed(0)
    ws = torch.randn(4, 2, 3, requires_grad=True)
    images = torch.tanh(ws.sum(dim=1)).reshape(4, 3, 1, 1).expand(4, 3, 2, 2)
    pl_mean = torch.zeros(())
    penalty = path_length_penalty(images, ws, pl_mean)
    assert 0 < float(pl_mean) < 1 and penalty.requires_grad  # 0.01 of this batch's mean length; a graph to G


def test_lazy_regularisation_corrects_adam():
    lr, betas = lazy_adam_hyper(0.0025, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.0025 * 16 / 17) and betas == (0.0, pytest.approx(0.99 ** (16 / 17)))
    assert lazy_adam_hyper(0.002, (0.5, 0.9), 0) == (0.002, (0.5, 0.9))
