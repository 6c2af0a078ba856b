"""Registration of the `flow` and `ddpm` models (imports no torch, so `gentool list` stays fast)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl


@hookimpl
def register_models(register: Any) -> None:
    register(
        "flow",
        "gentool_diffusion.model:Flow",
        config="gentool_diffusion.config:FlowConfig",
        sample_config="gentool_diffusion.config:FlowSampleConfig",
        summary="flow matching (rectified flow): U-Net velocity field, Euler/Heun sampling, optional guidance",
    )
    register(
        "ddpm",
        "gentool_diffusion.model:DDPM",
        config="gentool_diffusion.config:DDPMConfig",
        sample_config="gentool_diffusion.config:DDPMSampleConfig",
        summary="denoising diffusion: cosine schedule, eps or v prediction, DDIM/ancestral sampling, optional guidance",
    )
