"""`trainer.narrow_convs`: convolutions and transposed convolutions to one output channel computed as taps and their
shifted sum give torch's values and gradients, touch only the layers they compute exactly, and train like torch's."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import torch
from support import run_gentool
from torch import nn

from gentool.narrow_conv import NARROW, narrow_eligible, use_narrow_convs

ONE = ["--set", "trainer.log_every=1", "--set", "trainer.sample_every=1000", "--set", "trainer.checkpoint_every=1000"]


def _pair(conv: nn.Module) -> tuple[nn.Module, nn.Module]:
    narrow = copy.deepcopy(conv)
    assert use_narrow_convs(narrow) == [""], "the layer itself should be turned"
    assert type(narrow) is NARROW[type(conv)]
    return conv, narrow


def _same_values_and_gradients(conv: nn.Module, narrow: nn.Module, x: torch.Tensor) -> None:
    results = []
    for net in (conv, narrow):
        xi = x.clone().requires_grad_()
        y = net(xi)
        (y * torch.linspace(-1, 1, y.numel(), dtype=y.dtype).view_as(y)).sum().backward()
        results.append((y.detach(), xi.grad, *(p.grad for p in net.parameters())))
    assert results[0][0].shape == results[1][0].shape
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("kernel", "padding", "size", "channels_last", "bias"),
    [
        (3, 1, (28, 28), True, True),  # a generator's last layer, as the gan models train it
        (3, 0, (10, 12), False, True),
        (5, 2, (9, 7), False, False),
        ((3, 5), (1, 4), (8, 11), True, True),  # non-square kernel, padding up to k - 1
        (7, 6, (5, 5), False, True),  # the output larger than the input
    ],
)
def test_values_and_gradients_are_the_convolutions(kernel, padding, size, channels_last, bias):
    torch.manual_seed(0)
    conv, narrow = _pair(nn.Conv2d(4, 1, kernel, padding=padding, bias=bias).double())
    x = torch.randn(3, 4, *size, dtype=torch.float64)
    _same_values_and_gradients(conv, narrow, x.contiguous(memory_format=torch.channels_last) if channels_last else x)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "output_padding", "channels_last"),
    [
        (4, 2, 1, 0, False),  # a decoder's last layer, as vae and vqvae train it
        (3, 2, 1, 1, True),
        ((3, 5), (1, 2), (0, 2), (0, 1), False),
        (5, 3, 2, 2, False),
    ],
)
def test_transposed_values_and_gradients_are_torchs(kernel, stride, padding, output_padding, channels_last):
    torch.manual_seed(0)
    conv, narrow = _pair(nn.ConvTranspose2d(6, 1, kernel, stride, padding, output_padding).double())
    x = torch.randn(3, 6, 7, 6, dtype=torch.float64)
    _same_values_and_gradients(conv, narrow, x.contiguous(memory_format=torch.channels_last) if channels_last else x)


def test_a_penalty_that_differentiates_twice_gets_the_convolutions_gradient():
    torch.manual_seed(0)
    conv, narrow = _pair(nn.Conv2d(3, 1, 3, padding=1).double())
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64)
    penalties = []
    for net in (conv, narrow):
        xi = x.clone().requires_grad_()
        (grad,) = torch.autograd.grad(net(xi).square().sum(), xi, create_graph=True)  # R1-style
        grad.square().sum().backward()
        penalties.append([p.grad for p in net.parameters()])
    for a, b in zip(*penalties):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_bf16_autocast_gives_torchs_dtype_and_values():
    torch.manual_seed(0)
    conv, narrow = _pair(nn.Conv2d(8, 1, 3, padding=1))
    x = torch.randn(2, 8, 6, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        a, b = conv(x), narrow(x)
    assert a.dtype == b.dtype == torch.bfloat16
    torch.testing.assert_close(a.float(), b.float(), rtol=0.02, atol=0.02)


def test_only_the_layers_it_computes_exactly_are_turned():
    model = nn.Sequential(
        nn.Conv2d(4, 1, 3, padding=1),  # 0: turned
        nn.Conv2d(4, 3, 3, padding=1),  # more than one output channel: measured slower (docs/benchmarks.md)
        nn.Conv2d(4, 1, 1),  # 1x1: nothing to gain
        nn.Conv2d(4, 1, 3, stride=2, padding=1),
        nn.Conv2d(4, 1, 3, dilation=2, padding=2),
        nn.Conv2d(4, 1, 3, padding=1, padding_mode="reflect"),
        nn.Conv2d(4, 1, 3, padding="same"),
        nn.Conv2d(4, 1, 3, padding=3),  # padding over k - 1
        nn.utils.parametrizations.spectral_norm(nn.Conv2d(4, 1, 3, padding=1)),  # a parametrized weight
        type("OwnConv", (nn.Conv2d,), {})(4, 1, 3, padding=1),  # a subclass keeps its own forward
        nn.ConvTranspose2d(4, 1, 4, 2, 1),  # 10: turned
        nn.ConvTranspose2d(4, 2, 4, 2, 1),
        nn.ConvTranspose2d(4, 1, 4, 2, 1, dilation=2),
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert use_narrow_convs(model) == ["0", "10"]
    assert [narrow_eligible(m) for m in model] == [False] * len(model)  # turned already, or never eligible
    after = model.state_dict()
    assert list(after) == list(before) and all(torch.equal(before[k], after[k]) for k in before)


def test_other_inputs_take_torchs_convolution():
    conv, narrow = _pair(nn.Conv2d(2, 1, 3, padding=1))
    x = torch.randn(2, 5, 5)  # unbatched
    torch.testing.assert_close(conv(x), narrow(x), rtol=0, atol=0)
    conv, narrow = _pair(nn.ConvTranspose2d(2, 1, 3, 2, 1))
    x = torch.randn(1, 2, 5, 5)
    assert narrow(x, output_size=[10, 10]).shape == (1, 1, 10, 10)  # an asked-for size: torch's own path
    torch.testing.assert_close(conv(x, output_size=[10, 10]), narrow(x, output_size=[10, 10]), rtol=0, atol=0)


def test_a_run_reports_its_narrow_convs_trains_like_torchs_and_its_weights_load_in_a_new_process(tmp_path):
    runs = {}
    for value in ("false", "true"):
        runs[value] = tmp_path / value
        result = run_gentool("run", "--model", "gan", "--steps", "2", "--out", str(runs[value]), *ONE,
                             "--set", f"trainer.narrow_convs={value}")
        assert result.code == 0, result.text
    first = [[json.loads(line) for line in (runs[v] / "metrics.jsonl").read_text().splitlines()] for v in runs]
    for a, b in zip(*first):
        for key in ("d_loss", "g_loss"):
            assert a[key] == pytest.approx(b[key], rel=1e-3, abs=1e-5), (key, a[key], b[key])
    assert json.loads((runs["false"] / "summary.json").read_text())["narrow_convs"] == []
    turned = json.loads((runs["true"] / "summary.json").read_text())["narrow_convs"]
    assert len(turned) == 1 and turned[0].startswith("generator.")
    code = (  # a new process builds torch's layers; turning them there samples the same images
        "import torch, gentool\n"
        "from gentool.narrow_conv import use_narrow_convs\n"
        "torch.set_grad_enabled(False)\n"
        f"model = gentool.load({str(runs['true'])!r})\n"
        "assert not any(type(m).__name__ == 'NarrowConv2d' for m in model.modules())\n"
        "x = model.sample(8, generator=torch.Generator().manual_seed(0))\n"
        "assert len(use_narrow_convs(model)) == 1\n"
        "y = model.sample(8, generator=torch.Generator().manual_seed(0))\n"
        "assert x.shape == (8, 1, 28, 28) and float(x.std()) > 0\n"
        "torch.testing.assert_close(x, y, rtol=0, atol=1e-5)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
