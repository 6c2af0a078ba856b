"""Projection (GAN inversion): for each image, the latent whose generation is closest to it.

Gradient descent on the latent (the model's weights stay fixed) against the pixel MSE plus `feature_weight` times
the squared distance of the run's feature network's features, each per image. The start is the model's encoder
(`encode_latents(x)`) where it has one, else the best of `restarts` random draws by pixel MSE (for a conditional
model without known labels, the draws cover every class and the best class is kept).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gentool.errors import GentoolError
from gentool.latents import check_latent_model


@dataclass
class Projection:
    """Per image: the latent, its label (conditional models), the generation, PSNR and feature distance."""

    targets: torch.Tensor
    images: torch.Tensor
    latents: torch.Tensor
    labels: torch.Tensor | None
    psnr: list[float]
    feature_distance: list[float]
    start: str
    losses: list[float] = field(default_factory=list)  # the mean objective at the start and at the end


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio per image (N,) in dB for images in [0, 1]."""
    mse = (a - b).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def feature_network(model: Any, name: str | None) -> tuple[str, Any]:
    """(name, module) of the feature network for the model's data: `name`, else the one its data declares, else
    the evaluator's fallback rule; a missing one says how to go without."""
    from gentool.evaluate import fallback_network
    from gentool.registry import build

    chosen = name or model.info.features or fallback_network(model.info)
    try:
        return chosen, build("features", chosen, {}, prefix="features").eval()
    except GentoolError as exc:
        raise GentoolError(f"{exc} (Projection measures feature distance with it; choose another with --features NAME, "
                           "or project on pixels alone with --feature-weight 0.)") from None


def _objective(model: Any, z: torch.Tensor, labels: Any, x: torch.Tensor, net: Any, weight: float,
               target_features: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """(objective per image (N,), generations)."""
    images = model.generate(z, labels=labels).float()
    loss = (images - x).pow(2).flatten(1).mean(1)
    if weight and target_features is not None:
        features = net(images)["features"].float()
        loss = loss + weight * (features - target_features).pow(2).mean(1)
    return loss, images


def _random_start(model: Any, x: torch.Tensor, labels: torch.Tensor | None, restarts: int,
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The best of `restarts` draws per image by pixel MSE; an unknown class is searched too."""
    n = len(x)
    classes = model.info.num_classes if getattr(model, "conditional", False) else 0
    candidates = [labels] if labels is not None or not classes else [torch.full((n,), k) for k in range(classes)]
    best_z, best_label, best = None, None, torch.full((n,), math.inf)
    for candidate in candidates:
        for _ in range(max(1, restarts)):
            z = model.draw_latents(n, generator=generator)
            lab = candidate.to(z.device) if candidate is not None else None
            err = (model.generate(z, labels=lab).float().cpu() - x.cpu()).pow(2).flatten(1).mean(1)
            better = err < best
            best = torch.where(better, err, best)
            best_z = z.clone() if best_z is None else torch.where(better.view(-1, *[1] * (z.dim() - 1)).to(z.device),
                                                                   z, best_z)
            if lab is not None:
                best_label = lab.clone() if best_label is None else torch.where(better.to(lab.device), lab, best_label)
    return best_z, best_label


def project(
    model: Any, x: torch.Tensor, labels: torch.Tensor | None = None, *, steps: int = 500, lr: float = 0.05,
    feature_weight: float = 1.0, features: str | None = None, restarts: int = 8, seed: int = 0, start: str = "auto",
) -> Projection:
    """Project images x (N, C, H, W) in [0, 1] onto the model's generations (see the module docstring); `start`
    "auto" uses the encoder where there is one, "random" the best random draws."""
    if start not in ("auto", "random"):
        raise GentoolError(f'Unknown start "{start}". Valid: auto, random.')
    check_latent_model(model, "project onto")
    if steps < 0 or lr <= 0 or feature_weight < 0:
        raise GentoolError(f"--steps must be >= 0, --lr > 0 and --feature-weight >= 0 (got {steps}, {lr}, {feature_weight}).")
    if tuple(x.shape[1:]) != tuple(model.info.shape):
        raise GentoolError(f"The images are {tuple(x.shape[1:])}; the model generates {tuple(model.info.shape)}.")
    model.eval().requires_grad_(False)
    device = next(model.parameters()).device
    x = x.to(device)
    generator = torch.Generator().manual_seed(seed)
    net, target_features = None, None
    if feature_weight:
        _, net = feature_network(model, features)
        net = net.to(device).requires_grad_(False)
        with torch.no_grad():
            target_features = net(x)["features"].float()
    labels = labels.to(device) if labels is not None and getattr(model, "conditional", False) else None
    encode = getattr(model, "encode_latents", None) if start == "auto" else None
    with torch.no_grad():
        if encode is not None:
            z, start = encode(x), "encoder"
        else:
            z, labels = _random_start(model, x, labels, restarts, generator)
            start = "random"
    z = z.detach().clone().requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=lr)
    losses = []
    for step in range(steps + 1):
        loss, _ = _objective(model, z, labels, x, net, feature_weight, target_features)
        if step in (0, steps):
            losses.append(float(loss.detach().mean()))
        if step == steps:
            break
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
    with torch.no_grad():
        images = model.generate(z, labels=labels).float().clamp(0, 1)
        distance = ((net(images)["features"].float() - target_features).pow(2).mean(1) if net is not None
                    else torch.zeros(len(x), device=device))
    return Projection(x.cpu(), images.cpu(), z.detach().cpu(), labels.cpu() if labels is not None else None,
                      psnr(images, x).cpu().tolist(), distance.cpu().tolist(), start, losses)


def write_projection(result: Projection, names: list[Path], out: Path, run_dir: Path) -> Path:
    """out/projections/<name>.png per image, out/latents.safetensors (latents, labels, names: loadable by
    `gentool interpolate --latents`), out/grid.png (target | projection) and out/projection.json (the table)."""
    from safetensors.torch import save as save_bytes

    from gentool.images import save_samples
    from gentool.inputs import save_image
    from gentool.rundir import write_atomically

    for image, name in zip(result.images, names):
        save_image(image, (out / "projections" / name).with_suffix(".png"))
    tensors = {"latents": result.latents.contiguous()}
    if result.labels is not None:
        tensors["labels"] = result.labels.contiguous()
    meta = {"names": json.dumps([str(n) for n in names]), "run": str(run_dir), "start": result.start}
    write_atomically(out / "latents.safetensors", save_bytes(tensors, metadata=meta))
    pairs = torch.stack([result.targets, result.images], 1).reshape(-1, *result.images.shape[1:])
    save_samples(pairs, out / "grid.png", nrow=2 * min(8, len(names)))  # target | projection, pairs side by side
    rows = [{"image": str(n), "psnr": round(p, 3), "feature_distance": round(d, 6), "start": result.start}
            for n, p, d in zip(names, result.psnr, result.feature_distance)]
    table = {"images": rows, "mean_psnr": round(sum(result.psnr) / len(rows), 3),
             "mean_feature_distance": round(sum(result.feature_distance) / len(rows), 6), "objective": result.losses}
    write_atomically(out / "projection.json", (json.dumps(table, indent=2) + "\n").encode())
    return out


def read_latents(path: Path) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(latents, labels or None) from a latents.safetensors written by `gentool project`."""
    from safetensors.torch import load_file

    if not path.is_file():
        raise GentoolError(f'--latents "{path}" does not exist: give a latents.safetensors written by gentool project.')
    try:
        tensors = load_file(str(path))
    except Exception as exc:
        raise GentoolError(f'--latents "{path}" cannot be read ({type(exc).__name__}: {exc}).') from None
    if "latents" not in tensors:
        raise GentoolError(f'--latents "{path}" holds no "latents" tensor; it was not written by gentool project.')
    return tensors["latents"], tensors.get("labels")


def run_projection(
    run_dir: Path, out: Path, *, images: Path | None = None, dataset: str | None = None, split: str = "test",
    count: int | None = None, steps: int = 500, feature_weight: float = 1.0, features: str | None = None,
    overwrite: bool = False, device: str = "auto",
) -> dict[str, Any]:
    """`gentool project`: read the inputs, refuse an existing output unless `overwrite`, project, write; returns the
    table written to projection.json."""
    from gentool.checkpoint import load
    from gentool.inputs import read_inputs
    from gentool.trainer.device import pick_device

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise GentoolError(f'--out "{out}" already holds files; choose another folder or pass --overwrite.')
    model = load(run_dir, pick_device(device))
    check_latent_model(model, "project onto")
    names, x, labels = read_inputs(images, dataset, split, tuple(model.info.shape), count=count)
    result = project(model, x, labels, steps=steps, feature_weight=feature_weight, features=features)
    write_projection(result, names, out, Path(run_dir))
    return json.loads((out / "projection.json").read_text())
