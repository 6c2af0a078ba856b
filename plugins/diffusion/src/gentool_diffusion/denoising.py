"""Denoising diffusion (DDPM) maths: the cosine schedule, the forward process, the two parameterisations, and the
DDIM and ancestral reverse steps on any evenly spaced subset of the T training steps.

Ho et al. 2020 (*Denoising Diffusion Probabilistic Models*); the cosine schedule of Nichol & Dhariwal 2021
(*Improved DDPM*); DDIM of Song et al. 2021; v-prediction of Salimans & Ho 2022. Step k = 0..T-1 has
alpha_bar[k] = prod_{j<=k} (1 - beta_j), and q(x_k | x_0) = N(sqrt(alpha_bar[k]) x_0, (1 - alpha_bar[k]) I).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

PREDICTIONS = ("eps", "v")


def cosine_betas(steps: int, s: float = 0.008, max_beta: float = 0.999) -> Tensor:
    """beta_1..beta_T (float64) of the cosine schedule: alpha_bar(t) = cos^2(((t/T + s)/(1 + s)) pi/2) / its value
    at t = 0, each beta clipped to `max_beta` so the last step stays finite."""
    t = torch.arange(steps + 1, dtype=torch.float64) / steps
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    return (1 - f[1:] / f[:-1]).clamp(max=max_beta)


def alpha_bars(betas: Tensor) -> Tensor:
    """alpha_bar[k] = prod_{j<=k} (1 - beta_j), float64."""
    return torch.cumprod(1 - betas.double(), dim=0)


def _column(v: Tensor, like: Tensor) -> Tensor:
    return v.reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def q_sample(x0: Tensor, alpha_bar: Tensor, noise: Tensor) -> Tensor:
    """A draw of x_k ~ q(x_k | x_0) given the per-item alpha_bar (N,) and standard normal noise."""
    ab = _column(alpha_bar, x0)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * noise


def target(x0: Tensor, noise: Tensor, alpha_bar: Tensor, prediction: str) -> Tensor:
    """What the network regresses onto: the noise ("eps") or v = sqrt(ab) eps - sqrt(1 - ab) x0 ("v")."""
    if prediction == "eps":
        return noise
    ab = _column(alpha_bar, x0)
    return ab.sqrt() * noise - (1 - ab).sqrt() * x0


def split(x_t: Tensor, output: Tensor, alpha_bar: Tensor, prediction: str, clip: bool = True) -> tuple[Tensor, Tensor]:
    """(x0, eps) implied by the network's output at x_t; with `clip`, x0 is clamped to the data range [-1, 1] and
    eps recomputed from it (so the reverse step stays on the line through x_t and the clamped x0)."""
    ab = _column(alpha_bar, x_t)
    if prediction == "eps":
        x0 = (x_t - (1 - ab).sqrt() * output) / ab.sqrt()
        eps = output
    else:
        x0 = ab.sqrt() * x_t - (1 - ab).sqrt() * output
        eps = (1 - ab).sqrt() * x_t + ab.sqrt() * output
    if clip:
        x0 = x0.clamp(-1, 1)
        eps = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
    return x0, eps


def ddim_step(x0: Tensor, eps: Tensor, ab_t: float, ab_s: float, eta: float, noise: Tensor | None) -> Tensor:
    """x_s from x_t (s < t) given its (x0, eps): sqrt(ab_s) x0 + sqrt(1 - ab_s - sigma^2) eps + sigma z with
    sigma = eta sqrt((1 - ab_s)/(1 - ab_t)) sqrt(1 - ab_t/ab_s); eta = 0 is deterministic, 1 is ancestral."""
    sigma = eta * math.sqrt((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s))
    x = math.sqrt(ab_s) * x0 + math.sqrt(max(0.0, 1 - ab_s - sigma**2)) * eps
    return x + sigma * noise if sigma > 0 and noise is not None else x


def ancestral_step(x_t: Tensor, x0: Tensor, ab_t: float, ab_s: float, noise: Tensor | None) -> Tensor:
    """A draw of the DDPM posterior q(x_s | x_t, x0) (Ho et al. eq. 7, with alpha = ab_t / ab_s for a skipped
    stretch): mean (sqrt(ab_s) beta x0 + sqrt(alpha) (1 - ab_s) x_t) / (1 - ab_t), variance beta (1 - ab_s)/(1 - ab_t)."""
    alpha = ab_t / ab_s
    beta = 1 - alpha
    mean = (math.sqrt(ab_s) * beta * x0 + math.sqrt(alpha) * (1 - ab_s) * x_t) / (1 - ab_t)
    var = beta * (1 - ab_s) / (1 - ab_t)
    return mean + math.sqrt(var) * noise if var > 0 and noise is not None else mean


def spaced_steps(train_steps: int, steps: int) -> list[int]:
    """`steps` training steps evenly spaced from the last (T - 1) down to the first (0), descending."""
    steps = max(1, min(steps, train_steps))
    if steps == 1:
        return [train_steps - 1]
    return sorted({round(i * (train_steps - 1) / (steps - 1)) for i in range(steps)}, reverse=True)


def reverse(
    predict: Callable[[Tensor, int], tuple[Tensor, Tensor]], x: Tensor, alpha_bar: Tensor, steps: int, sampler: str,
    eta: float, noise: Callable[[], Tensor],
) -> Tensor:
    """Run the reverse process from x = x_{T-1} ~ N(0, I) through `steps` spaced steps to x_0.

    `predict(x, k)` returns (x0, eps) at step k; `noise()` draws fresh N(0, I) shaped like x (called only when a
    step adds noise, so DDIM with eta = 0 uses nothing but the starting x)."""
    ks = spaced_steps(len(alpha_bar), steps)
    for i, k in enumerate(ks):
        ab_t = float(alpha_bar[k])
        ab_s = float(alpha_bar[ks[i + 1]]) if i + 1 < len(ks) else 1.0
        x0, eps = predict(x, k)
        last = i + 1 == len(ks)
        if sampler == "ddim":
            x = ddim_step(x0, eps, ab_t, ab_s, eta, None if last or eta == 0 else noise())
        elif sampler == "ancestral":
            x = ancestral_step(x, x0, ab_t, ab_s, None if last else noise())
        else:
            raise ValueError(f'unknown sampler "{sampler}"; valid: ddim, ancestral')
    return x
