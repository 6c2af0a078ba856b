"""The trainer's checkpoint: everything needed to continue a run where it stopped, in one safetensors file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from gentool.checkpoint import load_state, save_state


@dataclass
class Position:
    """Where training stands: stage index, step within it, global step, seconds spent in the stage."""

    stage: int = 0
    stage_step: int = 0
    step: int = 0
    stage_seconds: float = 0.0


def save_checkpoint(trainer: Any, optimizers: dict[str, torch.optim.Optimizer], scalers: dict[str, Any]) -> None:
    """Write model, optimizers, grad scalers, EMA, data order, RNG and position to checkpoints/last.safetensors."""
    state = {
        "model": trainer.model.state_dict(),
        "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
        "scalers": {k: s.state_dict() for k, s in scalers.items()},
        "ema": trainer.ema.state_dict() if trainer.ema else {},
        "batches": trainer.batches.state_dict(),
        "rng": {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
        "extra": trainer.model.extra_state() if hasattr(trainer.model, "extra_state") else {},
    }
    pos = trainer.position
    meta = {"stage": pos.stage, "stage_step": pos.stage_step, "step": pos.step, "stage_seconds": pos.stage_seconds,
            "train_seconds": trainer.train_seconds, "images_seen": trainer.images_seen}
    save_state(trainer.dir.checkpoint, state, meta)


def restore_checkpoint(trainer: Any) -> dict[str, Any]:
    """Load the checkpoint into the trainer; returns the optimizer and scaler states for the current stage.

    Data order and RNG are rank 0's: other ranks of a resumed torchrun job keep their own fresh ones.
    """
    path = trainer.dir.checkpoint
    try:
        state, meta = load_state(path)
        trainer.model.load_state_dict(state["model"])
        if hasattr(trainer.model, "load_extra_state"):
            trainer.model.load_extra_state(state.get("extra", {}))
        if trainer.ema:
            trainer.ema.load_state_dict(state["ema"])
    except Exception as exc:  # safetensors, JSON, a missing key or a shape mismatch: the file cannot be resumed from
        raise trainer.dir.damaged(path, f"it cannot be read as this run's checkpoint ({type(exc).__name__}: {exc})") from None
    if trainer.rank == 0:
        trainer.batches.load_state_dict(state["batches"])
        torch.set_rng_state(state["rng"]["cpu"])
        if torch.cuda.is_available() and state["rng"]["cuda"]:
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    trainer.position = Position(meta["stage"], meta["stage_step"], meta["step"], meta["stage_seconds"])
    trainer.train_seconds, trainer.images_seen = meta["train_seconds"], meta["images_seen"]
    return {"optimizers": state["optimizers"], "scalers": state["scalers"]}


def match_state_layout(optimizer: torch.optim.Optimizer) -> None:
    """Give each loaded optimizer state tensor shaped like its parameter the parameter's memory layout. A checkpoint
    holds tensors contiguous, a channels-last parameter's state is channels-last, and torch's fused optimizer kernels
    pair parameter, gradient and state element by element in memory order: left as loaded, the first step after a
    resume would update the wrong elements."""
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if torch.is_tensor(value) and value.shape == param.shape and value.stride() != param.stride():
                state[key] = torch.empty_like(param).copy_(value)
