"""The `digits` feature network: a small CNN classifier of 28x28 grey digits, trained on the digits train split.

Its 128-d penultimate layer gives the features of FID, KID and precision/recall, scaled by a constant stored with
the weights so that they have unit mean square per dimension on the train split (so the cubic KID kernel sees
inner products near 1); its logits give the inception score and the class metrics. `scripts/train_digits_classifier.py` trains it and writes the shipped weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gentool.errors import GentoolError
from gentool.metrics.network_weights import load_network_weights

WEIGHTS = Path(__file__).parent / "weights" / "digits_classifier.safetensors"
MEAN, STD = 0.1307, 0.3081  # pixel statistics of handwritten digits


def _conv(c_in: int, c_out: int, k: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


class DigitsClassifier(nn.Module):
    """Images (N, 1, 28, 28) in [0, 1] -> {"features": (N, 128), "logits": (N, 10)}; larger grey images (padded
    digits) are centre-cropped to 28x28."""

    feature_dim = 128

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv(1, 16, 5), *_conv(16, 32, 5), *_conv(32, 64, 3), nn.Flatten())
        self.penultimate = nn.Sequential(nn.Linear(64 * 3 * 3, self.feature_dim), nn.ReLU())
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.feature_dim, num_classes)
        self.register_buffer("feature_scale", torch.ones(()))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.dim() != 4 or x.shape[1] != 1 or min(x.shape[2:]) < 28:
            raise GentoolError(f"The digits network takes 1x28x28 images, got {tuple(x.shape[1:])}.")
        top, left = (x.shape[2] - 28) // 2, (x.shape[3] - 28) // 2
        x = x[:, :, top : top + 28, left : left + 28]
        features = self.penultimate(self.body((x.clamp(0, 1) - MEAN) / STD))
        return {"features": features * self.feature_scale, "logits": self.head(self.dropout(features))}


def load_digits_classifier(config: Any) -> DigitsClassifier:
    """The classifier with the shipped weights (or `config.weights`), in eval mode."""
    return load_network_weights(DigitsClassifier(), config, WEIGHTS, "digits classifier",
                                "scripts/train_digits_classifier.py", "gentool-core")
