"""Images a command reads from the user (a folder, or a dataset split) as one domain's tensors, and writes back.

`gentool translate` and `gentool project` take the same inputs: `--images DIR` (.png/.jpg/.jpeg, searched
recursively, each centre-cropped square and resized to the domain's size) or `--dataset NAME [--split test]`.
Every check runs before anything is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from gentool.errors import GentoolError

EXTENSIONS = (".png", ".jpg", ".jpeg")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def read_inputs(images: str | Path | None, dataset: str | dict[str, Any] | None, split: str, shape: tuple[int, ...],
                *, domain: int = 0, convert: bool = False, count: int | None = None
                ) -> tuple[list[Path], torch.Tensor, torch.Tensor | None]:
    """(relative names, images (N, C, H, W) in [0, 1], labels or None) from exactly one of `images` and `dataset`,
    at most `count` of them; dataset items are named `<class>/<index>.png`."""
    if (images is None) == (dataset is None):
        raise GentoolError("Give exactly one input: --images DIR or --dataset NAME.")
    if count is not None and count < 1:
        raise GentoolError(f"--count must be at least 1 (got {count}).")
    if images is not None:
        names, x = folder_inputs(Path(images), shape, convert)
        labels = None
    else:
        names, x, labels = dataset_inputs(dataset, split, domain, shape, convert)
    if count is not None:
        names, x = names[:count], x[:count]
        labels = labels[:count] if labels is not None else None
    return names, x, labels


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


def folder_inputs(folder: Path, shape: tuple[int, ...], convert: bool) -> tuple[list[Path], torch.Tensor]:
    """(names relative to `folder`, images) of every image file under it; any file that cannot be taken is named."""
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


def dataset_inputs(dataset: str | dict[str, Any], split: str, domain: int, shape: tuple[int, ...], convert: bool
                   ) -> tuple[list[Path], torch.Tensor, torch.Tensor | None]:
    """(names, images, labels) of a registered dataset's `split` (of `domain` for multi-domain data)."""
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
    return files, x, y


def save_image(array: torch.Tensor, path: Path) -> None:
    """One image (C, H, W) in [0, 1] as a grey or RGB file; the suffix picks PNG or JPEG."""
    pixels = (array.clamp(0, 1).numpy() * 255 + 0.5).astype(np.uint8)
    image = Image.fromarray(pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        image.save(path, quality=95)
    else:
        image.save(path)


