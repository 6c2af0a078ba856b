"""Registration of the `gan` model (no torch import here)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl


@hookimpl
def register_models(register: Any) -> None:
    register(
        "gan",
        "gentool_gan.model:GAN",
        config="gentool_gan.config:GANConfig",
        summary="DCGAN: convolutional generator and discriminator, any adversarial loss (MLPs on 2-D points)",
    )
