"""StepContext: what a model's `train_step` uses to update its optimizers without knowing the device or ranks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from gentool import distributed


class StepContext:
    """Per-stage helper handed to `Model.train_step`.

    `step(name, loss)` zeroes that optimizer's gradients, back-propagates (scaled under fp16), averages gradients
    across ranks, clips them to `clip_norm`, and steps the optimizer. `autocast()` wraps forward passes.
    """

    def __init__(
        self,
        *,
        device: torch.device,
        stage: str,
        optimizers: dict[str, torch.optim.Optimizer],
        autocast_dtype: torch.dtype | None,
        clip_norm: float | None,
    ) -> None:
        self.device = device
        self.stage = stage
        self.optimizers = optimizers
        self.autocast_dtype = autocast_dtype
        self.clip_norm = clip_norm
        self.rank = distributed.rank()
        self.world_size = distributed.world_size()
        self.global_step = 0  # set by the trainer before each train_step
        self.stage_step = 0
        self.progress = 0.0
        use_scaler = autocast_dtype == torch.float16
        self.scalers = {name: torch.amp.GradScaler("cuda", enabled=use_scaler) for name in optimizers}
        self._params = {
            name: [p for group in opt.param_groups for p in group["params"]] for name, opt in optimizers.items()
        }
        self.grad_norms: dict[str, float] = {}

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Mixed precision for the forward pass when the run uses it; a no-op in fp32."""
        if self.autocast_dtype is None:
            yield
        else:
            with torch.autocast(self.device.type, dtype=self.autocast_dtype):
                yield

    def step(self, name: str, loss: torch.Tensor) -> None:
        """One optimizer update of `name` from `loss` (see the class docstring)."""
        if name not in self.optimizers:
            raise KeyError(f'train_step asked for optimizer "{name}"; stage "{self.stage}" has {sorted(self.optimizers)}')
        optimizer, scaler, params = self.optimizers[name], self.scalers[name], self._params[name]
        for p in params:
            p.grad = None
        scaler.scale(loss).backward()
        if self.world_size > 1:
            _average_gradients(params)
        if self.clip_norm is not None:
            scaler.unscale_(optimizer)
            norm = torch.nn.utils.clip_grad_norm_(params, self.clip_norm)
            self.grad_norms[name] = norm.detach()
        scaler.step(optimizer)
        scaler.update()


def _average_gradients(params: list[torch.nn.Parameter]) -> None:
    """All-reduce the gradients of `params` as one flat buffer (what DDP does, without its bucketing hooks)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    distributed.all_reduce_mean(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset : offset + g.numel()].view_as(g))
        offset += g.numel()
