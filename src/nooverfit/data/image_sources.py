"""Loaders of image data sets: folders in torchvision's ``ImageFolder`` layout (plain, or
augmented with left-right flips) and torchvision's MNIST, Fashion-MNIST and CIFAR-10 (read
from disk; downloaded only on request). Split from :mod:`nooverfit.data.sources`.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit.data.dataset import Dataset, register_dataset
from nooverfit.data.sources import _no_argument
from nooverfit.errors import BadInput

log = logging.getLogger(__name__)


def load_folder(arg: str | None, *, image_size: int | None = None, **_: Any) -> Dataset:
    """An image folder in torchvision ``ImageFolder`` layout (``ROOT/<class>/<image>``).

    Hidden files and folders (a name starting with ``.``: ``.ipynb_checkpoints``, macOS's
    ``._photo.png``) are skipped: ``ImageFolder`` made a class of a hidden folder. Images
    are converted to grayscale when all are grayscale (else RGB), with transparent pixels
    flattened onto white, and resized to ``image_size`` (default: the most common size,
    the first image's on a tie), scaled to [0, 1]. Each change that reaches only some of
    the images is logged as a warning, naming a few of them.

    Raises:
        FileNotFoundError: no folder ``arg``.
        ValueError: no class folders, or a class folder without images.
        BadInput: a file with an image suffix that is no readable image, or ``arg`` a file.
    """
    if not arg:
        raise ValueError("folder data needs a path: expected --data folder:PATH")
    root = Path(arg)
    if root.is_file():  # it is there: "not found" sent the user looking for a typo
        hint = "; for a CSV file, csv:PATH" if root.suffix.lower() in (".csv", ".tsv") else ""
        raise BadInput(
            f"folder:{root} is a file; expected folder:PATH naming a folder of "
            f"ROOT/<class>/ images{hint}"
        )
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    folder = _visible_folder(root)
    images = [open_image(path, where="in ROOT/<class>/") for path, _ in folder.samples]
    # for the audit's samples (audit_rows.py): "cat/001.png", not the loader's index
    files = [Path(path).relative_to(root).as_posix() for path, _ in folder.samples]
    mode = "L" if all(grayscale(im) for im in images) else "RGB"
    size = (image_size, image_size) if image_size else _common_size(images)
    for note in _changes(images, files, mode, size, asked=image_size is not None):
        log.warning("%s: %s", root, note)
    x = image_batch([scaled_image(im, mode, size) for im in images], mode)
    y = np.array([label for _, label in folder.samples], dtype=np.int64)
    groups = _folder_groups(folder)
    paths = np.array(files)
    return Dataset(f"folder:{root}", x, y, tuple(folder.classes), "image", groups, paths=paths)


def is_hidden(path: Path) -> bool:
    """Whether ``path`` (relative to a data folder) lies in or is a hidden entry."""
    return any(part.startswith(".") for part in path.parts)


def _visible_folder(root: Path) -> Any:
    """``ImageFolder(root)`` without hidden class folders, sub-folders and files.

    Raises:
        ValueError: no class folder, or a class folder without images, in one line.
    """
    from torchvision.datasets import ImageFolder
    from torchvision.datasets.folder import IMG_EXTENSIONS, has_file_allowed_extension

    class Visible(ImageFolder):
        def find_classes(self, directory: str | Path) -> tuple[list[str], dict[str, int]]:
            classes = sorted(
                e.name for e in os.scandir(directory) if e.is_dir() and not is_hidden(Path(e.name))
            )
            if not classes:
                raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
            return classes, {c: k for k, c in enumerate(classes)}

    def is_image(path: str) -> bool:
        inside = Path(path).relative_to(root)
        return has_file_allowed_extension(path, IMG_EXTENSIONS) and not is_hidden(inside)

    try:
        return Visible(str(root), is_valid_file=is_image)
    except (FileNotFoundError, RuntimeError) as err:
        said = str(err)
        sound = any(p.suffix.lower() in (".wav", ".flac") for p in root.rglob("*"))
        hint = f" (sound files: --data speech:{root})" if sound else ""
        empty = "Found no valid file for the classes "
        if said.startswith(empty):
            names = said.removeprefix(empty).rstrip(". ")
            many = "," in names
            raise ValueError(
                f"{root}: class folder{'s' if many else ''} {names} "
                f"{'hold' if many else 'holds'} no images; expected images "
                f"({', '.join(IMG_EXTENSIONS)}) in every ROOT/<class>/ folder (remove an "
                f"empty one){hint}"
            ) from None
        raise ValueError(
            f"{root} is not an image folder ({said}); expected ROOT/<class>/<image>{hint}"
        ) from None


def _common_size(images: Sequence[Any]) -> tuple[int, int]:
    """The most common ``(width, height)`` of ``images``; the first's on a tie."""
    counts = Counter(im.size for im in images)
    top = max(counts.values())
    return next(im.size for im in images if counts[im.size] == top)


def _some(paths: Sequence[str], hits: Sequence[bool]) -> str:
    """The first three of ``paths`` where ``hits`` holds: ``"a.png, b.png, ..."``."""
    named = [p for p, hit in zip(paths, hits, strict=True) if hit]
    return ", ".join(named[:3]) + (", ..." if len(named) > 3 else "")


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _changes(
    images: Sequence[Any], paths: Sequence[str], mode: str, size: tuple[int, int], *, asked: bool
) -> list[str]:
    """One line for each change reading makes to some of ``images`` only (resized to
    ``size``, grey repeated into RGB, transparent pixels flattened), naming a few files."""
    n, notes = len(images), []
    resized = [im.size != size for im in images]
    if any(resized) and (not asked or not all(resized)):
        sizes = Counter(
            f"{w}x{h}" for (w, h), r in zip((im.size for im in images), resized, strict=True) if r
        )
        found = ", ".join(f"{s} ({k})" for s, k in sizes.most_common(3))
        why = "the image_size asked" if asked else "the most common size"
        notes.append(
            f"{sum(resized)} of {n} images resized to {size[0]}x{size[1]}, {why} (they were "
            f"{found}{', ...' if len(sizes) > 3 else ''}; e.g. {_some(paths, resized)})"
        )
    grey = [grayscale(im) for im in images]
    if mode == "RGB" and any(grey):
        notes.append(
            f"{sum(grey)} of {n} images {_are(sum(grey))} grayscale, read as RGB (grey in all "
            f"3 channels) because {n - sum(grey)} {_are(n - sum(grey))} in colour (e.g. "
            f"{_some(paths, grey)})"
        )
    clear = [transparent(im) for im in images]
    if any(clear):
        notes.append(
            f"{sum(clear)} of {n} images {'has' if sum(clear) == 1 else 'have'} transparent "
            f"pixels, flattened onto white (e.g. {_some(paths, clear)})"
        )
    return notes


#: Pillow's modes of 16- and 32-bit integer grayscale (16-bit PNG and TIFF files).
_DEEP = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def open_image(path: str | Path, *, where: str) -> Any:
    """The image at ``path``, its pixels loaded and its file closed (a PIL image).

    Raises:
        BadInput: a damaged or non-image file; ``where`` ends the message's expectation
            (``"in ROOT/<class>/"``).
    """
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.copy()  # loads the pixels and closes the file
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:  # damaged
        raise BadInput(
            f"{path} is not a readable image ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'unreadable'}); expected "
            f"PNG/JPEG/... images {where}"
        ) from None


def grayscale(image: Any) -> bool:
    """Whether ``image`` holds one channel of grey (8-bit, 1-bit or 16/32-bit gray, with
    or without alpha, or a palette of greys only)."""
    if image.mode in ("P", "PA"):
        palette = image.getpalette() or []
        # (a "PA" image's colours are (index, alpha) pairs)
        used = [c[0] if isinstance(c, tuple) else c for _, c in image.getcolors(256) or []]
        return all(len(set(palette[3 * k : 3 * k + 3])) <= 1 for k in used)
    return bool(image.mode in ("L", "1", "LA", "La", *_DEEP))


def transparent(image: Any) -> bool:
    """Whether ``image`` has a pixel that is not fully opaque."""
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        alpha = image.convert("RGBA").getchannel("A")
        return bool(alpha.getextrema()[0] < 255)
    return False


def opaque(image: Any) -> Any:
    """``image`` with its transparent pixels flattened onto white (in RGB, or in L for a
    grey one); ``image`` itself where every pixel is opaque. Dropping the alpha channel,
    as a plain ``convert("RGB")`` does, kept whatever colour the file stores under
    transparent pixels: often black, so that black strokes on a transparent background
    read as an all-black image."""
    if not transparent(image):
        return image
    from PIL import Image

    flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat = Image.alpha_composite(flat, image.convert("RGBA")).convert("RGB")
    return flat.convert("L") if grayscale(image) else flat


def scaled_image(image: Any, mode: str, size: tuple[int, int]) -> np.ndarray:
    """One image as float32 in [0, 1], ``(H, W)`` for mode ``"L"``, ``(H, W, 3)`` for
    ``"RGB"``: 8-bit images divided by 255, 16-bit grayscale by 65535 (converting those
    to 8 bits first saturated every value above 255 to white); transparent pixels
    flattened onto white (:func:`opaque`)."""
    if image.mode in _DEEP:
        gray = np.asarray(image.convert("I").convert("F").resize(size), dtype=np.float32)
        gray = np.clip(gray / 65535.0, 0.0, 1.0)
        return gray if mode == "L" else np.repeat(gray[..., None], 3, axis=-1)
    return np.asarray(opaque(image).convert(mode).resize(size), dtype=np.float32) / 255.0


def image_batch(arrays: Sequence[np.ndarray], mode: str) -> np.ndarray:
    """Images of :func:`scaled_image` as one ``(N, C, H, W)`` array (``C`` 1 for mode
    ``"L"``, 3 for ``"RGB"``)."""
    x = np.stack(arrays)
    return x[:, None] if mode == "L" else x.transpose(0, 3, 1, 2)


def _folder_groups(folder: Any) -> np.ndarray | None:
    """Each image's group: the sub-folder under its class folder (``ROOT/<class>/<group>/``),
    or None when the images sit directly in their class folders (the "group" would be the
    class itself, and a gap per group a gap per class)."""
    root = Path(folder.root)
    found = []
    for path, label in folder.samples:
        inside = Path(path).relative_to(root / folder.classes[label]).parts
        found.append(inside[0] if len(inside) > 1 else None)
    if all(g is None for g in found):
        return None
    return np.array([g if g is not None else "(class folder)" for g in found])


_TORCHVISION = {
    "mnist": ("MNIST", "MNIST/raw"),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py"),
}


def _torchvision_loader(name: str) -> Any:
    cls_name, where = _TORCHVISION[name]

    def load(
        arg: str | None = None, *, data_dir: str | None = None, download: bool = False, **_: Any
    ) -> Dataset:
        import torchvision.datasets as tvd

        _no_argument(name, arg)
        root = Path(data_dir or "data")
        cls = getattr(tvd, cls_name)
        parts = []
        try:
            for train in (True, False):
                parts.append(cls(str(root), train=train, download=download))
        except RuntimeError:
            raise FileNotFoundError(
                f"{name} files not found under {root / where}; put them there, or pass "
                f"--download to fetch them (or --data-dir DIR)"
            ) from None
        xs, ys = [], []
        for part in parts:
            data = np.asarray(part.data, dtype=np.float32) / 255.0
            xs.append(data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2))
            ys.append(np.asarray(part.targets, dtype=np.int64))
        classes = tuple(str(c) for c in parts[0].classes)
        return Dataset(name, np.concatenate(xs), np.concatenate(ys), classes, "image")

    return load


def load_flipped_folder(arg: str | None, *, image_size: int | None = None, **_: Any) -> Dataset:
    """:func:`load_folder`, named ``folder+flip:PATH``: the same images, whose augmentation
    also flips them left-right (:data:`nooverfit.data.augment.POLICIES`); for classes
    that are themselves in a mirror (photos of objects), never for digits or text."""
    import dataclasses

    dataset = load_folder(arg, image_size=image_size)
    return dataclasses.replace(dataset, name=f"folder+flip:{dataset.name.partition(':')[2]}")


register_dataset(
    "folder", load_folder, description="folder:PATH, ImageFolder layout (never flipped)"
)
register_dataset(
    "folder+flip",
    load_flipped_folder,
    description="folder+flip:PATH, ImageFolder layout, augmented with left-right flips",
)
for _name in _TORCHVISION:
    register_dataset(_name, _torchvision_loader(_name), description="torchvision, from --data-dir")
