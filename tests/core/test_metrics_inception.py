"""The FID Inception-v3: layer shapes, TF1 bilinear resizing, and loading self-written weights from each location."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gentool.errors import GentoolError
from gentool.metrics.configs import InceptionConfig
from gentool.metrics.inception import (
    ENV_VAR,
    WEIGHTS_NAME,
    FIDInceptionV3,
    load_inception,
    preprocess,
    resize_bilinear_tf1,
)
from gentool.metrics.inception_blocks import InceptionA


def tf1_resize_loop(image: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """TensorFlow 1.x resize_bilinear (align_corners=False) for one (H, W) image, pixel by pixel."""
    in_h, in_w = image.shape
    out = np.zeros((out_h, out_w))
    for i in range(out_h):
        y = i * (in_h / out_h)
        y0 = min(math.floor(y), in_h - 1)
        y1, fy = min(y0 + 1, in_h - 1), y - y0
        for j in range(out_w):
            x = j * (in_w / out_w)
            x0 = min(math.floor(x), in_w - 1)
            x1, fx = min(x0 + 1, in_w - 1), x - x0
            top = image[y0, x0] + (image[y0, x1] - image[y0, x0]) * fx
            bottom = image[y1, x0] + (image[y1, x1] - image[y1, x0]) * fx
            out[i, j] = top + (bottom - top) * fy
    return out


@pytest.mark.parametrize(("size_in", "size_out"), [((5, 7), (8, 3)), ((28, 28), (299, 299)), ((9, 4), (4, 9))])
def test_resize_matches_tensorflow1_bilinear(size_in, size_out):
    image = np.random.default_rng(0).uniform(0, 255, size=size_in)
    got = resize_bilinear_tf1(torch.from_numpy(image)[None, None], size_out)[0, 0].numpy()
    # TensorFlow (and the code under test) place samples in float32, the loop in float64: 1e-3 of 255 levels
    np.testing.assert_allclose(got, tf1_resize_loop(image, *size_out), rtol=0, atol=1e-3)


def test_preprocess_quantises_repeats_grey_and_scales_like_the_tf_graph():
    grey = torch.full((1, 1, 299, 299), 0.5)
    x = preprocess(grey)
    assert x.shape == (1, 3, 299, 299)
    assert torch.allclose(x, torch.full_like(x, (round(0.5 * 255) - 128) / 128))


def test_average_pools_leave_padding_out():
    block = InceptionA(4, pool_features=2)
    seen = {}
    block.branch_pool.register_forward_hook(lambda m, inp, out: seen.update(pool_input=inp[0]))
    block(torch.ones(1, 4, 5, 5))
    assert torch.allclose(seen["pool_input"], torch.ones(1, 4, 5, 5))  # the border keeps the value 1


def test_layer_shapes_of_the_network():
    net = FIDInceptionV3().eval()
    shapes = {}
    for name in ("Mixed_5d", "Mixed_6a", "Mixed_6e", "Mixed_7a", "Mixed_7c"):
        getattr(net, name).register_forward_hook(lambda m, i, o, name=name: shapes.update({name: tuple(o.shape)}))
    with torch.no_grad():
        out = net(torch.rand(1, 1, 28, 28))
    assert out["features"].shape == (1, 2048) and out["logits"].shape == (1, 1008)
    assert shapes == {"Mixed_5d": (1, 288, 35, 35), "Mixed_6a": (1, 768, 17, 17), "Mixed_6e": (1, 768, 17, 17),
                      "Mixed_7a": (1, 1280, 8, 8), "Mixed_7c": (1, 2048, 8, 8)}
    state = net.state_dict()
    assert state["Mixed_7c.branch3x3dbl_3b.conv.weight"].shape == (384, 384, 3, 1)
    assert state["fc.weight"].shape == (1008, 2048)


@pytest.fixture(scope="module")
def written_weights(tmp_path_factory):
    """A weights file written here: random parameters and batch-norm statistics, saved as a torch state dict."""
    torch.manual_seed(0)
    net = FIDInceptionV3()
    state = net.state_dict()
    for key, value in state.items():
        if key.endswith("running_mean"):
            value.normal_(0, 0.1)
        elif key.endswith("running_var"):
            value.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("weights") / WEIGHTS_NAME
    torch.save(state, path)
    return path, state


def same_state(model: torch.nn.Module, state: dict) -> bool:
    return all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_loads_from_the_config_path(written_weights, monkeypatch, tmp_path):
    path, state = written_weights
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "not-this-one.pth"))  # the config's path comes first
    model = load_inception(InceptionConfig(weights=str(path)))
    assert same_state(model, state) and not model.training


def test_loads_from_the_environment_variable(written_weights, monkeypatch, tmp_path):
    path, state = written_weights
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv(ENV_VAR, str(path))
    assert same_state(load_inception(InceptionConfig()), state)


def test_loads_from_the_torch_hub_checkpoints_folder(written_weights, monkeypatch, tmp_path):
    path, state = written_weights
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / WEIGHTS_NAME).symlink_to(path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert same_state(load_inception(InceptionConfig()), state)


def test_missing_weights_say_where_to_put_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(GentoolError) as caught:
        load_inception(InceptionConfig())
    message = str(caught.value)
    assert str(tmp_path / "torch" / "hub" / "checkpoints" / WEIGHTS_NAME) in message
    assert ENV_VAR in message and "never downloads" in message
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nowhere.pth"))
    with pytest.raises(GentoolError, match="nowhere.pth, which does not exist"):
        load_inception(InceptionConfig())


def test_a_file_of_other_weights_is_refused(monkeypatch, tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(GentoolError, match="does not hold FID Inception-v3 weights"):
        load_inception(InceptionConfig(weights=str(path)))
