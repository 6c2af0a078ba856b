"""Latent walks: `gentool interpolate` and `gentool.interpolate` for any model with the latent members.

A model opts in with three optional members (docs/plugins.md, "Latents"): `draw_latents(n, generator=None)` returns
latents z (N, ...) on the model's device, `generate(z, labels=None)` turns them into images deterministically, and
`latent_path` says how to walk between two latents: "slerp" (Gaussian latents: keeps the norm where the mass is) or
"lerp" (latents of a fitted, non-isotropic distribution). Conditional models take `labels` as int64 (N,) or as
class weights (N, K), which is how a walk between two labels at fixed noise is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gentool.errors import GentoolError

LATENT_MEMBERS = ("draw_latents", "generate")
ANIMATED = (".gif", ".webp")
STILL = (".png",)


def check_latent_model(model: Any, command: str = "interpolate") -> None:
    """A GentoolError saying why a model cannot be walked, unless it has the latent members."""
    missing = [m for m in LATENT_MEMBERS if not callable(getattr(model, m, None))]
    if missing:
        from gentool.registry import models_with

        name = getattr(getattr(model, "info", None), "name", "") or "its data"
        able = ", ".join(models_with(*LATENT_MEMBERS)) or "(none installed)"
        raise GentoolError(
            f"This run's model ({type(model).__name__}, trained on {name}) has no continuous latent to {command}: it "
            f"lacks {', '.join(missing)}() (docs/plugins.md, Latents). Installed models with latents: {able}."
        )


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(1 - t) a + t b for each t: (T,) and latents (N, ...) -> (N, T, ...)."""
    t = t.view(1, -1, *([1] * (a.dim() - 1))).to(a)
    return a.unsqueeze(1) * (1 - t) + b.unsqueeze(1) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation of each row's flattened latent (Shoemake 1985): the angle is walked at a constant
    rate and the norm linearly, so a walk between two Gaussian draws stays where Gaussian draws lie."""
    shape = a.shape
    a2, b2 = a.reshape(len(a), -1).double(), b.reshape(len(b), -1).double()
    na, nb = a2.norm(dim=1, keepdim=True), b2.norm(dim=1, keepdim=True)
    ua, ub = a2 / na.clamp_min(1e-12), b2 / nb.clamp_min(1e-12)
    omega = torch.arccos((ua * ub).sum(1, keepdim=True).clamp(-1 + 1e-7, 1 - 1e-7))  # (N, 1)
    t = t.double().view(1, -1, 1)
    sin = torch.sin(omega).unsqueeze(1)
    direction = (torch.sin((1 - t) * omega.unsqueeze(1)) * ua.unsqueeze(1) + torch.sin(t * omega.unsqueeze(1))
                 * ub.unsqueeze(1)) / sin
    norm = na.unsqueeze(1) * (1 - t) + nb.unsqueeze(1) * t
    return (direction * norm).to(a.dtype).reshape(len(a), -1, *shape[1:])


def walk(model: Any, a: torch.Tensor, b: torch.Tensor, frames: int) -> torch.Tensor:
    """Latents (N, frames, ...) from a to b, endpoints included, along the model's `latent_path`."""
    t = torch.linspace(0.0, 1.0, frames)
    path = getattr(model, "latent_path", "slerp")
    if path not in ("slerp", "lerp"):
        raise GentoolError(f'The model\'s latent_path is "{path}"; valid: slerp, lerp.')
    return (slerp if path == "slerp" else lerp)(a, b, t.to(a.device))


@dataclass
class Walks:
    """Rows of images along latent walks: `images` (rows, frames, C, H, W) in [0, 1]; `kinds` says what each row
    walks ("noise" at a fixed label or without one, "label" at fixed noise, "latents" between given latents)."""

    images: torch.Tensor
    kinds: list[str]


def _label_rows(model: Any, labels: list[int] | None, rows: int, generator: torch.Generator) -> torch.Tensor | None:
    if not getattr(model, "conditional", False):
        if labels:
            raise GentoolError("--labels was given but this model is not class-conditional; drop --labels.")
        return None
    classes = model.info.num_classes
    bad = [label for label in labels or [] if not 0 <= label < classes]
    if bad:
        raise GentoolError(f"Invalid label {bad[0]}: this model knows classes 0 to {classes - 1}.")
    if labels:
        return torch.tensor([labels[i % len(labels)] for i in range(rows)], dtype=torch.long)
    return torch.randint(classes, (rows,), generator=generator)


@torch.no_grad()
def interpolate(
    model: Any, *, n: int = 8, frames: int = 10, labels: list[int] | None = None, seed: int = 0,
    latents: torch.Tensor | None = None, latent_labels: torch.Tensor | None = None,
) -> Walks:
    """n rows of `frames` images each, walking between random endpoints (or between consecutive `latents`, e.g.
    projected ones). A conditional model's first rows walk the noise at a fixed label and its last rows walk from
    one label to the next at fixed noise."""
    check_latent_model(model)
    if n < 1 or frames < 2:
        raise GentoolError(f"Give at least one row and two frames (got --n {n}, --frames {frames}).")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    if latents is not None:
        if len(latents) < 2:
            raise GentoolError("Interpolating between saved latents needs at least two of them.")
        z = latents.to(device)
        rows = walk(model, z[:-1], z[1:], frames)
        row_labels = latent_labels[:-1].to(device) if latent_labels is not None else None
        return Walks(_render(model, rows, row_labels), ["latents"] * len(rows))
    row_labels = _label_rows(model, labels, n, generator)
    a, b = model.draw_latents(n, generator=generator), model.draw_latents(n, generator=generator)
    kinds = ["noise"] * n
    images = _render(model, walk(model, a, b, frames), row_labels.to(device) if row_labels is not None else None)
    if row_labels is not None and model.info.num_classes > 1:
        between = n // 2 or 1
        start = row_labels[-between:]
        end = (start + 1 + torch.randint(model.info.num_classes - 1, (between,), generator=generator)) % model.info.num_classes
        if labels and len(labels) > 1:  # walk from each given label to the next one
            end = torch.tensor([labels[(labels.index(int(s)) + 1) % len(labels)] for s in start])
        weights = torch.linspace(0.0, 1.0, frames)
        eye = torch.eye(model.info.num_classes)
        soft = eye[start].unsqueeze(1) * (1 - weights.view(1, -1, 1)) + eye[end].unsqueeze(1) * weights.view(1, -1, 1)
        fixed = a[-between:].unsqueeze(1).expand(between, frames, *a.shape[1:])
        label_walk = _render(model, fixed, soft.to(device))
        images = torch.cat([images[: n - between], label_walk])
        kinds = ["noise"] * (n - between) + ["label"] * between
    return Walks(images, kinds)


def _render(model: Any, rows: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """Images (R, T, C, H, W) for latents (R, T, ...); `labels` per row (R,) or per frame (R, T, K)."""
    r, t = rows.shape[:2]
    flat = rows.reshape(r * t, *rows.shape[2:])
    if labels is not None:
        labels = labels.repeat_interleave(t) if labels.dim() == 1 else labels.reshape(r * t, -1)
    images = model.generate(flat, labels=labels).float().cpu()
    return images.reshape(r, t, *images.shape[1:])


def write_walks(walks: Walks, out: Path) -> Path:
    """A PNG grid (one row per walk, one column per frame) or an animated GIF/WebP with one frame per step (the rows
    side by side in each), written atomically."""
    import io

    from gentool.images import grid_image
    from gentool.rundir import write_atomically

    rows, frames = walks.images.shape[:2]
    suffix = out.suffix.lower()
    buffer = io.BytesIO()
    if suffix in STILL:
        grid_image(walks.images.reshape(rows * frames, *walks.images.shape[2:]), nrow=frames).save(buffer, "PNG")
    elif suffix in ANIMATED:
        pictures = [grid_image(walks.images[:, f], nrow=min(rows, 8)) for f in range(frames)]
        kind = "GIF" if suffix == ".gif" else "WEBP"
        pictures[0].save(buffer, kind, save_all=True, append_images=pictures[1:], duration=120, loop=0)
    else:
        raise GentoolError(f'Unknown output type "{out.suffix}" for "{out}". Valid: {", ".join(STILL + ANIMATED)}.')
    write_atomically(out, buffer.getvalue())
    return out


def run_interpolation(
    run_dir: Path, out: Path, *, n: int = 8, frames: int = 10, labels: list[int] | None = None,
    latents: Path | None = None, seed: int = 0, device: str = "auto",
) -> Walks:
    """`gentool interpolate`: check the output type, load the run's model (refused when it has no latents), walk
    and write. Nothing is written when anything is wrong."""
    from gentool.checkpoint import load
    from gentool.project import read_latents
    from gentool.trainer.device import pick_device

    out = Path(out)
    if out.suffix.lower() not in STILL + ANIMATED:
        raise GentoolError(f'Unknown output type "{out.suffix}" for "{out}". Valid: {", ".join(STILL + ANIMATED)}.')
    saved, saved_labels = read_latents(Path(latents)) if latents is not None else (None, None)
    model = load(run_dir, pick_device(device))
    walks = interpolate(model, n=n, frames=frames, labels=labels, seed=seed, latents=saved, latent_labels=saved_labels)
    write_walks(walks, out)
    return walks
