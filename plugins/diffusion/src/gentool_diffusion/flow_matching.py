"""Conditional flow matching on straight paths (rectified flow): the training pair and the ODE integrators.

Lipman et al. 2023 (*Flow Matching for Generative Modeling*, sigma_min = 0) and Liu et al. 2023 (*Flow Straight
and Fast*): with noise x0 ~ N(0, I), data x1 and t in [0, 1], the path x_t = (1 - t) x0 + t x1 moves at the constant
velocity x1 - x0; a network regressed onto it learns the marginal velocity field E[x1 - x0 | x_t], whose ODE
dx/dt = v(x, t) carries N(0, I) at t = 0 to the data at t = 1.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

Velocity = Callable[[Tensor, Tensor], Tensor]  # v(x (N, ...), t (N,)) -> (N, ...)


def _column(t: Tensor, like: Tensor) -> Tensor:
    return t.reshape(-1, *([1] * (like.dim() - 1))).to(like.dtype)


def training_pair(noise: Tensor, data: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
    """(x_t, target velocity) for noise x0, data x1 and times t (N,): x_t = (1 - t) x0 + t x1, target x1 - x0."""
    tc = _column(t, data)
    return (1 - tc) * noise + tc * data, data - noise


def sample_times(n: int, kind: str, *, device: torch.device | str = "cpu", generator: torch.Generator | None = None) -> Tensor:
    """n training times in [0, 1]: "uniform", or "logit-normal" (sigmoid of N(0, 1): more weight mid-path, as in
    Esser et al. 2024, *Scaling Rectified Flow Transformers*)."""
    if kind == "uniform":
        return torch.rand(n, generator=generator).to(device)
    if kind == "logit-normal":
        return torch.sigmoid(torch.randn(n, generator=generator)).to(device)
    raise ValueError(f'unknown time sampling "{kind}"; valid: uniform, logit-normal')


def time_grid(steps: int, device: torch.device | str = "cpu") -> Tensor:
    """steps + 1 evenly spaced times from 0 to 1."""
    return torch.linspace(0.0, 1.0, steps + 1, device=device)


def euler(velocity: Velocity, x: Tensor, steps: int) -> Tensor:
    """Integrate dx/dt = v(x, t) from t = 0 to 1 with `steps` Euler steps (`steps` network evaluations)."""
    grid = time_grid(steps, x.device)
    for t, t_next in zip(grid[:-1], grid[1:]):
        x = x + (t_next - t) * velocity(x, t.expand(len(x)))
    return x


def heun(velocity: Velocity, x: Tensor, steps: int) -> Tensor:
    """Integrate from t = 0 to 1 with `steps` steps of Heun's second-order method: an Euler predictor, then the
    average of the slopes at both ends; the last step stays Euler (as in Karras et al. 2022), since the field of
    data concentrated on a few points is singular at t = 1. 2 * steps - 1 evaluations."""
    grid = time_grid(steps, x.device)
    for i, (t, t_next) in enumerate(zip(grid[:-1], grid[1:])):
        h = t_next - t
        slope = velocity(x, t.expand(len(x)))
        if i == steps - 1:
            return x + h * slope
        guess = x + h * slope
        x = x + h * 0.5 * (slope + velocity(guess, t_next.expand(len(x))))
    return x


INTEGRATORS = {"euler": euler, "heun": heun}


def evaluations(sampler: str, steps: int) -> int:
    """Network evaluations per sample of an integrator (before classifier-free guidance doubles the batch)."""
    return 2 * steps - 1 if sampler == "heun" else steps
