"""The `digits-m` feature network: a small CNN classifier of RGB digits on textures, trained on digits-m.

Its 128-d penultimate layer, scaled to unit mean square per dimension on the train split, gives the features of
FID on domain B of the demo pair; its logits give class preservation. During training an auxiliary head also
regresses each image's 4x4 average colour layout (as core's shapes network estimates colours and placement), so the
features describe how an image looks as well as which digit it shows: a classifier alone learns to ignore the
backgrounds and would judge a plain grey digit close to digits-m. `scripts/train_digits_m_classifier.py`
trains it and writes the shipped weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from gentool.api import GentoolError, load_network_weights

WEIGHTS = Path(__file__).parent / "weights" / "digits_m_classifier.safetensors"
LAYOUT = 4  # side of the average-pooled colour layout the auxiliary head regresses


def _conv(c_in: int, c_out: int, k: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]


class DigitsMClassifier(nn.Module):
    """RGB images (N, 3, 28, 28) in [0, 1] -> {"features": (N, 128), "logits": (N, 10)}."""

    feature_dim = 128

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(*_conv(3, 32, 5), *_conv(32, 64, 5), *_conv(64, 96, 3), nn.Flatten())
        self.penultimate = nn.Sequential(nn.Linear(96 * 3 * 3, self.feature_dim), nn.ReLU())
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.feature_dim, num_classes)
        self.layout = nn.Linear(self.feature_dim, 3 * LAYOUT * LAYOUT)  # auxiliary, used in training only
        self.register_buffer("feature_scale", torch.ones(()))

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3 or tuple(x.shape[2:]) != (28, 28):
            raise GentoolError(f"The digits-m network takes 3x28x28 images, got {tuple(x.shape[1:])}.")
        return self.penultimate(self.body(x.clamp(0, 1) * 2 - 1))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.hidden(x)
        return {"features": features * self.feature_scale, "logits": self.head(self.dropout(features))}


def load_digits_m_classifier(config: Any) -> DigitsMClassifier:
    """The classifier with the shipped weights (or `config.weights`), in eval mode."""
    return load_network_weights(DigitsMClassifier(), config, WEIGHTS, "digits-m classifier",
                                "plugins/cyclegan/scripts/train_digits_m_classifier.py", "gentool-cyclegan")
