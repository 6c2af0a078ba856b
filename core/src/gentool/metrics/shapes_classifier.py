"""The `shapes` feature network: a small CNN trained on the shapes train split to tell the six shapes apart and to
estimate each image's shape colour, background colour, size and position.

The estimates are an auxiliary task during training only; they make the 128-d penultimate features (the features
of FID, KID and precision/recall) describe colour and placement as well as shape. The features are scaled to unit
mean square per dimension on the train split. `scripts/train_shapes_classifier.py` writes the shipped weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gentool.errors import GentoolError
from gentool.metrics.network_weights import load_network_weights

WEIGHTS = Path(__file__).parent / "weights" / "shapes_classifier.safetensors"
SIZE = 32


def _conv(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


class ShapesClassifier(nn.Module):
    """RGB images (N, 3, H, W) in [0, 1] -> {"features": (N, 128), "logits": (N, 6)}; sizes other than 32x32 are
    resized to it (bilinear, antialiased)."""

    feature_dim = 128

    def __init__(self, num_classes: int = 6) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv(3, 16), *_conv(16, 32), *_conv(32, 48), nn.Flatten())
        self.penultimate = nn.Sequential(nn.Linear(48 * 4 * 4, self.feature_dim), nn.ReLU())
        self.head = nn.Linear(self.feature_dim, num_classes)
        self.register_buffer("feature_scale", torch.ones(()))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The unscaled penultimate features (N, 128)."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise GentoolError(f"The shapes network takes RGB images, got shape {tuple(x.shape[1:])}.")
        if x.shape[2:] != (SIZE, SIZE):
            x = F.interpolate(x, size=(SIZE, SIZE), mode="bilinear", antialias=True, align_corners=False)
        return self.penultimate(self.body(x.clamp(0, 1) * 2 - 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.hidden(x)
        return {"features": features * self.feature_scale, "logits": self.head(features)}


def load_shapes_classifier(config: Any) -> ShapesClassifier:
    """The classifier with the shipped weights (or `config.weights`), in eval mode."""
    return load_network_weights(ShapesClassifier(), config, WEIGHTS, "shapes classifier",
                                "scripts/train_shapes_classifier.py", "gentool-core")
