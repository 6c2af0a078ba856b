"""Core's built-in datasets (registered lazily; importing this package imports no torch)."""

from __future__ import annotations

from typing import Any

_PKG = "gentool.datasets"
_CONFIGS = f"{_PKG}.configs"


def register_builtin(register: Any) -> None:
    """Register the built-in datasets with a plugin-style `register` callable."""
    register(
        "digits",
        f"{_PKG}.digits:Digits",
        config=f"{_CONFIGS}:DigitsConfig",
        summary="5,000 embedded MNIST digits, 28x28 gray, 10 classes, fixed 4,000/1,000 split (the default)",
    )
    register(
        "mnist",
        f"{_PKG}.idx:Mnist",
        config=f"{_CONFIGS}:MnistConfig",
        summary="MNIST from the four standard IDX files in `root` (60,000/10,000)",
    )
    register(
        "fashion-mnist",
        f"{_PKG}.idx:FashionMnist",
        config=f"{_CONFIGS}:FashionMnistConfig",
        summary="Fashion-MNIST from the four standard IDX files in `root` (60,000/10,000)",
    )
    register(
        "image-folder",
        f"{_PKG}.folder:ImageFolder",
        config=f"{_CONFIGS}:ImageFolderConfig",
        summary="PNG/JPEG files under `root`, one subfolder per class optional; resized and cropped to `size`",
    )
    register(
        "npz",
        f"{_PKG}.npz:NpzImages",
        config=f"{_CONFIGS}:NpzConfig",
        summary="an `images` array (and optional `labels`) from a .npz file at `root`",
    )
    register(
        "shapes",
        f"{_PKG}.shapes:Shapes",
        config=f"{_CONFIGS}:ShapesConfig",
        summary="generated coloured shapes on 32x32 RGB, 6 classes (a fast conditional test bed)",
    )
    register(
        "unpaired",
        f"{_PKG}.unpaired:Unpaired",
        config=f"{_CONFIGS}:UnpairedConfig",
        summary="two datasets as unaligned domains A and B (image translation), brought to one size",
    )
    register(
        "gaussians",
        f"{_PKG}.gaussians:Gaussians",
        config=f"{_CONFIGS}:GaussiansConfig",
        summary="2-D Gaussian mixtures: 8 modes on a ring or 25 on a grid (mode-collapse test)",
    )
