"""Loading a feature network's weights: the shipped file, or a user's own through the network's `weights` option."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from gentool.errors import GentoolError


def load_network_weights(model: nn.Module, config: Any, shipped: Path, name: str, script: str, distribution: str) -> nn.Module:
    """`model` in eval mode with float32 weights from `config.weights` (a .safetensors file) or else `shipped`.

    A missing or foreign file is refused with an error that names it and says how `script` writes such a file;
    `name` is the network's (e.g. "digits classifier"), `distribution` the one that ships its weights."""
    from safetensors.torch import load_file

    given = getattr(config, "weights", None)
    path = Path(given) if given else shipped
    if not path.is_file():
        if given:
            raise GentoolError(
                f'The {name} weights file "{path}" (option `weights`) does not exist. Give a .safetensors file that '
                f"`python {script} --out FILE` wrote, or leave `weights` unset for the shipped network."
            )
        raise GentoolError(
            f'The {name} weights "{path}" are missing. Reinstall {distribution}, or train them with '
            f"`python {script}` from a gentool checkout."
        )
    try:
        state = load_file(str(path))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except Exception as exc:  # safetensors and load_state_dict raise several kinds for a foreign file
        reason = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])[:240]
        raise GentoolError(
            f'"{path}" does not hold {name} weights ({type(exc).__name__}: {reason}). Give a file that '
            f"`python {script} --out FILE` wrote."
        ) from None
    return model.eval()
