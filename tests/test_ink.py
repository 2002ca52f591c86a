"""The ink polarity of new images against the training images' (:mod:`nooverfit.ink`),
against hand-computed medians."""

from __future__ import annotations

import numpy as np

from nooverfit.ink import median_range, polarity_warning


def _images(*backgrounds: float, ink: float) -> np.ndarray:
    """2x2 one-channel images of three background pixels and one of ink each."""
    x = np.array([[bg, bg, bg, ink] for bg in backgrounds], dtype=np.float32)
    return x.reshape(len(backgrounds), 1, 2, 2)


def test_median_range_is_the_backgrounds_range():
    # medians of [0, 0, 0, 1], [0.2, 0.2, 0.2, 1]: 0 and 0.2
    assert median_range(_images(0.0, 0.2, ink=1.0)) == [0.0, np.float32(0.2)]
    assert median_range(np.zeros((0, 1, 2, 2))) is None


def test_an_image_unlike_every_training_images_background_is_named():
    medians, span = [0.0, 0.375], [0.0, 1.0]  # digits: dark backgrounds, middle 0.5
    x = _images(0.1, 0.9, 0.6, 0.5, ink=0.0)  # medians 0.1, 0.9, 0.6, 0.5
    line = polarity_warning(x, medians, span, files=["a.png", "b.png", "c.png", "d.png"])
    assert line == (
        "2 of 4 images (b.png, c.png) have a light background (median pixel above 0.5, the "
        "middle of the training range) where every training image's is dark (medians 0 to "
        "0.375): is their ink inverted? predicted as given; invert them if so"
    )  # 0.5 itself is on neither side
    one = polarity_warning(_images(0.9, ink=0.0), medians, span)
    assert one.startswith("1 of 1 image has a light background")
    assert polarity_warning(_images(0.1, 0.3, ink=1.0), medians, span) == ""


def test_light_training_backgrounds_flag_dark_images():
    line = polarity_warning(_images(0.2, 0.9, ink=1.0), [0.8, 1.0], [0.0, 1.0])
    assert line.startswith("1 of 2 images has a dark background (median pixel below 0.5")
    assert "where every training image's is light (medians 0.8 to 1)" in line


def test_no_background_convention_or_no_record_says_nothing():
    x = _images(0.9, ink=0.0)
    assert polarity_warning(x, [0.1, 0.7], [0.0, 1.0]) == ""  # photos: medians both sides
    assert polarity_warning(x, None, [0.0, 1.0]) == ""  # a card before image_medians
    assert polarity_warning(x, [0.0, 0.375], None) == ""
