"""Options of the `flow` and `ddpm` models and their sample-time options (pydantic only, no torch).

The defaults train on the embedded `digits` (28x28 grey) in about 10 minutes on 2 CPU cores; docs/models/
diffusion.md has the measurements behind them and the trainer settings worth adding on a larger budget.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from gentool.api import ModelConfig, SampleConfig


class DiffusionConfig(ModelConfig):
    """What both models share: the U-Net, class conditioning, the optimizer and the weight average."""

    steps: int = Field(4000, gt=0, description="default training budget in optimizer steps (--steps overrides)")
    batch_size: int = Field(64, gt=0, description="training batch size")
    ema: bool = Field(True, description="sample from the trainer's exponential moving average of the U-Net's weights")
    ema_decay: float = Field(0.998, gt=0, lt=1, description="decay of the weight average (0.998: about the last 500 "
                             "steps; raise it with the budget, e.g. 0.9999 for 100k steps)")
    widths: tuple[int, ...] = Field(
        (16, 32, 64), min_length=1, description="U-Net channels at each resolution, finest first; each further "
        "entry halves the resolution (28 -> 14 -> 7)",
    )
    blocks: int = Field(1, ge=1, description="residual blocks per resolution on the way down (one more on the way up)")
    attention: bool = Field(True, description="self-attention at the lowest resolution (and in the middle block)")
    heads: int = Field(4, ge=1, description="attention heads (1 when they do not divide the channels)")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout inside every residual block")
    class_conditional: bool = Field(
        False, description="condition on the dataset's labels (a conditional model, with classifier-free guidance at "
        "sample time); needs labelled data",
    )
    label_dropout: float = Field(
        0.1, ge=0, le=1, description="with class_conditional: share of training labels replaced by the \"no label\" "
        "index, which trains the unconditional half of classifier-free guidance",
    )
    lr: float = Field(1e-3, gt=0, description="Adam learning rate (warm-up and decay: trainer.warmup_steps, "
                      "trainer.schedule)")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay")


class FlowConfig(DiffusionConfig):
    """Conditional flow matching on straight paths from N(0, I) to the data (rectified flow, velocity regression)."""

    time_sampling: Literal["uniform", "logit-normal"] = Field(
        "uniform", description='training times t: "uniform" on [0, 1], or "logit-normal" (sigmoid of N(0, 1), more '
        "weight mid-path)",
    )


class DDPMConfig(DiffusionConfig):
    """Denoising diffusion with the cosine noise schedule, predicting the noise or v."""

    prediction: Literal["eps", "v"] = Field(
        "v", description='what the U-Net predicts: "eps" (the noise, Ho et al. 2020) or "v" = sqrt(ab) eps - '
        "sqrt(1 - ab) x0 (Salimans & Ho 2022; stable at the noisiest steps)",
    )
    timesteps: int = Field(1000, ge=2, description="T, the number of training noise levels of the cosine schedule")


class GuidedSampleConfig(SampleConfig):
    """Sample-time options both models share."""

    guidance: float = Field(
        1.0, ge=0, description="classifier-free guidance scale for a class_conditional model: 1 = the conditional "
        "prediction, 0 = the unconditional one, > 1 strengthens the class (two network passes per step); "
        "ignored by an unconditional model",
    )


class FlowSampleConfig(GuidedSampleConfig):
    """Chosen when sampling a trained `flow` run: `gentool sample RUN --set sampler=heun --set sample_steps=10`."""

    sampler: Literal["euler", "heun"] = Field(
        "heun", description='ODE integrator from t = 0 to 1: "heun" (two evaluations per step, the last step Euler) or '
        '"euler" (one); Heun at 5 steps scored FID 3.08 on digits where Euler needed 50 steps for 3.02',
    )
    sample_steps: int = Field(5, ge=1, le=1000, description="integration steps")


class DDPMSampleConfig(GuidedSampleConfig):
    """Chosen when sampling a trained `ddpm` run: `gentool sample RUN --set sampler=ancestral --set sample_steps=100`."""

    sampler: Literal["ddim", "ancestral"] = Field(
        "ddim", description='"ddim" (Song et al. 2021; deterministic at eta 0) or "ancestral" (DDPM posterior draws)',
    )
    sample_steps: int = Field(20, ge=1, le=10000, description="reverse steps, evenly spaced over the T training steps "
                              "(at most T are used)")
    eta: float = Field(0.0, ge=0, le=1, description="ddim only: noise of each step, 0 deterministic to 1 ancestral")
