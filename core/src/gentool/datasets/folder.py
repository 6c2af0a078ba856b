"""`image-folder`: PNG/JPEG files under `root`, labelled by class subfolder when there are any.

Layouts: `root/*.png` (unlabelled) or `root/<class>/**/*.png` (one subfolder per class, names sorted into labels).
Every image is converted to gray or RGB (transparent pixels become white), resized so its shorter side is `size`
and centre-cropped to size x size. Unreadable files are skipped and each is reported once, by path, in a warning
that lists all found at that point (bad headers when the folder is scanned, bad pixel data when decoded). Small folders are decoded into memory; large ones stream from disk (see `in_memory`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gentool.datasets.base import InMemorySplit, check_split, resize_center_crop, root_path, split_indices
from gentool.datasets.configs import AUTO_MEMORY_LIMIT_BYTES, ImageFolderConfig
from gentool.errors import GentoolError
from gentool.protocols import DataInfo

EXTENSIONS = (".png", ".jpg", ".jpeg")
_reported: set[str] = set()  # files already reported as unreadable by this process


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS and not path.name.startswith(".") and path.is_file()


def _images_under(folder: Path) -> list[Path]:
    return sorted((p for p in folder.rglob("*") if _is_image(p)), key=lambda p: p.as_posix())


def _reason(exc: Exception, path: str | Path) -> str:
    """`Kind: message` for a failed read, without repeating the path the report already names."""
    message = str(exc).replace(f"'{path}'", "").replace(str(path), "").strip(" :")
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def report_unreadable(root: Path, problems: dict[str, str]) -> None:
    """One warning listing every unreadable file (path: reason) not reported before by this process."""
    fresh = {path: why for path, why in problems.items() if path not in _reported}
    if fresh:
        _reported.update(fresh)
        rows = "; ".join(f"{path} ({why})" for path, why in sorted(fresh.items()))
        warnings.warn(f'image-folder "{root}": skipped {len(fresh)} unreadable file(s): {rows}', stacklevel=3)


def load_image(path: str | Path, size: int, channels: int) -> np.ndarray:
    """One image file as uint8 (channels, size, size): converted, resized (shorter side) and centre-cropped."""
    with Image.open(path) as image:
        image.load()
        if "A" in image.getbands() or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = resize_center_crop(image.convert("L" if channels == 1 else "RGB"), size)
        array = np.asarray(image, dtype=np.uint8)
    return array[None] if channels == 1 else np.ascontiguousarray(array.transpose(2, 0, 1))


def _header_problem(path: Path) -> str | None:
    """Why `path` is not an image Pillow can open (its header only is read), or None."""
    try:
        with Image.open(path) as image:
            image.size  # noqa: B018 - parsing the header is the check
    except Exception as exc:  # Pillow raises many kinds for a bad file
        return _reason(exc, path)
    return None


@dataclass
class FolderScan:
    """The readable-looking image files of a folder, their labels (or None) and the class names."""

    paths: list[Path]
    labels: np.ndarray | None
    class_names: tuple[str, ...]


def scan_folder(root: Path) -> FolderScan:
    """List the images of `root`: per class subfolder when any subfolder holds images, else those directly in it.

    Files whose header cannot be parsed are reported (one warning) and left out.
    """
    classes = [(d.name, _images_under(d)) for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")]
    classes = [(name, files) for name, files in classes if files]
    loose = sorted(p for p in root.iterdir() if _is_image(p))
    if classes:
        if loose:
            warnings.warn(
                f'image-folder "{root}": {len(loose)} image(s) directly in the folder are ignored because it has '
                f"class subfolders ({', '.join(n for n, _ in classes)}); move them into one.",
                stacklevel=3,
            )
        paths = [p for _, files in classes for p in files]
        labels = np.concatenate([np.full(len(files), k, np.int64) for k, (_, files) in enumerate(classes)])
    else:
        paths, labels = loose, None
    if not paths:
        raise GentoolError(
            f'The image-folder dataset found no {", ".join(EXTENSIONS)} files in dataset.root = "{root}". '
            "Expected images directly in that folder (unlabelled) or one subfolder of images per class "
            f'(e.g. "{root / "cat" / "0001.png"}").'
        )
    problems = {str(p): why for p in paths if (why := _header_problem(p)) is not None}
    report_unreadable(root, problems)
    keep = np.array([str(p) not in problems for p in paths], dtype=bool)
    paths = [p for p, k in zip(paths, keep, strict=False) if k]
    labels = labels[keep] if labels is not None else None
    return FolderScan(paths, labels, tuple(name for name, _ in classes))


class FolderStream(torch.utils.data.Dataset):
    """Files read lazily: item i is (float32 (C, size, size) in [0, 1], label or -1).

    A file that fails to decode is reported once and replaced by the next readable one, so a run never stops on it.
    """

    def __init__(self, paths: list[Path], labels: np.ndarray | None, size: int, channels: int) -> None:
        self.paths = [str(p) for p in paths]
        self.labels = labels
        self.size, self.channels = size, channels

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        for offset in range(len(self.paths)):
            j = (i + offset) % len(self.paths)
            try:
                array = load_image(self.paths[j], self.size, self.channels)
            except Exception as exc:  # Pillow raises many kinds for a corrupt file
                report_unreadable(Path(self.paths[j]).parent, {self.paths[j]: _reason(exc, self.paths[j])})
                continue
            return torch.from_numpy(array).float().div_(255.0), int(self.labels[j]) if self.labels is not None else -1
        raise GentoolError(f"image-folder: none of the {len(self.paths)} files of this split can be decoded.")


def decode_all(paths: list[Path], labels: np.ndarray | None, size: int, channels: int, root: Path) -> InMemorySplit:
    """Every file decoded into one InMemorySplit; files that fail to decode are reported once and dropped."""
    arrays, kept, problems = [], [], {}
    for k, path in enumerate(paths):
        try:
            arrays.append(load_image(path, size, channels))
            kept.append(k)
        except Exception as exc:  # Pillow raises many kinds for a corrupt file
            problems[str(path)] = _reason(exc, path)
    report_unreadable(root, problems)
    if not arrays:
        raise GentoolError(f'image-folder: none of the {len(paths)} files of this split under "{root}" can be decoded.')
    x = torch.from_numpy(np.stack(arrays)).float().div_(255.0)
    y = torch.from_numpy(labels[kept]) if labels is not None else None
    return InMemorySplit(x, y)


class ImageFolder:
    """Images from a folder, resized and cropped to `size`, with a seeded stratified train/test split."""

    def __init__(self, config: ImageFolderConfig) -> None:
        self.config = config
        self._scan: FolderScan | None = None
        self._index: dict[str, np.ndarray] = {}
        self._splits: dict[str, InMemorySplit | FolderStream] = {}

    @property
    def root(self) -> Path:
        return root_path(self.config.root, "image-folder", "PNG/JPEG images", folder=True)

    def _scanned(self) -> FolderScan:
        if self._scan is None:
            self._scan = scan_folder(self.root)
            n = len(self._scan.paths)
            if n < 2:
                raise GentoolError(
                    f'image-folder: dataset.root = "{self.root}" has {n} readable image; at least 2 are needed.'
                )
            train, test = split_indices(n, self.config.test_fraction, self.config.seed, self._scan.labels)
            self._index = {"train": train, "test": test}
        return self._scan

    @property
    def in_memory(self) -> bool:
        """Whether splits are decoded into memory: the `in_memory` option, or under "auto" the size rule."""
        if self.config.in_memory != "auto":
            return bool(self.config.in_memory)
        c = self.config
        return len(self._scanned().paths) * c.channels * c.size * c.size * 4 <= AUTO_MEMORY_LIMIT_BYTES

    def info(self) -> DataInfo:
        scan = self._scanned()
        c = self.config
        return DataInfo(
            kind="image",
            shape=(c.channels, c.size, c.size),
            num_classes=len(scan.class_names),
            train_size=len(self.split("train")),
            class_names=scan.class_names,
            name="image-folder",
            features=c.features,
        )

    def split(self, name: str) -> InMemorySplit | FolderStream:
        name = check_split(name)
        if name not in self._splits:
            scan, c = self._scanned(), self.config
            index = self._index[name]
            paths = [scan.paths[i] for i in index]
            labels = scan.labels[index] if scan.labels is not None else None
            if self.in_memory:
                self._splits[name] = decode_all(paths, labels, c.size, c.channels, self.root)
            else:
                self._splits[name] = FolderStream(paths, labels, c.size, c.channels)
        return self._splits[name]
