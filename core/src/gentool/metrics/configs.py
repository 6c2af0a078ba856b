"""Options of the built-in metrics and feature networks (pydantic only: importing this module imports no torch)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from gentool.config import ComponentConfig

FEATURES_HELP = (
    'feature network (see `gentool list features`); "auto": the raw coordinates for points, else a network named '
    "after the dataset when one is registered, else digits for 28x28 grey images, else inception"
)


class FeaturesOptions(ComponentConfig):
    """Which feature network a metric compares in, and that network's own options."""

    features: str = Field("auto", description=FEATURES_HELP)
    features_options: dict[str, Any] = Field(
        default_factory=dict, description='options of the feature network, e.g. {weights = "/path/to/file.pth"}'
    )


class FIDConfig(FeaturesOptions):
    """Fréchet distance between generated samples (and reconstructions) and the test split."""

    reconstructions: bool = Field(True, description="also report rfid of the reconstructions when the model has them")


class KIDConfig(FeaturesOptions):
    """Kernel Inception Distance: unbiased MMD² with the cubic polynomial kernel over random subsets."""

    subsets: int = Field(100, gt=0, description="number of random subsets averaged")
    subset_size: int = Field(1000, gt=1, description="items per subset (smaller when fewer samples exist)")


class ISConfig(FeaturesOptions):
    """Inception Score computed with a classifier's softmax."""

    splits: int = Field(10, gt=0, description="the samples are cut into this many parts; mean and std over them")


class PrecisionRecallConfig(FeaturesOptions):
    """Improved precision and recall of Kynkäänniemi et al. (2019) on k-NN manifolds of features."""

    k: int = Field(3, gt=0, description="the radius of each point's ball is the distance to its k-th neighbour")


class ReconConfig(ComponentConfig):
    """Reconstruction error on the test split."""


class CodebookConfig(ComponentConfig):
    """Codebook usage on the test split."""


class ClassAccuracyConfig(FeaturesOptions):
    """Accuracy of a classifier on samples drawn per requested class."""

    per_class: int | None = Field(None, gt=0, description="samples per class (default: eval samples / classes)")


class ClassCoverageConfig(FeaturesOptions):
    """Share of unconditional samples that a classifier assigns to each class."""

    threshold: float = Field(0.05, gt=0, lt=1, description="a class counts as covered with at least this share")


class ModesConfig(ComponentConfig):
    """Mode coverage and sample quality on a mixture of Gaussians (points data exposing `mode_centers()`)."""

    radius_std: float = Field(3.0, gt=0, description="a sample is high quality within this many std of a mode centre")
    covered_share: float = Field(
        0.25, gt=0, le=1, description="a mode is covered when it gets at least this fraction of the uniform share 1/K"
    )


class DigitsNetConfig(ComponentConfig):
    """The shipped digits classifier."""

    weights: str | None = Field(None, description="a .safetensors file to load instead of the shipped weights")


class ShapesNetConfig(ComponentConfig):
    """The shipped shapes classifier."""

    weights: str | None = Field(None, description="a .safetensors file to load instead of the shipped weights")


class InceptionConfig(ComponentConfig):
    """The FID Inception-v3 network; its weights are read from a local file only."""

    weights: str | None = Field(
        None,
        description="pt_inception-2015-12-05-6726825d.pth; else $GENTOOL_INCEPTION_WEIGHTS, else the torch hub "
        "checkpoints folder (~/.cache/torch/hub/checkpoints)",
    )


class RawConfig(ComponentConfig):
    """The inputs themselves as features."""
