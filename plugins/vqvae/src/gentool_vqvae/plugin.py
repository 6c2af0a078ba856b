"""Registration of the `vqvae` model and its three quantizers (no torch import here)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl


@hookimpl
def register_models(register: Any) -> None:
    register(
        "vqvae",
        "gentool_vqvae.model:VQVAE",
        config="gentool_vqvae.config:VQVAEConfig",
        sample_config="gentool_vqvae.config:VQVAESampleConfig",
        summary="VQ-VAE (van den Oord et al. 2017): quantized autoencoder, then an autoregressive prior over codes",
    )


@hookimpl
def register_quantizers(register: Any) -> None:
    register(
        "vq",
        "gentool_vqvae.vq:VectorQuantizer",
        config="gentool_vqvae.config:VQConfig",
        summary="nearest-code quantizer with straight-through gradients, codebook and commitment losses",
    )
    register(
        "vq-ema",
        "gentool_vqvae.vq_ema:EMAVectorQuantizer",
        config="gentool_vqvae.config:VQEMAConfig",
        summary="codebook updated by exponential moving averages, k-means init and dead-code restarts",
    )
    register(
        "fsq",
        "gentool_vqvae.fsq:FiniteScalarQuantizer",
        config="gentool_vqvae.config:FSQConfig",
        summary="finite scalar quantization (Mentzer et al. 2023): bounded, rounded, implicit codebook",
    )
