"""The trainer's speed options, applied to any model the same way: channels-last memory order, fused optimizers and
torch.compile.

`trainer.channels_last` converts the model's 4-D weights and every image batch to channels-last order.
`trainer.fused_optimizers` rebuilds the model's Adam and AdamW optimizers with torch's fused kernel.
`trainer.narrow_convs` computes the model's convolutions to one output channel as taps and their shifted sum on the
CPU (gentool.narrow_conv).
`trainer.compile` compiles the model's outermost submodules of its own classes in place (`nn.Module.compile`), so that
`train_step`, however many submodules and optimizers it uses, runs their compiled forward and backward passes
while parameter names, state dicts and checkpoints stay those of the eager model. Where this machine cannot
compile (no C++ compiler for the CPU backend, no Triton for CUDA) the run falls back to eager and says why.
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from typing import Any

import torch

from gentool.errors import GentoolError
from gentool.protocols import Batch, DataInfo


@dataclasses.dataclass
class Compilation:
    """What `trainer.compile` did: the mode asked for, the modules compiled, why it fell back (None: it did not),
    and the steps that compiled graphs with their seconds (part of train_seconds)."""

    mode: str = "off"
    modules: list[str] = dataclasses.field(default_factory=list)
    fallback: str | None = None
    seconds: float = 0.0
    steps: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "modules": self.modules, "fallback": self.fallback,
                "seconds": round(self.seconds, 3), "steps": self.steps}


def compiler_missing(device: torch.device) -> str | None:
    """Why torch.compile's default backend cannot run on `device` here, else None (cheap: compiles nothing)."""
    if device.type == "cpu":
        try:
            from torch._inductor.cpp_builder import get_cpp_compiler

            get_cpp_compiler()
        except Exception as exc:  # InvalidCxxCompiler names what it looked for
            return f"torch.compile's CPU backend needs a C++ compiler and found none ({type(exc).__name__}: {exc})"
    elif device.type == "cuda":
        from torch.utils._triton import has_triton

        if not has_triton():
            return "torch.compile's CUDA backend needs the triton package, which is not installed"
    elif device.type == "mps":
        return None
    return None


def wants_channels_last(choice: bool | str, model: torch.nn.Module, info: DataInfo) -> bool:
    """Whether a run keeps images channels-last: `trainer.channels_last` when true or false; for "auto", on image
    data when the model's class says it pays (`prefers_channels_last`, measured per model in benchmarks/)."""
    if choice != "auto":
        return bool(choice)
    return info.kind != "points" and bool(getattr(model, "prefers_channels_last", False))


def apply_channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """The model with its 4-D parameters and buffers in channels-last order (others untouched)."""
    return model.to(memory_format=torch.channels_last)


def channels_last_batch(batch: Batch) -> Batch:
    """The batch with its 4-D images (and each domain's) in channels-last order."""
    x = batch.x.contiguous(memory_format=torch.channels_last) if batch.x.dim() == 4 else batch.x
    domains = tuple(channels_last_batch(d) for d in batch.domains)
    return dataclasses.replace(batch, x=x, domains=domains)


FUSABLE = (torch.optim.Adam, torch.optim.AdamW)
# where "auto" fuses: the CPU, measured in docs/benchmarks.md#fused-optimizers-and-cyclegans-kernels, and CUDA, where
# torch documents its fused implementation as theoretically the fastest
FUSED_DEVICES = ("cpu", "cuda")


def fuse_optimizers(
    optimizers: dict[str, torch.optim.Optimizer], choice: bool | str, device: torch.device
) -> dict[str, torch.optim.Optimizer]:
    """The stage's optimizers with every Adam and AdamW that leaves `fused` and `foreach` unset rebuilt with torch's
    fused kernel (same groups, hyper-parameters and update rule; one pass over all parameters instead of several
    kernels per tensor). `trainer.fused_optimizers`: false keeps them; auto fuses on the CPU and CUDA and keeps an
    optimizer torch cannot fuse; true fuses on any device and says why when torch cannot."""
    if choice is False or (choice == "auto" and device.type not in FUSED_DEVICES):
        return optimizers
    return {name: _fused(opt, required=choice is True) if _fusable(opt) else opt for name, opt in optimizers.items()}


def _fusable(opt: torch.optim.Optimizer) -> bool:
    d = opt.defaults
    return (type(opt) in FUSABLE and d.get("fused") is None and d.get("foreach") is None
            and not d.get("differentiable") and not d.get("capturable"))


def _fused(opt: torch.optim.Optimizer, required: bool) -> torch.optim.Optimizer:
    params = [p for g in opt.param_groups for p in g["params"]]
    unfit = next((p for p in params if not p.is_floating_point() or p.device.type not in _kernel_devices()), None)
    if unfit is not None:  # torch builds such an optimizer and fails only at its first step
        if not required:
            return opt
        raise GentoolError(
            f"trainer.fused_optimizers=true cannot fuse {type(opt).__name__} here: torch's fused kernel takes floating-"
            f"point parameters on {', '.join(_kernel_devices())}, and one is {unfit.dtype} on {unfit.device.type}. "
            "Set trainer.fused_optimizers=auto or false."
        )
    accepted = inspect.signature(type(opt).__init__).parameters
    defaults = {k: v for k, v in opt.defaults.items() if k in accepted}
    return type(opt)([{**g, "fused": True} for g in opt.param_groups], **(defaults | {"fused": True}))


def _kernel_devices() -> list[str]:
    """Device types torch's fused optimizer kernels run on."""
    try:
        from torch.utils._foreach_utils import _get_fused_kernels_supported_devices

        return list(_get_fused_kernels_supported_devices())
    except ImportError:  # a torch that moved the helper: the types measured here
        return list(FUSED_DEVICES)


def apply_compile(model: torch.nn.Module, mode: str, device: torch.device) -> Compilation:
    """Compile the model's outermost own submodules in place (`_compilable`); a Compilation saying what was done."""
    done = Compilation(mode=mode)
    if mode == "off":
        return done
    reason = compiler_missing(device)
    if reason is not None:
        done.fallback = f"{reason}; training runs eager. Set trainer.compile=off to silence this."
        return done
    for name, module in _compilable(model):
        module.compile(mode=None if mode == "default" else mode)
        done.modules.append(name)
    if not done.modules:
        done.fallback = ("the model has no submodule of its own with parameters (torch's built-in layers are not "
                         "compiled on their own); training runs eager")
    return done


def _compilable(module: torch.nn.Module, prefix: str = "") -> list[tuple[str, torch.nn.Module]]:
    """The outermost submodules of a class of the model's own holding parameters: torch.compile skips the forward of
    torch's built-in modules (Sequential, Linear, ...), so containers are searched inside and built-in layers left
    eager."""
    found = []
    for name, child in module.named_children():
        if not any(True for _ in child.parameters()):
            continue
        if type(child).__module__.split(".")[0] == "torch":
            found += _compilable(child, f"{prefix}{name}.")
        else:
            found.append((f"{prefix}{name}", child))
    return found


def _graphs() -> int:
    from torch._dynamo.utils import counters

    return int(counters["stats"]["unique_graphs"])


class CompileClock:
    """Times the training steps that compiled new graphs; converts a compiler failure into a GentoolError."""

    def __init__(self, compilation: Compilation) -> None:
        self.compilation = compilation
        self.active = bool(compilation.modules)

    def run(self, step: Any, *args: Any) -> Any:
        if not self.active:
            return step(*args)
        before, started = _graphs(), time.perf_counter()
        try:
            result = step(*args)
        except Exception as exc:
            if type(exc).__module__.startswith(("torch._dynamo", "torch._inductor")):
                raise GentoolError(
                    f'trainer.compile="{self.compilation.mode}" failed on this machine: {type(exc).__name__}: '
                    f"{str(exc).splitlines()[0] if str(exc) else ''}. Set trainer.compile=off to train eager."
                ) from exc
            raise
        if _graphs() != before:
            self.compilation.seconds += time.perf_counter() - started
            self.compilation.steps += 1
        return result
