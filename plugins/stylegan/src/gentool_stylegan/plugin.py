"""Registration of the `stylegan` model (no torch import here, so `gentool list` stays fast)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl


@hookimpl
def register_models(register: Any) -> None:
    register(
        "stylegan",
        "gentool_stylegan.model:StyleGAN",
        config="gentool_stylegan.config:StyleGANConfig",
        sample_config="gentool_stylegan.config:StyleGANSampleConfig",
        summary="StyleGAN2: mapping network, modulated convolutions, lazy R1; truncation and style mixing at sample "
        "time; optional progressive growing",
    )
