"""What `gentool sample` and `gentool eval` do with a finished run directory."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gentool.checkpoint import load, write_atomically
from gentool.errors import GentoolError
from gentool.trainer.device import pick_device


def draw_samples(
    model: Any, n: int, *, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
    options: Any = None,
) -> torch.Tensor:
    """`model.sample(n, ...)`, passing `options` only when there are some (a model without a sample config does not
    take them)."""
    kwargs: dict[str, Any] = {"labels": labels, "generator": generator}
    if options is not None:
        kwargs["options"] = options
    return model.sample(n, **kwargs)


def label_tensor(model: Any, labels: list[int] | None, n: int) -> torch.Tensor | None:
    """`labels` cycled to length n, checked against the model's classes; None when not given."""
    if labels is None:
        return None
    if not getattr(model, "conditional", False):
        raise GentoolError("--labels was given but this model is not class-conditional; drop --labels.")
    classes = model.info.num_classes
    bad = [label for label in labels if not 0 <= label < classes]
    if bad:
        raise GentoolError(f"Invalid label {bad[0]}: this model knows classes 0 to {classes - 1}.")
    return torch.tensor([labels[i % len(labels)] for i in range(n)], dtype=torch.long)


@torch.no_grad()
def write_samples(run_dir: Path, n: int, labels: list[int] | None, seed: int, out: Path, fmt: str, device: str) -> Path:
    """Sample n items from the run's model and write them as a PNG grid or an .npz (`images`, `labels`)."""
    from gentool.images import save_samples

    model = load(run_dir, pick_device(device))
    label_t = label_tensor(model, labels, n)
    generator = torch.Generator().manual_seed(seed)
    images = model.sample(n, labels=label_t, generator=generator).float().cpu()
    if fmt == "npz":
        arrays = {"images": images.numpy().astype(np.float32)}
        if label_t is not None:
            arrays["labels"] = label_t.numpy()
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_atomically(out, buffer.getvalue())
    else:
        nrow = len(labels) if labels and 1 < len(labels) <= n else None  # each row repeats the --labels sequence
        save_samples(images, out, nrow=nrow)
    return out


def evaluate_run_dir(run_dir: Path, metrics: list[str], sets: list[str], device: str) -> dict[str, Any]:
    """Evaluate `metrics` for a finished run on its dataset's test split; merged into summary.json."""
    from gentool.config import apply_set
    from gentool.evaluate import evaluate
    from gentool.resolve import resolve
    from gentool.trainer.rundir import write_json

    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise GentoolError(f'"{run_dir}" is not a gentool run directory (it holds no config.json).')
    raw = json.loads(config_path.read_text())
    raw["metrics"], raw["metric"] = metrics, {}
    for assignment in sets:
        apply_set(raw, assignment)
    run = resolve(raw)
    torch_device = pick_device(device)
    model = load(run_dir, torch_device)
    dataset = run.dataset.load()(run.dataset_config)
    results = evaluate(model, dataset, run.metrics, samples=run.eval.samples, batch_size=run.eval.batch_size,
                       device=torch_device, seed=run.seed)
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    summary.setdefault("metrics", {}).update(results)
    write_json(summary_path, summary)
    return results
