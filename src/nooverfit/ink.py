"""Whether new images have the ink polarity of a model's training images.

An image model trained on dark digits on a light background, or light ones on a dark
background (scikit-learn's digits and MNIST: ink high, background 0), answers confidently
and wrongly on the other polarity: the default digits model scores 20 of 20 of its own
test images right and 0 of the same 20 inverted, without complaint. Each image's median
pixel is its background, since ink covers less than half of a digit's or a letter's
pixels: on digits every one of the 1,797 images has its median at or below 0.375 of the
0-1 range (most at 0), and every inverted one at or above 0.625. The range of the
training images' medians is recorded with the model (:func:`median_range`, the card's
``image_medians``); where they all lie on one side of the middle of the training range,
an image whose median lies on the other side is unlike every training image, and is
said to be (:func:`polarity_warning`), never flipped: the check is of a background
convention, and photos (a median anywhere) have none, so nothing is said of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nooverfit._words import counted


def median_range(x: np.ndarray) -> list[float] | None:
    """The smallest and largest median pixel of the images ``x`` ``(N, C, H, W)``, each
    image's median over all its channels and pixels (None: no images)."""
    if len(x) == 0:
        return None
    medians = np.median(np.asarray(x).reshape(len(x), -1), axis=1)
    return [float(medians.min()), float(medians.max())]


def polarity_warning(
    x: np.ndarray,
    medians: Sequence[float] | None,
    raw_range: Sequence[float] | None,
    *,
    files: Sequence[str] | None = None,
) -> str:
    """One line where some images ``x`` ``(N, C, H, W)`` have their median pixel on the
    other side of the middle of the training range ``raw_range`` (the training images'
    lowest and highest value) from every training image's (``medians``, their
    :func:`median_range`), else "" (also where the training images' medians lie on both
    sides, or either record is missing: older cards).

    Args:
        x: the images, on the training images' scale.
        medians: :func:`median_range` of the training images.
        raw_range: the training images' smallest and largest value.
        files: each image's file, to name the first three of those flagged.
    """
    if medians is None or raw_range is None or len(x) == 0:
        return ""
    middle = (raw_range[0] + raw_range[1]) / 2
    if medians[1] < middle:
        trained, other = "dark", "light"
    elif medians[0] > middle:
        trained, other = "light", "dark"
    else:
        return ""
    own = np.median(np.asarray(x).reshape(len(x), -1), axis=1)
    flagged = np.flatnonzero(own > middle if trained == "dark" else own < middle)
    if len(flagged) == 0:
        return ""
    which = ""
    if files is not None:
        names = ", ".join(files[i] for i in flagged[:3])
        which = f" ({names}{', ...' if len(flagged) > 3 else ''})"
    return (
        f"{len(flagged)} of {counted(len(x), 'image')}{which} "
        f"{'has' if len(flagged) == 1 else 'have'} a {other} background "
        f"(median pixel {'above' if other == 'light' else 'below'} {middle:g}, the middle of "
        f"the training range) where every training image's is {trained} (medians "
        f"{medians[0]:g} to {medians[1]:g}): is their ink inverted? predicted as given; "
        "invert them if so"
    )
