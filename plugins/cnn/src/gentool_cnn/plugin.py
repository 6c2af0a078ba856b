"""Registration of the `cnn` model (no torch import here)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl


@hookimpl
def register_models(register: Any) -> None:
    register(
        "cnn",
        "gentool_cnn.model:GLO",
        config="gentool_cnn.config:CNNConfig",
        sample_config="gentool_cnn.config:CNNSampleConfig",
        summary="GLO: deconvolutional generator with one learned latent per image, no discriminator",
    )
