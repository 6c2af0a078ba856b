"""Adversarial losses: `discriminator(critic, real, fake) -> scalar` and `generator(fake_logits) -> scalar`.

`critic(x) -> (N,)` maps a batch to raw scores (logits, no sigmoid; a critic that scores patches may return a
whole multiple of N, each image's scores together). A critic with the attribute `batch_independent = True` (no batch
statistics: its scores of an image do not depend on the rest of the batch) gets real and fake in one call, which
runs its layers at twice the batch (see `batch_independent_critic`). The discriminator loss detaches `fake`, so
the generator gets no gradient from it; the caller back-propagates it into the critic's weights only. Every value
is computed in float32 from the logits with stable forms (softplus), so large logits never give log(0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import torch
import torch.nn.functional as F
from pydantic import Field

from gentool.config import ComponentConfig
from gentool.layers import eager

Critic = Callable[[torch.Tensor], torch.Tensor]


def batch_independent_critic(critic: Critic) -> Critic:
    """`critic`, marked as one whose scores of an image do not depend on the rest of its batch (instance norm or no
    norm, never batch norm): the losses then score real and fake data in one call. The caller vouches for it."""

    def scores(x: torch.Tensor) -> torch.Tensor:
        return critic(x)

    scores.batch_independent = True  # type: ignore[attr-defined]
    return scores


def _scores(critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The critic's float32 scores on real and on detached fake data (flattened, as the critic gives them)."""
    fake = fake.detach()
    if getattr(critic, "batch_independent", False) and real.shape[1:] == fake.shape[1:]:
        scores = critic(torch.cat([real, fake.to(real.dtype)])).float().reshape(-1)
        cut = scores.numel() * len(real) // (len(real) + len(fake))
        return scores[:cut], scores[cut:]
    return critic(real).float().reshape(-1), critic(fake).float().reshape(-1)


class NonSaturating:
    """Goodfellow et al. (2014): D minimises -log D(x) - log(1 - D(G(z))); G minimises -log D(G(z)).

    With D = sigmoid(logit): -log D = softplus(-logit) and -log(1 - D) = softplus(logit).
    """

    role: ClassVar[str] = "adversarial"

    def __init__(self, config: ComponentConfig | None = None) -> None:
        self.config = config

    def discriminator(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = _scores(critic, real, fake)
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_logits.float()).mean()


class Hinge:
    """Lim & Ye (2017), as in SAGAN and BigGAN: D minimises relu(1 - D(x)) + relu(1 + D(G(z))); G minimises -D(G(z))."""

    role: ClassVar[str] = "adversarial"

    def __init__(self, config: ComponentConfig | None = None) -> None:
        self.config = config

    def discriminator(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = _scores(critic, real, fake)
        return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.float().mean()


class LeastSquares:
    """Mao et al. (2017) with targets a=0 (fake), b=1 (real), c=1: D minimises (D(x)-1)^2/2 + D(G(z))^2/2,
    G minimises (D(G(z))-1)^2/2."""

    role: ClassVar[str] = "adversarial"

    def __init__(self, config: ComponentConfig | None = None) -> None:
        self.config = config

    def discriminator(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = _scores(critic, real, fake)
        return 0.5 * (real_logits - 1.0).square().mean() + 0.5 * fake_logits.square().mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return 0.5 * (fake_logits.float() - 1.0).square().mean()


class WassersteinGPConfig(ComponentConfig):
    """Options of `wasserstein-gp`."""

    gp_weight: float = Field(10.0, ge=0, description="weight of the gradient penalty (the paper's lambda)")
    drift: float = Field(
        0.0, ge=0, description="weight of E[D(x)^2] on real scores, keeping them near 0 (Karras et al. 2018 use 0.001)"
    )


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of (||grad_x critic(x_hat)||_2 - 1)^2 at x_hat = a*real + (1-a)*fake, a ~ U[0, 1] per item.

    The gradient is taken with create_graph=True, so the penalty back-propagates into the critic's weights (a
    compiled critic runs eagerly here: compiled graphs cannot be differentiated twice).
    """
    shape = (real.shape[0],) + (1,) * (real.dim() - 1)
    alpha = torch.rand(shape, device=real.device, dtype=real.dtype)
    mixed = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    with eager():
        scores = critic(mixed).float()
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    norms = grad.float().reshape(grad.shape[0], -1).norm(dim=1)
    return (norms - 1.0).square().mean()


class WassersteinGP:
    """Gulrajani et al. (2017): the critic minimises D(G(z)) - D(x) + gp_weight * gradient penalty (+ drift * D(x)^2);
    G minimises -D(G(z))."""

    role: ClassVar[str] = "adversarial"

    def __init__(self, config: WassersteinGPConfig | None = None) -> None:
        self.config = config or WassersteinGPConfig()

    def discriminator(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real_scores, fake_scores = _scores(critic, real, fake)
        loss = fake_scores.mean() - real_scores.mean()
        if self.config.gp_weight > 0:
            loss = loss + self.config.gp_weight * gradient_penalty(critic, real, fake)
        if self.config.drift > 0:
            loss = loss + self.config.drift * real_scores.square().mean()
        return loss

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        return -fake_logits.float().mean()


class ForwardKLConfig(ComponentConfig):
    """Options of `forward-kl`."""

    power: float = Field(
        1.0,
        ge=0,
        le=2,
        description="exponent b of the density ratio that weights each fake in G's loss: 1 is KL(data || model), "
        "0 is KL(model || data), values between temper the weights",
    )


class ForwardKL:
    """f-GAN's KL(data || model) for G (Nowozin et al. 2016; Poole et al. 2016) on a logistic D.

    D minimises the log loss of `nonsaturating`, so its logit d estimates log p_data/p_G. The functional gradient
    of KL(data || model) moves each fake up d with weight r = exp(d): fakes where the data has more mass than G
    move most, where the non-saturating loss gives them the least weight (1 - sigmoid(d) falls like 1/r). G
    minimises -mean(w * d) with w = r**power normalised to mean 1 over the batch and detached, so the gradient is
    that of -E[r**power] up to the batch's positive scale and a few large logits cannot overflow it.
    """

    role: ClassVar[str] = "adversarial"

    def __init__(self, config: ForwardKLConfig | None = None) -> None:
        self.config = config or ForwardKLConfig()

    def discriminator(self, critic: Critic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        real_logits, fake_logits = _scores(critic, real, fake)
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()

    def generator(self, fake_logits: torch.Tensor) -> torch.Tensor:
        logits = fake_logits.float().reshape(-1)
        weights = torch.softmax(self.config.power * logits.detach(), dim=0) * logits.numel()
        return -(weights * logits).mean()
