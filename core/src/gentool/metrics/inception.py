"""The `inception` feature network: the standard FID Inception-v3, loaded from a local weights file only.

Preprocessing follows the reference FID pipeline of torch-fidelity and the original TensorFlow graph: images in
[0, 1] are taken to the 8-bit levels an image file holds (x·255, rounded; grey repeated to RGB), resized to 299x299
with TensorFlow 1.x bilinear resampling (no half-pixel offset), and scaled as (x - 128) / 128. Features are the
2048-d average pool; logits the graph's 1008 classes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gentool.errors import GentoolError
from gentool.metrics.inception_blocks import BasicConv2d, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE

WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{WEIGHTS_NAME}"
ENV_VAR = "GENTOOL_INCEPTION_WEIGHTS"
SIZE = 299


def _tf1_axis(n_in: int, n_out: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    scale = torch.tensor(n_in / n_out, dtype=torch.float32)
    position = torch.arange(n_out, dtype=torch.float32) * scale
    low = position.floor().long().clamp(max=n_in - 1)
    high = (low + 1).clamp(max=n_in - 1)
    return low.to(device), high.to(device), (position - low).to(device)


def resize_bilinear_tf1(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of (N, C, H, W) to `size` as TensorFlow 1.x's resize_bilinear (align_corners=False): output
    pixel i samples input position i·(in/out), interpolating between floor and the next pixel (clamped)."""
    y0, y1, wy = _tf1_axis(x.shape[2], size[0], x.device)
    x0, x1, wx = _tf1_axis(x.shape[3], size[1], x.device)
    top, bottom = x[:, :, y0], x[:, :, y1]
    top = top[..., x0] + (top[..., x1] - top[..., x0]) * wx.to(x.dtype)
    bottom = bottom[..., x0] + (bottom[..., x1] - bottom[..., x0]) * wx.to(x.dtype)
    return top + (bottom - top) * wy.to(x.dtype)[:, None]


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """Images (N, 1 or 3, H, W) in [0, 1] -> the network's input (N, 3, 299, 299) in [-1, 1]."""
    if images.shape[1] not in (1, 3):
        raise GentoolError(f"The inception network takes grey or RGB images, got {images.shape[1]} channels.")
    x = (images.float().clamp(0, 1) * 255).round()
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    if x.shape[2:] != (SIZE, SIZE):
        x = resize_bilinear_tf1(x, (SIZE, SIZE))
    return (x - 128) / 128


class FIDInceptionV3(nn.Module):
    """Images (N, C, H, W) in [0, 1] -> {"features": (N, 2048), "logits": (N, 1008)}; random weights until loaded."""

    feature_dim = 2048

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        x = preprocess(images)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, kernel_size=3, stride=2)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        features = x.mean(dim=(2, 3))
        return {"features": features, "logits": self.fc(features)}


def default_weights_path() -> Path:
    """Where torch hub keeps downloaded checkpoints (honours $TORCH_HOME): ~/.cache/torch/hub/checkpoints/…"""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_NAME


def find_weights(config: Any = None) -> Path:
    """The weights file: `config.weights`, else $GENTOOL_INCEPTION_WEIGHTS, else the torch hub checkpoints folder;
    a GentoolError saying where to put the file when it is missing."""
    given = getattr(config, "weights", None)
    if given:
        source, path = "metric.features_options.weights", Path(given).expanduser()
    elif os.environ.get(ENV_VAR):
        source, path = f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser()
    else:
        source, path = "", default_weights_path()
    if path.is_file():
        return path
    where = f"{source} names {path}, which does not exist" if source else f"no file at {path}"
    raise GentoolError(
        f"The FID Inception weights are not on this machine ({where}); gentool never downloads them. Copy "
        f"{WEIGHTS_NAME} (from {WEIGHTS_URL}) to {default_weights_path()}, or set {ENV_VAR}=/path/to/{WEIGHTS_NAME} "
        "(or --set metric.features_options.weights=PATH)."
    )


def load_inception(config: Any = None) -> FIDInceptionV3:
    """The FID Inception-v3 with weights from `find_weights(config)`, in eval mode."""
    path = find_weights(config)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise GentoolError(f'"{path}" is not a readable torch weights file ({type(exc).__name__}: {exc}).') from None
    if not isinstance(state, dict):
        raise GentoolError(f'"{path}" does not hold a state dict of FID Inception-v3 weights.')
    model = FIDInceptionV3()
    state = {k: v for k, v in state.items() if not k.startswith("AuxLogits.")}
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise GentoolError(f'"{path}" does not hold FID Inception-v3 weights: {exc}') from None
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise GentoolError(
            f'"{path}" does not hold FID Inception-v3 weights: {len(missing)} missing keys (e.g. '
            f"{missing[:2]}) and {len(unexpected)} unexpected keys (e.g. {unexpected[:2]})."
        )
    return model.eval()
