"""Loaders of image data sets: folders in torchvision's ``ImageFolder`` layout (plain, or
augmented with left-right flips) and torchvision's MNIST, Fashion-MNIST and CIFAR-10 (read
from disk; downloaded only on request). Split from :mod:`nooverfit.data.sources`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit.data.dataset import Dataset, register_dataset
from nooverfit.data.sources import _no_argument
from nooverfit.errors import BadInput


def load_folder(arg: str | None, *, image_size: int | None = None, **_: Any) -> Dataset:
    """An image folder in torchvision ``ImageFolder`` layout (``ROOT/<class>/<image>``).

    Images are converted to grayscale when all are grayscale (else RGB) and resized to
    ``image_size`` (default: the first image's size), scaled to [0, 1].
    """
    from torchvision.datasets import ImageFolder

    if not arg:
        raise ValueError("folder data needs a path: expected --data folder:PATH")
    root = Path(arg)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    try:
        folder = ImageFolder(str(root))
    except (FileNotFoundError, RuntimeError) as err:
        sound = any(p.suffix.lower() in (".wav", ".flac") for p in root.rglob("*"))
        hint = f" (sound files: --data speech:{root})" if sound else ""
        raise ValueError(
            f"{root} is not an image folder ({err}); expected ROOT/<class>/<image>{hint}"
        ) from None
    images = [open_image(path, where="in ROOT/<class>/") for path, _ in folder.samples]
    mode = "L" if all(grayscale(im) for im in images) else "RGB"
    size = (image_size, image_size) if image_size else images[0].size
    x = image_batch([scaled_image(im, mode, size) for im in images], mode)
    y = np.array([label for _, label in folder.samples], dtype=np.int64)
    # for the audit's samples (audit_rows.py): "cat/001.png", not the loader's index
    paths = np.array([Path(path).relative_to(root).as_posix() for path, _ in folder.samples])
    groups = _folder_groups(folder)
    return Dataset(f"folder:{root}", x, y, tuple(folder.classes), "image", groups, paths=paths)


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
    """Whether ``image`` holds one channel (8-bit, 1-bit or 16/32-bit gray)."""
    return bool(image.mode in ("L", "1", *_DEEP))


def scaled_image(image: Any, mode: str, size: tuple[int, int]) -> np.ndarray:
    """One image as float32 in [0, 1], ``(H, W)`` for mode ``"L"``, ``(H, W, 3)`` for
    ``"RGB"``: 8-bit images divided by 255, 16-bit grayscale by 65535 (converting those
    to 8 bits first saturated every value above 255 to white)."""
    if image.mode in _DEEP:
        gray = np.asarray(image.convert("I").convert("F").resize(size), dtype=np.float32)
        gray = np.clip(gray / 65535.0, 0.0, 1.0)
        return gray if mode == "L" else np.repeat(gray[..., None], 3, axis=-1)
    return np.asarray(image.convert(mode).resize(size), dtype=np.float32) / 255.0


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
