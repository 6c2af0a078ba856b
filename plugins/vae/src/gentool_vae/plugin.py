"""Registration of the `vae` model and the `elbo` metric (no torch import here)."""

from __future__ import annotations

from typing import Any

from gentool.api import hookimpl


@hookimpl
def register_models(register: Any) -> None:
    register(
        "vae",
        "gentool_vae.model:VAE",
        config="gentool_vae.config:VAEConfig",
        summary="variational autoencoder (Kingma & Welling 2014): conv encoder/decoder, learned mixture prior",
    )


@hookimpl
def register_metrics(register: Any) -> None:
    register(
        "elbo",
        "gentool_vae.metric:Elbo",
        config="gentool_vae.config:ElboConfig",
        summary="ELBO and, with k > 1, the IWAE bound on the test split, nats per image (models with elbo/iw_bound)",
    )
