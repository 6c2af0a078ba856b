"""Weights and trainer state in safetensors files (never pickle), written atomically; `load` rebuilds a model.

A file holds flat tensors plus string metadata; nested state (optimizers, RNG, trainer counters) is flattened to
`prefix/key/...` tensor names with the non-tensor leaves as JSON in the metadata.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from gentool.errors import GentoolError
from gentool.rundir import RunDir, write_atomically

META_KEY = "gentool"


def flatten_state(state: Any, prefix: str, tensors: dict[str, torch.Tensor]) -> Any:
    """Move every tensor of a nested dict/list into `tensors` under a path name; returns the JSON-able rest."""
    if isinstance(state, torch.Tensor):
        tensors[prefix] = state.detach().cpu().contiguous().clone()
        return {"__tensor__": prefix}
    if isinstance(state, dict):
        return {"__dict__": [[k, flatten_state(v, f"{prefix}/{k}", tensors)] for k, v in state.items()]}
    if isinstance(state, (list, tuple)):
        return [flatten_state(v, f"{prefix}/{i}", tensors) for i, v in enumerate(state)]
    return state


def unflatten_state(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of `flatten_state` (dict keys keep their types: optimizer state uses int keys)."""
    if isinstance(skeleton, dict) and "__tensor__" in skeleton:
        return tensors[skeleton["__tensor__"]]
    if isinstance(skeleton, dict) and "__dict__" in skeleton:
        return {k: unflatten_state(v, tensors) for k, v in skeleton["__dict__"]}
    if isinstance(skeleton, list):
        return [unflatten_state(v, tensors) for v in skeleton]
    return skeleton


def save_state(path: Path, state: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
    """Save a nested state dict atomically as one safetensors file."""
    tensors: dict[str, torch.Tensor] = {}
    skeleton = flatten_state(state, "s", tensors)
    metadata = {"skeleton": json.dumps(skeleton), META_KEY: json.dumps(meta or {})}
    write_atomically(path, save_bytes(tensors, metadata=metadata))


def load_state(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(state, meta) from a file written by `save_state`."""
    data = path.read_bytes()
    tensors = load_bytes(data)
    metadata = _metadata(path)
    return unflatten_state(json.loads(metadata["skeleton"]), tensors), json.loads(metadata.get(META_KEY, "{}"))


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as fh:
        return fh.metadata() or {}


def save_model(path: Path, model: torch.nn.Module, meta: dict[str, Any]) -> None:
    """Final weights: the model's state_dict as plain tensor names, with what `load` needs in the metadata."""
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()}
    write_atomically(path, save_bytes(tensors, metadata={META_KEY: json.dumps(meta)}))


def _model_file(source: str | os.PathLike) -> Path:
    path = Path(source)
    path = RunDir(path).model if path.is_dir() else path
    if not path.is_file():
        raise GentoolError(f'No trained model at "{path}": expected a run directory holding model.safetensors.')
    return path


def _model_meta(path: Path) -> dict[str, Any]:
    try:
        return json.loads(_metadata(path)[META_KEY])
    except Exception as exc:
        raise GentoolError(f'"{path}" is not a gentool model file ({type(exc).__name__}: {exc}).') from None


def saved_model_name(source: str | os.PathLike) -> str:
    """The registered model name a run directory's (or model file's) weights belong to."""
    return _model_meta(_model_file(source))["model"]["name"]


def load(source: str | os.PathLike, device: str | torch.device = "cpu") -> torch.nn.Module:
    """Rebuild a trained model from a run directory (or its `model.safetensors`), ready to `sample(n)`."""
    from gentool.protocols import DataInfo
    from gentool.registry import build_model, registry

    path = _model_file(source)
    meta = _model_meta(path)
    component = registry().get("model", meta["model"]["name"])
    options = {k: v for k, v in meta["model"].items() if k != "name"}
    config = component.parse(options, "model")
    model = build_model(component, config, DataInfo.from_json(meta["data_info"]))
    try:
        with safe_open(str(path), framework="pt", device="cpu") as fh:
            state = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no items()
    except Exception as exc:  # a truncated or overwritten file
        raise GentoolError(
            f'The weights in "{path}" cannot be read ({type(exc).__name__}: {exc}): the file is damaged. Restore it '
            "from a copy, or retrain the run."
        ) from None
    mismatch = _state_mismatch(model, state)
    if mismatch:
        saved = ", ".join(f"{k} {v}" for k, v in sorted(meta.get("versions", {}).items())) or "unknown versions"
        raise GentoolError(
            f'The weights in "{path}" do not fit the {meta["model"]["name"]} model that their saved options build '
            f"({mismatch}). They were written by {saved}; a plugin whose model changed since cannot read them: "
            "install those versions to load them."
        )
    model.load_state_dict(state)
    return model.to(device).eval()


def _state_mismatch(model: torch.nn.Module, state: dict[str, torch.Tensor]) -> str:
    """What keeps `state` from loading into `model` (missing, unexpected or reshaped tensors), or "" when it fits."""
    expected = model.state_dict()
    problems = {
        "missing": expected.keys() - state.keys(),
        "unexpected": state.keys() - expected.keys(),
        "other shapes": {k for k in expected.keys() & state.keys() if expected[k].shape != state[k].shape},
    }
    return "; ".join(f"{label}: {_first_names(names)}" for label, names in problems.items() if names)


def _first_names(names: set[str], shown: int = 4) -> str:
    """Up to `shown` of the names, sorted, then "..." if there are more."""
    first = sorted(names)[:shown]
    return ", ".join(first) + (", ..." if len(names) > shown else "")
