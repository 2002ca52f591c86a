"""Image files for a saved image model (:mod:`nooverfit.saved_model`): one image, or a
folder of them, read as the study's image-folder loader
(:func:`nooverfit.data.image_sources.load_folder`) read its training images: pixels / 255
(16-bit gray / 65535), in the network's channels, resized to its size. Without this, a
network trained on ``folder:PATH`` took only a ``.npy`` array, which its user had to build
with that exact scaling, channel order and size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nooverfit._words import counted
from nooverfit.errors import BadInput

#: the image files a folder is searched for: torchvision ``ImageFolder``'s extensions
#: (``torchvision.datasets.folder.IMG_EXTENSIONS``, which a test holds this equal to),
#: written out because importing that module imports all of torchvision: 1.5 to 2 s more
#: after torch's 1.7 to 2.4 s (``python -X importtime`` here), in a ``nooverfit predict``
#: that otherwise never imports torchvision, not even for an image model
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class Images:
    """Image files read for a model.

    Attributes:
        x: float32 ``(N, C, H, W)`` in [0, 1], as the training images were.
        files: each row's file, relative to the folder given (its name for one file).
        labels: each file's class folder (``FOLDER/<class>/...``) where every file lies in
            a sub-folder named after one of the model's classes (a folder laid out as the
            training folder was); None otherwise.
        notes: what reading changed, one line each: images resized, converted to the
            network's channels, or with transparent pixels flattened onto white.
    """

    x: np.ndarray
    files: tuple[str, ...]
    labels: tuple[str, ...] | None
    notes: tuple[str, ...]


def is_image_input(path: Path) -> bool:
    """Whether ``path`` names image input: a folder, or a file with an image suffix."""
    return path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES


def read_images(path: Path, raw_shape: Sequence[int], classes: Sequence[str]) -> Images:
    """The image at ``path``, or every image under the folder ``path`` (sorted by path).

    Raises:
        BadInput: a folder without images, an unreadable image, or a network whose inputs
            are not 1- or 3-channel images.
    """
    from nooverfit.data.image_sources import (
        grayscale,
        image_batch,
        is_hidden,
        open_image,
        scaled_image,
        transparent,
    )

    channels, height, width = _image_shape(raw_shape)
    if path.is_dir():
        # hidden files and folders (.ipynb_checkpoints/, macOS's ._photo.png) skipped, as
        # the training folder's were: one such folder made every file's class unknown
        found = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and is_image_input(p) and not is_hidden(p.relative_to(path))
        )
        if not found:
            raise BadInput(
                f"folder {path} holds no image files; expected images "
                f"({', '.join(IMAGE_SUFFIXES)}) in it or its sub-folders (hidden ones skipped)"
            )
        files = tuple(p.relative_to(path).as_posix() for p in found)
    else:
        found, files = [path], (path.name,)
    mode = "L" if channels == 1 else "RGB"
    resized = converted = flattened = 0
    arrays = []
    for file in found:
        image = open_image(file, where="(a file or a folder of them)")
        resized += image.size != (width, height)
        converted += grayscale(image) != (mode == "L")
        flattened += transparent(image)
        arrays.append(scaled_image(image, mode, (width, height)))
    x = image_batch(arrays, mode)
    notes = []
    if resized:
        notes.append(
            f"{counted(resized, 'image')} resized to {width}x{height}, the size the network "
            "trained on"
        )
    if converted:
        into = "grayscale" if mode == "L" else "RGB"
        notes.append(
            f"{counted(converted, 'image')} converted to {into}, as the network's training "
            "images were"
        )
    if flattened:
        notes.append(
            f"{counted(flattened, 'image')} with transparent pixels flattened onto white, as "
            "the training images were"
        )
    return Images(x, files, _class_folders(files, classes), tuple(notes))


def _image_shape(raw_shape: Sequence[int]) -> tuple[int, int, int]:
    if len(raw_shape) != 3 or raw_shape[0] not in (1, 3):
        raise BadInput(
            f"this model's samples have shape {tuple(raw_shape)}, not 1- or 3-channel images; "
            "expected a .npy array of them"
        )
    channels, height, width = raw_shape
    return int(channels), int(height), int(width)


def _class_folders(files: Sequence[str], classes: Sequence[str]) -> tuple[str, ...] | None:
    """Each file's first folder, where every file has one and each names a class: files
    in other folders (``batch1/``) carry no label, and scoring them would count every one
    wrong."""
    from nooverfit.data.labels import same_label

    parts = [f.split("/") for f in files]
    if any(len(p) < 2 for p in parts):
        return None
    folders = [p[0] for p in parts]
    if not all(any(same_label(c, f) for c in classes) for f in set(folders)):
        return None
    return tuple(folders)
