"""A mixture of generators: z's first coordinate picks the member that maps it, so the model stays a map of
z ~ N(0, I) and every member draws an equal share of the samples.

Several generators against one discriminator (MIX+GAN, Arora et al. 2017; MGAN, Hoang et al. 2018, without its
classifier that drives members apart): the discriminator judges the mixture, so a class that one member under-draws
is under-drawn by the mixture only as far as the others agree. On digits two members drew cleaner and less varied
samples than one generator (docs/models/gan.md), so the `gan` model's default is one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

EDGE = 1e-6  # keeps stratified draws off the CDF's ends, where ndtri is infinite


def member_of(z: Tensor, members: int) -> Tensor:
    """(N,) index of the member each latent belongs to: the normal CDF of z[:, 0] cut into `members` equal parts."""
    return (torch.special.ndtr(z[:, 0].float()) * members).long().clamp_(0, members - 1)


def stratified_latents(n: int, dim: int, members: int, device: torch.device, step: int = 0) -> Tensor:
    """n draws of z ~ N(0, I) of which each member gets floor(n / members) or one more, at random positions.

    Each draw's first coordinate is drawn from the normal restricted to its member's stratum, so the draws are
    still N(0, I) (a stratified sample) and a training batch gives no member fewer than 2, which its BatchNorm
    needs: a batch of fewer than 2 per member goes to floor(n / 2) members taken in turn by `step`, the same on
    every torchrun rank, so that all ranks average gradients of the same members.
    """
    z = torch.randn(n, dim, device=device)
    active = max(1, min(members, n // 2))
    chosen = (step * active + torch.arange(active, device=device)) % members  # which members: rank-independent
    chosen = chosen[torch.randperm(active, device=device)]  # in random order, so that n % active extra go anywhere
    stratum = chosen[torch.randperm(n, device=device) % active]
    u = torch.rand(n, device=device).clamp_(EDGE, 1.0 - EDGE)
    z[:, 0] = torch.special.ndtri((stratum + u) / members)
    return z


class GeneratorMixture(nn.Module):
    """`forward(z (N, latent_dim))`: each latent through the member `member_of(z)` names; outputs in z's order."""

    def __init__(self, members: int, build_member: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(build_member() for _ in range(members))

    def forward(self, z: Tensor) -> Tensor:
        pick = member_of(z, len(self.members))
        rows = [torch.nonzero(pick == i).squeeze(1) for i in range(len(self.members))]
        used = [(member, idx) for member, idx in zip(self.members, rows) if len(idx)]
        out = torch.cat([member(z[idx]) for member, idx in used])
        order = torch.cat([idx for _, idx in used])
        return out[torch.argsort(order)]
