"""What `gentool translate` does: a translation model's run maps a folder of images, or a dataset split, to the
other domain, one output file per input, plus a side-by-side grid (source | translated | translated back).

Works for any model with `translate(x, direction)` and `directions` (directions are named "<s>2<t>" with the
domain letters a, b, c, ...: "a2b" reads domain a's images). Every check runs before any file is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gentool.errors import GentoolError, unknown_choice
from gentool.inputs import read_inputs, save_image

GRID_ROWS = 16
LETTERS = "abcdefgh"


@dataclass
class Translation:
    """What was written: the output files (in input order), the grid, the direction and the source domain's shape."""

    files: list[Path] = field(default_factory=list)
    grid: Path | None = None
    direction: str = ""
    shape: tuple[int, ...] = ()


def source_domain(model: Any, direction: str) -> tuple[int, int | None]:
    """(source domain, the domain the reverse direction comes back from or None) of `direction`, checked against the
    model's directions."""
    directions = tuple(getattr(model, "directions", ()) or ())
    if getattr(model, "translate", None) is None or not directions:
        from gentool.registry import models_with

        able = ", ".join(models_with("translate", "directions")) or "(none installed)"
        raise GentoolError(
            f"The {getattr(model.info, 'name', '') or 'saved'} run's model does not translate images (it has no "
            f"translate(x, direction) and directions). Installed translation models: {able}."
        )
    if direction not in directions:
        raise unknown_choice("direction", direction, directions)
    src, _, dst = direction.partition("2")
    back = f"{dst}2{src}"
    return LETTERS.index(src), (LETTERS.index(dst) if back in directions else None)


def _domain_shape(model: Any, domain: int) -> tuple[int, ...]:
    domains = getattr(model.info, "domains", ()) or (model.info,)
    return tuple(domains[domain].shape)


@torch.no_grad()
def translate_run(
    run_dir: str | Path, direction: str, out: str | Path, *, images: str | Path | None = None,
    dataset: str | dict[str, Any] | None = None, split: str = "test", overwrite: bool = False, convert: bool = False,
    device: str = "cpu", batch_size: int = 64, options: dict[str, Any] | None = None,
) -> Translation:
    """Translate `images` (a folder, searched recursively) or the `split` of `dataset` with the run's model, writing
    `out/<relative name>` per input (dataset items: `out/<class>/<index>.png`) and `out/grid.png` (up to 16 inputs
    spread over them). Refuses, before writing anything, a missing or empty folder, an unknown direction, images of a
    channel count the source domain does not take (unless `convert`), and existing files unless `overwrite`. Images
    of another size are centre-cropped square and resized to the domain's size, as training data is. `options` are
    the model's sample options (`gentool translate --set KEY=VALUE`), validated before the run is loaded; a model
    that registers a `sample_config` gets them as `translate(x, direction, options)`."""
    from gentool.checkpoint import load
    from gentool.images import save_samples
    from gentool.sampling import run_sample_options, translate_images
    from gentool.trainer.device import pick_device

    parsed = run_sample_options(run_dir, options)
    model = load(run_dir, pick_device(device)).eval()
    source, back_from = source_domain(model, direction)
    shape = _domain_shape(model, source)
    files, x, _ = read_inputs(images, dataset, split, shape, domain=source, convert=convert)
    out = Path(out)
    targets = [out / f for f in files]
    grid = out / "grid.png"
    if grid in targets:
        raise GentoolError(f'An input is named "{grid.relative_to(out)}", the name of the grid; rename it.')
    existing = [t for t in [*targets, grid] if t.exists()]
    if existing and not overwrite:
        raise GentoolError(
            f'{len(existing)} output file(s) already exist, e.g. "{existing[0]}"; choose another --out or pass '
            "--overwrite."
        )
    back = f"{LETTERS[back_from]}2{LETTERS[source]}" if back_from is not None else None
    result = torch.cat([translate_images(model, x[i : i + batch_size], direction, parsed).float().cpu()
                        for i in range(0, len(x), batch_size)])
    for array, target in zip(result, targets):
        save_image(array, target)
    rows = torch.linspace(0, len(x) - 1, min(GRID_ROWS, len(x))).round().long().unique()  # spread over the inputs
    columns = [x[rows], result[rows]]
    if back is not None:
        columns.append(translate_images(model, result[rows], back, parsed).float().cpu())
    rgb = [c.expand(-1, 3, -1, -1) if c.shape[1] == 1 else c for c in columns]
    side = max(c.shape[-1] for c in rgb)
    rgb = [torch.nn.functional.interpolate(c, size=(side, side), mode="nearest") if c.shape[-1] != side else c
           for c in rgb]
    save_samples(torch.stack(rgb, 1).reshape(len(rows) * len(rgb), 3, side, side), grid, nrow=len(rgb))
    return Translation(targets, grid, direction, shape)
