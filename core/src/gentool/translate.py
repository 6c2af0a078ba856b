"""What `gentool translate` does: a translation model's run maps a folder of images, or a dataset split, to the
other domain, one output file per input, plus a side-by-side grid (source | translated | translated back).

Works for any model with `translate(x, direction)` and `directions` (directions are named "<s>2<t>" with the
domain letters a, b, c, ...: "a2b" reads domain a's images). Every check runs before any file is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from gentool.errors import GentoolError, unknown_choice

EXTENSIONS = (".png", ".jpg", ".jpeg")
GRID_ROWS = 16
LETTERS = "abcdefgh"
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


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
        raise GentoolError(
            f"The {getattr(model.info, 'name', '') or 'saved'} run's model does not translate images (it has no "
            "translate(x, direction) and directions); `gentool translate` needs a translation model such as cyclegan."
        )
    if direction not in directions:
        raise unknown_choice("direction", direction, directions)
    src, _, dst = direction.partition("2")
    back = f"{dst}2{src}"
    return LETTERS.index(src), (LETTERS.index(dst) if back in directions else None)


def _domain_shape(model: Any, domain: int) -> tuple[int, ...]:
    domains = getattr(model.info, "domains", ()) or (model.info,)
    return tuple(domains[domain].shape)


def _file_channels(image: Image.Image) -> int:
    return 1 if image.mode in GREY_MODES or (image.mode == "P" and _palette_is_grey(image)) else 3


def _palette_is_grey(image: Image.Image) -> bool:
    rgb = np.asarray(image.convert("RGB"))
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _read(path: Path, shape: tuple[int, ...], convert: bool) -> np.ndarray | str:
    """One file as float32 (C, H, W) in [0, 1] for the source domain, or the reason it cannot be taken."""
    from gentool.datasets.base import resize_center_crop

    channels, size = shape[0], shape[1]
    try:
        with Image.open(path) as image:
            image.load()
            have = _file_channels(image)
            if have != channels and not convert:
                return f"{'grey' if have == 1 else 'colour'} image, the domain takes {channels}-channel images"
            if "A" in image.getbands() or "transparency" in image.info:
                rgba = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
            image = resize_center_crop(image.convert("L" if channels == 1 else "RGB"), size)
    except Exception as exc:  # Pillow raises many kinds for a bad file
        return f"unreadable: {type(exc).__name__}: {exc}"
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[None] if channels == 1 else np.ascontiguousarray(array.transpose(2, 0, 1))


def _folder_inputs(folder: Path, shape: tuple[int, ...], convert: bool) -> tuple[list[Path], torch.Tensor]:
    if not folder.is_dir():
        raise GentoolError(f'--images "{folder}" is not a folder.')
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS and
                   not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not paths:
        raise GentoolError(f'--images "{folder}" holds no {", ".join(EXTENSIONS)} files.')
    arrays, bad = [], []
    for path in paths:
        result = _read(path, shape, convert)
        if isinstance(result, str):
            bad.append(f"{path.relative_to(folder)} ({result})")
        else:
            arrays.append(result)
    if bad:
        shown = "; ".join(bad[:5]) + (f"; and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise GentoolError(
            f"{len(bad)} of the {len(paths)} images under \"{folder}\" cannot be translated: {shown}. The run's source "
            f"domain takes {shape[0]}-channel images of {shape[1]}x{shape[2]} (other sizes are resized); convert the "
            "files, or pass convert=True (--convert) to turn grey into RGB and RGB into grey."
        )
    return [p.relative_to(folder) for p in paths], torch.from_numpy(np.stack(arrays))


def _convert(x: torch.Tensor, channels: int) -> torch.Tensor:
    """Grey repeated to RGB, or RGB to grey by ITU-R BT.601 luma (Pillow's convert("L"))."""
    if channels == 3:
        return x.expand(-1, 3, -1, -1).contiguous()
    return (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)


def _dataset_inputs(dataset: str | dict[str, Any], split: str, domain: int, shape: tuple[int, ...], convert: bool
                    ) -> tuple[list[Path], torch.Tensor]:
    from gentool.datasets.unpaired import square_resize
    from gentool.evaluate import split_tensors
    from gentool.registry import build

    section = {"name": dataset} if isinstance(dataset, str) else dict(dataset)
    name = section.pop("name")
    data = build("dataset", name, section, prefix="dataset")
    info = data.info()
    part = data.split(split)
    parts = getattr(part, "domains", None)
    if parts is not None:  # multi-domain data: the direction's source domain
        if domain >= len(parts):
            raise GentoolError(f'The dataset "{name}" has {len(parts)} domains; this direction reads domain {domain}.')
        part, info = parts[domain], info.domains[domain]
    x, y = split_tensors(part)
    if x.dim() != 4 or x.shape[1] not in (1, 3):
        raise GentoolError(f'The dataset "{name}" holds items of shape {tuple(x.shape[1:])}, not grey or RGB images.')
    if x.shape[1] != shape[0]:
        if not convert:
            raise GentoolError(
                f'The dataset "{name}" holds {x.shape[1]}-channel images; the run\'s source domain takes '
                f"{shape[0]}-channel images. Choose dataset options that give them (e.g. image-folder's channels), or "
                "pass convert=True (--convert) to turn grey into RGB and RGB into grey."
            )
        x = _convert(x, shape[0])
    x = square_resize(x, shape[1])  # like the unpaired dataset: centre square, resized
    names = info.class_names
    files = [Path(names[int(y[i])] if y is not None and names else "") / f"{i:05d}.png" for i in range(len(x))]
    return files, x


def _save(array: torch.Tensor, path: Path) -> None:
    pixels = (array.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    image = Image.fromarray(pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        image.save(path, quality=95)
    else:
        image.save(path)


@torch.no_grad()
def translate_run(
    run_dir: str | Path, direction: str, out: str | Path, *, images: str | Path | None = None,
    dataset: str | dict[str, Any] | None = None, split: str = "test", overwrite: bool = False, convert: bool = False,
    device: str = "cpu", batch_size: int = 64,
) -> Translation:
    """Translate `images` (a folder, searched recursively) or the `split` of `dataset` with the run's model, writing
    `out/<relative name>` per input (dataset items: `out/<class>/<index>.png`) and `out/grid.png` (up to 16 inputs
    spread over them). Refuses, before writing anything, a missing or empty folder, an unknown direction, images of a
    channel count the source domain does not take (unless `convert`), and existing files unless `overwrite`. Images
    of another size are centre-cropped square and resized to the domain's size, as training data is."""
    from gentool.checkpoint import load
    from gentool.images import save_samples
    from gentool.trainer.device import pick_device

    if (images is None) == (dataset is None):
        raise GentoolError("Give exactly one input: --images DIR or --dataset NAME.")
    model = load(run_dir, pick_device(device)).eval()
    source, back_from = source_domain(model, direction)
    shape = _domain_shape(model, source)
    if images is not None:
        files, x = _folder_inputs(Path(images), shape, convert)
    else:
        files, x = _dataset_inputs(dataset, split, source, shape, convert)  # type: ignore[arg-type]
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
    result = torch.cat([model.translate(x[i : i + batch_size], direction).float().cpu()
                        for i in range(0, len(x), batch_size)])
    for array, target in zip(result, targets):
        _save(array, target)
    rows = torch.linspace(0, len(x) - 1, min(GRID_ROWS, len(x))).round().long().unique()  # spread over the inputs
    columns = [x[rows], result[rows]]
    if back is not None:
        columns.append(model.translate(result[rows], back).float().cpu())
    rgb = [c.expand(-1, 3, -1, -1) if c.shape[1] == 1 else c for c in columns]
    side = max(c.shape[-1] for c in rgb)
    rgb = [torch.nn.functional.interpolate(c, size=(side, side), mode="nearest") if c.shape[-1] != side else c
           for c in rgb]
    save_samples(torch.stack(rgb, 1).reshape(len(rows) * len(rgb), 3, side, side), grid, nrow=len(rgb))
    return Translation(targets, grid, direction, shape)
