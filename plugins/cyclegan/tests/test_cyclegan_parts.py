"""The networks, the image pool and the L1 terms, each checked against values computed independently here."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from gentool_cyclegan.maths import (
    cycle_loss,
    identity_loss,
    median_over_views,
    random_shift,
    shifted,
    shuffle_channels,
    to_channels,
)
from gentool_cyclegan.networks import (
    FewChannelConv2d,
    InstanceNorm,
    PatchDiscriminator,
    ResnetGenerator,
    UnetGenerator,
    patch_grid,
)
from gentool_cyclegan.pool import ImagePool


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
@pytest.mark.parametrize("c_in, c_out, size", [(1, 3, 28), (3, 1, 32), (3, 3, 64)])
def test_generators_keep_the_size_and_change_the_channels(c_in, c_out, size, upsample):
    x = torch.rand(2, c_in, size, size) * 2 - 1
    for net in (ResnetGenerator(c_in, c_out, 8, 2, 2, upsample=upsample), UnetGenerator(c_in, c_out, 8, 2, upsample=upsample)):
        y = net(x)
        assert y.shape == (2, c_out, size, size)
        assert y.abs().max() <= 1  # tanh


def test_unet_uses_its_skip_connections():
    torch.manual_seed(0)
    net = UnetGenerator(1, 1, 8, 3, norm="none").eval()
    x = torch.rand(1, 1, 32, 32, requires_grad=True)
    net(x)[0, 0, 5, 5].backward()
    # without skips a pixel would depend on the whole 4x4 block its bottleneck cell covers alike; the
    # full-resolution skip makes its own input pixel count more than a neighbour in the same block
    assert x.grad[0, 0, 5, 5].abs() > 0
    assert not torch.allclose(x.grad[0, 0, :8, :8], x.grad[0, 0, 5, 5].expand(8, 8))


@pytest.mark.parametrize("layers, size", [(1, 28), (2, 28), (3, 28), (3, 64), (2, 32)])
def test_patch_discriminator_scores_a_grid_of_patches(layers, size):
    disc = PatchDiscriminator(3, 8, layers)
    out = disc(torch.rand(2, 3, size, size))
    side = patch_grid(size, layers)
    assert out.shape == (2, 1, side, side) and side >= 1


def test_patch_discriminator_at_256_px_sees_the_reference_70px_patches():
    assert patch_grid(256, 3) == 30  # the reference's 30x30 map of 70x70 patches
    disc = PatchDiscriminator(1, 4, 3, norm="none").eval()  # instance norm would couple every pixel
    x = torch.zeros(1, 1, 256, 256, requires_grad=True)
    disc(x)[0, 0, 15, 15].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    assert rows.max() - rows.min() + 1 <= 70


def test_cycle_and_identity_losses_are_weighted_mean_absolute_differences():
    x = torch.tensor([[[[0.0, 0.5], [1.0, 0.25]]]])
    back = torch.tensor([[[[0.1, 0.5], [0.5, 0.75]]]])
    # |0-0.1| + 0 + |1-0.5| + |0.25-0.75| = 1.1 over 4 pixels = 0.275
    assert cycle_loss(x, back, 10.0).item() == pytest.approx(2.75)
    assert identity_loss(x, back, 5.0).item() == pytest.approx(1.375)
    assert cycle_loss(x, x, 10.0).item() == 0


def test_jitter_moves_each_image_by_its_own_offset_within_the_bound():
    torch.manual_seed(0)
    x = torch.zeros(64, 3, 12, 12)
    x[:, :, 6, 6] = torch.arange(1.0, 65.0)[:, None]  # one bright pixel per image
    moved = random_shift(x, 2)
    assert moved.shape == x.shape and torch.equal(random_shift(x, 0), x)
    offsets = set()
    for i in range(64):
        rows, cols = (moved[i, 0] == i + 1).nonzero(as_tuple=True)
        assert len(rows) == 1 and torch.equal(moved[i, 1], moved[i, 0])  # the pixel kept, on every channel
        dy, dx = 6 - int(rows), 6 - int(cols)
        assert abs(dy) <= 2 and abs(dx) <= 2
        offsets.add((dy, dx))
    assert len(offsets) > 10  # images do not share one offset
    edge = torch.arange(12.0).expand(1, 1, 12, 12)  # columns 0..11: replicated edges keep the range
    assert random_shift(edge, 3).min() == 0 and random_shift(edge, 3).max() == 11


def test_channel_shuffle_gives_each_image_an_order_of_its_own_channels():
    torch.manual_seed(0)
    x = torch.rand(200, 3, 5, 5)
    shuffled = shuffle_channels(x)
    orders = set()
    for i in range(200):  # each output channel is one of the image's own channels, each used once
        order = tuple(next(j for j in range(3) if torch.equal(shuffled[i, k], x[i, j])) for k in range(3))
        assert sorted(order) == [0, 1, 2]
        orders.add(order)
    assert len(orders) == 6  # all six orders occur, the identity among them
    grey = torch.rand(4, 1, 5, 5)
    assert shuffle_channels(grey) is grey


def test_channel_conversion_matches_pillow_grey_and_repeats_grey():
    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    grey = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float64)
    x = torch.from_numpy(rgb.transpose(2, 0, 1)[None].astype(np.float64))
    assert np.abs(to_channels(x, 1)[0, 0].numpy() - grey).max() <= 0.5 + 1e-9  # Pillow rounds to integers
    g = torch.rand(2, 1, 4, 4)
    assert torch.equal(to_channels(g, 3), g.repeat(1, 3, 1, 1)) and to_channels(g, 1) is g


def _distinct(n, start=0):
    return torch.arange(start, start + n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()


def test_pool_passes_fakes_through_until_full_then_returns_about_half_old_ones():
    pool = ImagePool(size=10, seed=0)
    first = _distinct(10)
    assert torch.equal(pool.query(first), first) and len(pool) == 10  # filling: returned as given, all kept
    new = _distinct(1000, start=100)
    out = pool.query(new)
    assert out.shape == new.shape and len(pool) == 10
    ids = out[:, 0, 0, 0]
    old = ids != new[:, 0, 0, 0]
    assert 0.45 < old.double().mean() < 0.55
    # every old image handed out had been put into the pool before (an earlier fake of this very call or a first one)
    for k in torch.nonzero(old).flatten().tolist():
        value = ids[k].item()
        assert value < 10 or (100 <= value < 100 + k)


def test_pool_of_size_zero_is_off():
    pool = ImagePool(size=0)
    x = torch.rand(3, 1, 2, 2)
    assert pool.query(x) is x and len(pool) == 0


def test_pool_state_restores_the_same_future():
    pool = ImagePool(size=5, seed=3)
    pool.query(_distinct(8))
    state = pool.state("p.")
    restored = ImagePool(size=5, seed=99)
    restored.load_state({k: v.clone() for k, v in state.items()}, "p.")
    later = _distinct(50, start=1000)
    assert torch.equal(pool.query(later), restored.query(later))
    assert torch.equal(pool.images, restored.images)


def test_the_faster_kernels_compute_what_torchs_layers_do():
    torch.manual_seed(0)
    x = torch.randn(4, 16, 12, 12) * 3 + 1
    torch.testing.assert_close(InstanceNorm(16)(x), nn.InstanceNorm2d(16)(x), rtol=1e-5, atol=1e-5)
    conv = FewChannelConv2d(16, 3, 7)
    plain = nn.Conv2d(16, 3, 7)
    plain.load_state_dict(conv.state_dict())  # the same parameter names: checkpoints load either way
    out = conv(x)
    torch.testing.assert_close(out, plain(x), rtol=1e-4, atol=1e-5)
    assert out.is_contiguous()  # handed back in the input's (NCHW) order
    cl = conv(x.contiguous(memory_format=torch.channels_last))
    assert cl.is_contiguous(memory_format=torch.channels_last)


def test_shifted_moves_the_content_and_replicates_the_edges():
    x = torch.arange(12.0).reshape(1, 1, 3, 4)
    down_left = shifted(x, 1, -2)
    assert down_left[0, 0].tolist() == [[2, 3, 3, 3], [2, 3, 3, 3], [6, 7, 7, 7]]
    assert torch.equal(shifted(x, 0, 0), x) and torch.equal(shifted(shifted(x, 1, 1), -1, -1)[..., :2, :3], x[..., :2, :3])


def test_median_over_channel_orders_of_the_first_channel_is_the_median_channel():
    x = torch.rand(5, 3, 6, 7)
    first = median_over_views(lambda t: t[:, :1].clone(), x, channel_orders=True, shift=0)
    # each channel comes first in two of the six orders, so the median of the six is the middle one of the three
    assert torch.equal(first, x.median(dim=1, keepdim=True).values)
    assert torch.equal(median_over_views(lambda t: t[:, :1].clone(), x, channel_orders=False, shift=0), x[:, :1])


def test_median_over_views_outvotes_a_view_gone_wrong_and_does_not_depend_on_chunks():
    x = torch.rand(6, 3, 8, 8)
    calls = []

    def once(t):  # a per-pixel map (so shift-equivariant) that fails on the third view it is given
        calls.append(1)
        return t.mean(1, keepdim=True) + (5.0 if len(calls) % 18 == 3 else 0.0)

    views = median_over_views(once, x, channel_orders=True, shift=1)  # 6 orders x 9 offsets
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # away from the replicated edges
    assert torch.allclose(views[inner], x.mean(1, keepdim=True)[inner], atol=1e-6)
    calls.clear()
    chunked = median_over_views(once, x, channel_orders=True, shift=1, budget=3 * 64 * 54)
    assert len(calls) == 54 * 6 and torch.allclose(chunked, views)  # one image per chunk, the same medians
