"""What `gentool sample` and `gentool eval` do with a finished run directory."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gentool.checkpoint import load, saved_model_name
from gentool.errors import GentoolError
from gentool.rundir import RunDir, write_atomically
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


def translate_images(model: Any, x: torch.Tensor, direction: str, options: Any = None) -> torch.Tensor:
    """`model.translate(x, direction)`, passing `options` only when there are some (a translation model without a
    sample config does not take them)."""
    return model.translate(x, direction) if options is None else model.translate(x, direction, options)


def run_sample_options(run_dir: str | Path, options: dict[str, Any] | None) -> Any:
    """`options` validated as the sample options of the model saved in `run_dir`, before anything is loaded; None
    for a model that declares none (any option given to it is an error naming the valid keys: none)."""
    from gentool.registry import registry
    from gentool.resolve import resolve_sample_options

    return resolve_sample_options(registry().get("model", saved_model_name(run_dir)), options or {})


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


def sample_sets(sets: list[str]) -> dict[str, Any]:
    """`gentool sample`'s `--set KEY=VALUE` (or `sample.KEY=VALUE`) as a dict of sample options."""
    from gentool.config import apply_set

    raw: dict[str, Any] = {}
    for assignment in sets:
        key = assignment.partition("=")[0].strip()
        apply_set(raw, assignment if key.startswith("sample.") else f"sample.{assignment.strip()}")
    return raw.get("sample", {})


@torch.no_grad()
def write_samples(
    run_dir: Path, n: int, labels: list[int] | None, seed: int, out: Path, fmt: str, device: str,
    options: dict[str, Any] | None = None,
) -> Path:
    """Sample n items from the run's model (with its sample `options`, validated before anything is loaded) and
    write them as a PNG grid or an .npz (`images`, `labels`)."""
    from gentool.images import save_samples

    parsed = run_sample_options(run_dir, options)
    model = load(run_dir, pick_device(device))
    label_t = label_tensor(model, labels, n)
    generator = torch.Generator().manual_seed(seed)
    images = draw_samples(model, n, labels=label_t, generator=generator, options=parsed).float().cpu()
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
    """Evaluate `metrics` for a finished run on its dataset's test split (with `--set metric.*`, `eval.*` and
    `sample.*` options); merged into summary.json with the sample options that produced them."""
    from gentool.config import apply_set
    from gentool.evaluate import evaluate
    from gentool.resolve import resolve

    directory = RunDir(run_dir)
    raw = directory.read_config()
    raw["metrics"], raw["metric"] = metrics, {}
    for assignment in sets:
        apply_set(raw, assignment)
    run = resolve(raw)
    summary = directory.read_summary()  # a damaged summary is refused before any work
    torch_device = pick_device(device)
    model = load(run_dir, torch_device)
    dataset = run.dataset.load()(run.dataset_config)
    results = evaluate(model, dataset, run.metrics, samples=run.eval.samples, batch_size=run.eval.batch_size,
                       device=torch_device, seed=run.seed, sample_options=run.sample_options, reference=True)
    summary.setdefault("metrics", {}).update(results)
    if run.sample_options is not None:
        used = run.sample_options.model_dump(mode="json")
        summary.setdefault("sample_options", {}).update({name: used for name in results})
    directory.write_json(directory.summary, summary)
    return results
