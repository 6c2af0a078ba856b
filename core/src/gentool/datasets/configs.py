"""The options of every built-in dataset (pydantic models; this module imports no torch, so `gentool info` is fast)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from gentool.config import ComponentConfig
from gentool.errors import GentoolError

# Image folders whose decoded float32 tensors (train + test) stay within this many bytes load into memory
# under `in_memory = "auto"`; larger ones stream from disk. 1 GiB is about 87,000 RGB images at 32x32.
AUTO_MEMORY_LIMIT_BYTES = 1 << 30


class DigitsConfig(ComponentConfig):
    """Options of `digits`, the embedded 5,000 MNIST digits with their fixed 4,000/1,000 split."""

    pad: int = Field(0, ge=0, le=16, description="zero pixels added on each side (2 gives 32x32 images)")


class MnistConfig(ComponentConfig):
    """Options of `mnist`: the four standard IDX files (optionally gzipped) in `root`."""

    root: str = Field("data/mnist", description="folder holding train-images-idx3-ubyte and the three other IDX files")
    pad: int = Field(0, ge=0, le=16, description="zero pixels added on each side (2 gives 32x32 images)")


class FashionMnistConfig(MnistConfig):
    """Options of `fashion-mnist`: the same four IDX file names as MNIST, in `root`."""

    root: str = Field(
        "data/fashion-mnist", description="folder holding train-images-idx3-ubyte and the three other IDX files"
    )


class ImageFolderConfig(ComponentConfig):
    """Options of `image-folder`: PNG/JPEG files under `root`, optionally one subfolder per class."""

    root: str = Field("data/images", description="folder of .png/.jpg/.jpeg files, or of one subfolder per class")
    size: int = Field(
        32, ge=4, le=1024, description="images are resized (shorter side) and centre-cropped to size x size"
    )
    channels: Literal[1, 3] = Field(3, description="1: grayscale, 3: RGB")
    test_fraction: float = Field(0.1, gt=0, lt=1, description="fraction of the files held out as the test split")
    seed: int = Field(0, description="seed of the train/test split")
    in_memory: Literal["auto", True, False] = Field(
        "auto",
        description="decode every image into memory up front (true) or read files lazily (false); "
        "auto: in memory when the decoded tensors take at most 1 GiB",
    )
    features: str = Field(
        "",
        description="the registered feature network that suits these images (e.g. digits, shapes, inception, or a "
        "plugin's classifier); empty: the evaluator's fallback rule chooses (see docs/metrics.md)",
    )


class NpzConfig(ComponentConfig):
    """Options of `npz`: an image array (and optional labels) in one .npz file."""

    root: str = Field("data/images.npz", description="the .npz file")
    images_key: str = Field("images", description="array of images (N, H, W) or (N, H, W, C), uint8 or float in [0, 1]")
    labels_key: str = Field("labels", description="optional array of integer labels (N,); unlabelled when absent")
    test_fraction: float = Field(
        0.1, gt=0, lt=1, description="fraction held out as the test split (unless the file has train_index/test_index)"
    )
    seed: int = Field(0, description="seed of the train/test split")
    features: str = Field(
        "",
        description="the registered feature network that suits these images (e.g. digits, shapes, inception, or a "
        "plugin's classifier); empty: the evaluator's fallback rule chooses (see docs/metrics.md)",
    )


class ShapesConfig(ComponentConfig):
    """Options of `shapes`: procedurally drawn coloured shapes, labelled by shape."""

    count: int = Field(10000, ge=10, le=200_000, description="images generated in all (train + test)")
    size: int = Field(32, ge=8, le=256, description="image height and width in pixels")
    test_fraction: float = Field(0.1, gt=0, lt=1, description="fraction held out as the test split")
    seed: int = Field(0, description="seed of the shapes, colours, positions and split")


class GaussiansConfig(ComponentConfig):
    """Options of `gaussians`: the 2-D Gaussian mixtures of the mode-collapse literature."""

    layout: Literal["ring", "grid"] = Field(
        "ring", description="ring: 8 modes on a circle; grid: 25 modes on a 5x5 grid"
    )
    std: float = Field(0.02, gt=0, description="standard deviation of every mode")
    radius: float = Field(2.0, gt=0, description="ring radius")
    spacing: float = Field(2.0, gt=0, description="distance between neighbouring grid modes")
    count: int = Field(10000, ge=10, le=10_000_000, description="points drawn in all (train + test)")
    test_fraction: float = Field(0.1, gt=0, lt=1, description="fraction held out as the test split")
    seed: int = Field(0, description="seed of the points and split")


class UnpairedConfig(ComponentConfig):
    """Options of `unpaired`: two registered datasets as the unaligned domains A and B of translation models."""

    a: dict[str, Any] = Field(description='domain A: a dataset section, `name` plus its options, e.g. {name = "digits"}')
    b: dict[str, Any] = Field(
        description='domain B: a dataset section, e.g. {name = "image-folder", root = "photos", channels = 3}'
    )
    size: int | None = Field(
        None, ge=4, le=1024, description="both domains are centre-cropped square and resized to size x size; "
        "default: domain A's height (channels stay each domain's own)"
    )

    @field_validator("a", "b")
    @classmethod
    def _domain_section(cls, section: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """Each domain's dataset and options are checked now, with errors naming `dataset.a.KEY`."""
        from gentool.registry import registry

        options = dict(section)
        name = options.pop("name", None)
        if not name:
            names = ", ".join(registry().names("dataset"))
            raise GentoolError(f'dataset.{info.field_name} needs a "name": one of {names}.')
        component = registry().get("dataset", str(name))
        config = component.parse(options, f"dataset.{info.field_name}")
        return {"name": name, **config.model_dump(mode="json")}
