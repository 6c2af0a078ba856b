"""Exponential moving average of chosen submodules' weights, swapped in for sampling and saving."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


class WeightAverage:
    """Keeps `shadow = decay * shadow + (1 - decay) * current` for every float tensor of the named submodules."""

    def __init__(self, model: torch.nn.Module, names: tuple[str, ...], decay: float) -> None:
        self.decay = decay
        self.names = names
        self.shadow = {k: v.detach().clone() for k, v in self._live(model).items()}

    def _live(self, model: torch.nn.Module) -> dict[str, torch.Tensor]:
        return {f"{n}.{k}": v for n in self.names for k, v in getattr(model, n).state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        live = self._live(model)
        floats = [k for k, v in live.items() if v.is_floating_point()]
        torch._foreach_lerp_([self.shadow[k] for k in floats], [live[k] for k in floats], 1.0 - self.decay)
        for k, v in live.items():
            if not v.is_floating_point():
                self.shadow[k].copy_(v)

    @contextlib.contextmanager
    @torch.no_grad()
    def applied(self, model: torch.nn.Module) -> Iterator[None]:
        """Within the block the model holds the averaged weights; its own weights come back afterwards."""
        live = self._live(model)
        saved = {k: v.clone() for k, v in live.items()}
        for k, v in live.items():
            v.copy_(self.shadow[k])
        try:
            yield
        finally:
            for k, v in live.items():
                v.copy_(saved[k])

    @torch.no_grad()
    def copy_to(self, model: torch.nn.Module) -> None:
        """Put the averaged weights into the model for good (at the end of training)."""
        for k, v in self._live(model).items():
            v.copy_(self.shadow[k])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for k, v in self.shadow.items():
            v.copy_(state[k])
