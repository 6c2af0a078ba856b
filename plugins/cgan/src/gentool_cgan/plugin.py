"""Registration of the `cgan` model (no torch import here)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl


@hookimpl
def register_models(register: Any) -> None:
    register(
        "cgan",
        "gentool_cgan.model:CGAN",
        config="gentool_cgan.config:CGANConfig",
        summary="class-conditional DCGAN: conditional BatchNorm in G, projection (or concat) discriminator",
    )
