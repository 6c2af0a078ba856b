"""Options of the `vqvae` model and of the `vq`, `vq-ema` and `fsq` quantizers (pydantic only, no torch)."""

from __future__ import annotations

from math import prod
from typing import Any

from pydantic import Field, field_validator, model_validator

from gentool.api import ComponentConfig, ComponentName, ModelConfig, SampleConfig


class VQConfig(ComponentConfig):
    """Nearest-code quantizer trained by gradients (codebook loss + commitment loss)."""

    codebook_size: int = Field(128, ge=2, description="number of codes K")
    beta: float = Field(0.25, ge=0, description="commitment loss weight: beta * |z - sg(e)|^2")


class VQEMAConfig(ComponentConfig):
    """Nearest-code quantizer whose codebook follows moving averages of the vectors assigned to each code."""

    codebook_size: int = Field(128, ge=2, description="number of codes K")
    beta: float = Field(0.25, ge=0, description="commitment loss weight: beta * |z - sg(e)|^2")
    decay: float = Field(
        0.95, gt=0, lt=1, description="decay of the moving averages of code counts and sums (the paper: 0.99, slower)"
    )
    epsilon: float = Field(1e-5, gt=0, description="Laplace smoothing of the code counts")
    kmeans_iters: int = Field(
        10, ge=0, description="k-means iterations that initialise the codebook on the first batch"
    )
    dead_threshold: float = Field(
        1.0, ge=0, description="restart a code when its average count per batch falls below this (0: never)"
    )


class FSQConfig(ComponentConfig):
    """Finite scalar quantization: each of len(levels) channels is bounded and rounded to one of its levels."""

    levels: list[int] = Field(
        [8, 5, 5, 5], min_length=1, description="levels per channel; codebook_size = prod(levels)"
    )

    @field_validator("levels")
    @classmethod
    def _at_least_two(cls, levels: list[int]) -> list[int]:
        if any(level < 2 for level in levels):
            raise ValueError("every channel needs at least 2 levels")
        return levels

    @property
    def codebook_size(self) -> int:
        return prod(self.levels)


class PriorConfig(ComponentConfig):
    """The autoregressive prior over the code grid (a small causal transformer), trained in the second stage."""

    enabled: bool = Field(True, description="train a prior; when false, sample() decodes uniformly random codes")
    conditional: bool = Field(True, description="condition on the class label when the dataset has labels")
    width: int = Field(64, gt=0, description="transformer width (embedding size)")
    layers: int = Field(3, gt=0, description="transformer blocks")
    heads: int = Field(4, gt=0, description="attention heads (must divide width)")
    dropout: float = Field(0.1, ge=0, lt=1, description="dropout in attention and feed-forward layers")
    lr: float = Field(2e-3, gt=0, description="AdamW learning rate of the prior")

    @model_validator(mode="before")
    @classmethod
    def _temperature_moved(cls, data: Any) -> Any:
        """`prior.temperature` became the sample option `temperature`; run directories that still hold it load."""
        if isinstance(data, dict) and "temperature" in data:
            data = {k: v for k, v in data.items() if k != "temperature"}
        return data

    @model_validator(mode="after")
    def _heads_divide_width(self) -> PriorConfig:
        if self.width % self.heads:
            raise ValueError(f"width ({self.width}) must be a multiple of heads ({self.heads})")
        return self


class VQVAEConfig(ModelConfig):
    """A VQ-VAE; the defaults train both stages on `digits` in about 5 minutes on 2 CPU cores."""

    steps: int = Field(2600, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(64, gt=0, description="training batch size")
    quantizer: ComponentName("quantizer") = Field("vq-ema", description='quantizer by name: "vq", "vq-ema" or "fsq" (any registered one)')
    quantizer_options: dict[str, Any] = Field(default_factory=dict, description="options of the quantizer")
    code_dim: int = Field(16, gt=0, description="channels of the latent grid that the quantizer sees")
    width: int = Field(64, gt=0, description="channels of the encoder and decoder")
    res_blocks: int = Field(2, ge=0, description="residual blocks at the latent resolution, in encoder and decoder")
    loss: ComponentName("loss") = Field("mse", description="reconstruction loss by name (averaged per pixel): mse, l1, bce, laplacian")
    loss_options: dict[str, Any] = Field(default_factory=dict, description="options of the reconstruction loss")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate of the autoencoder")
    autoencoder_share: float = Field(
        0.43, gt=0, lt=1, description="fraction of the budget for the autoencoder stage; the prior gets the rest"
    )
    prior: PriorConfig = Field(default_factory=PriorConfig, description="the autoregressive prior")


class VQVAESampleConfig(SampleConfig):
    """Options chosen when sampling a trained VQ-VAE (`gentool sample RUN --set temperature=0.8`)."""

    temperature: float = Field(
        1.0, gt=0, description="temperature of the prior's code distribution: below 1 sharper, above 1 more varied"
    )
