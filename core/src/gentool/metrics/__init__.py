"""Core's built-in metrics and feature networks (registered lazily; importing this package imports no torch).

`frechet_distance(a, b)` and `frechet_distance_stats(mu1, sigma1, mu2, sigma2)` are importable from here; they load
`gentool.metrics.frechet` (and torch) on first use.
"""

from __future__ import annotations

from typing import Any

CONFIGS = "gentool.metrics.configs"

METRICS = (
    ("fid", "fid:FID", "FIDConfig", "Fréchet distance of samples (and reconstructions: rfid) to the test split"),
    ("kid", "kid:KID", "KIDConfig", "kernel inception distance: unbiased cubic-kernel MMD² over random subsets"),
    ("is", "inception_score:InceptionScore", "ISConfig", "inception score of samples by a classifier's softmax"),
    ("precision", "precision_recall:Precision", "PrecisionRecallConfig",
     "share of samples on the k-NN manifold of test features (Kynkäänniemi et al. 2019)"),
    ("recall", "precision_recall:Recall", "PrecisionRecallConfig",
     "share of test items on the k-NN manifold of sample features (Kynkäänniemi et al. 2019)"),
    ("recon", "recon:Recon", "ReconConfig", "MSE and PSNR of reconstructions of the test split"),
    ("codebook", "codebook:Codebook", "CodebookConfig", "share of codes used and perplexity on the test split"),
    ("class-accuracy", "classes:ClassAccuracy", "ClassAccuracyConfig",
     "classifier accuracy on samples drawn per requested class (conditional models)"),
    ("class-coverage", "classes:ClassCoverage", "ClassCoverageConfig",
     "share of samples per class by a classifier: smallest share, classes with at least 5 %"),
    ("modes", "modes:Modes", "ModesConfig", "modes covered and high-quality share on Gaussian-mixture points"),
)

FEATURES = (
    ("digits", "digits_classifier:load_digits_classifier", "DigitsNetConfig",
     "CNN digit classifier shipped with core: 128-d penultimate features, 10 logits"),
    ("inception", "inception:load_inception", "InceptionConfig",
     "FID Inception-v3 (pt_inception-2015-12-05), 2048-d pool features; needs a local weights file"),
    ("shapes", "shapes_classifier:load_shapes_classifier", "ShapesNetConfig",
     "CNN shape classifier shipped with core (RGB, 6 classes): 128-d features of shape, colour and placement"),
    ("raw", "raw:RawFeatures", "RawConfig", "the inputs themselves, flattened (points data)"),
)

_LAZY = {"frechet_distance": "frechet", "frechet_distance_stats": "frechet"}


def register_builtin(register: Any) -> None:
    """Register the built-in metrics with a plugin-style `register` callable."""
    for name, target, config, summary in METRICS:
        register(name, f"gentool.metrics.{target}", config=f"{CONFIGS}:{config}", summary=summary)


def register_builtin_features(register: Any) -> None:
    """Register the built-in feature networks with a plugin-style `register` callable."""
    for name, target, config, summary in FEATURES:
        register(name, f"gentool.metrics.{target}", config=f"{CONFIGS}:{config}", summary=summary)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"gentool.metrics.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["frechet_distance", "frechet_distance_stats", "register_builtin", "register_builtin_features"]
