"""Image folders as users have them: hidden entries (a Jupyter checkpoint folder, macOS's
``._`` files) skipped, not made a class or read as broken images; an empty class folder
named in one line; mixed sizes resized to the most common one, not the first file's;
transparent pixels flattened onto white, not onto whatever the file stores under them;
palette and grey-with-alpha images read as grey; and every change that reaches only some
images said."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.data.image_sources import grayscale, scaled_image, transparent
from nooverfit.image_input import read_images

runner = CliRunner()


def _folder(root, classes=("a", "b"), per=3, size=(6, 6)):
    rng = np.random.default_rng(0)
    for name in classes:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per):
            pixels = rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)
            Image.fromarray(pixels, "L").save(root / name / f"{i}.png")
    return root


def test_hidden_folders_and_files_are_not_classes_or_images(tmp_path):
    root = _folder(tmp_path / "imgs")
    (root / ".ipynb_checkpoints").mkdir()
    for i in range(3):  # enough to pass as a class of its own
        Image.new("L", (6, 6)).save(root / ".ipynb_checkpoints" / f"{i}.png")
    (root / "a" / "._0.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")  # not an image
    (root / "a" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "b" / "notes.txt").write_text("taken on a Tuesday")
    data = load_dataset(f"folder:{root}")
    assert data.classes == ("a", "b")
    assert list(data.paths) == ["a/0.png", "a/1.png", "a/2.png", "b/0.png", "b/1.png", "b/2.png"]
    # predicting on the same folder skips them too, and still scores the class folders
    images = read_images(root, (1, 6, 6), data.classes)
    assert images.files == tuple(data.paths) and images.labels is not None


def test_an_empty_class_folder_is_named_in_one_line(tmp_path):
    root = _folder(tmp_path / "imgs")
    (root / "c").mkdir()
    Image.new("L", (6, 6)).save(root / "c" / ".hidden.png")  # hidden: no image of c
    with pytest.raises(ValueError) as err:
        load_dataset(f"folder:{root}")
    assert str(err.value).startswith(f"{root}: class folder c holds no images; expected images")
    assert "\n" not in str(err.value)


def test_mixed_sizes_take_the_most_common_one_and_are_said(tmp_path, caplog):
    root = tmp_path / "imgs"
    Image.new("L", (20, 12)).save(_folder(root, per=0) / "a" / "0_big.png")  # sorted first
    _folder(root, per=3)
    with caplog.at_level(logging.WARNING, logger="nooverfit"):
        data = load_dataset(f"folder:{root}")
    assert data.x.shape == (7, 1, 6, 6)  # not 20x12, the first file's
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == (
        f"{root}: 1 of 7 images resized to 6x6, the most common size (they were 20x12 (1); "
        "e.g. a/0_big.png)"
    )


def test_transparent_pixels_are_flattened_onto_white_and_said(tmp_path, caplog):
    root = _folder(tmp_path / "imgs")
    stroke = np.zeros((6, 6, 4), np.uint8)  # black everywhere, opaque on a bar only
    stroke[2:4, :, 3] = 255
    Image.fromarray(stroke, "RGBA").save(root / "b" / "3_icon.png")
    with caplog.at_level(logging.WARNING, logger="nooverfit"):
        data = load_dataset(f"folder:{root}")
    icon = list(data.paths).index("b/3_icon.png")
    expected = np.ones((6, 6), np.float32)
    expected[2:4] = 0.0  # the black bar on white: it read as an all-black image
    assert data.x.shape[1] == 3  # a colour image among grey ones: RGB, said
    np.testing.assert_array_equal(data.x[icon], np.stack([expected] * 3))
    said = [r.getMessage() for r in caplog.records]
    assert said[0].startswith(f"{root}: 6 of 7 images are grayscale, read as RGB")
    assert said[1] == (
        f"{root}: 1 of 7 images has transparent pixels, flattened onto white (e.g. b/3_icon.png)"
    )


def test_palette_and_grey_alpha_images_are_grey():
    grey = Image.fromarray(np.arange(36, dtype=np.uint8).reshape(6, 6) * 7, "L")
    assert grayscale(grey.convert("P")) and grayscale(grey.convert("LA"))
    colour = Image.fromarray(np.random.default_rng(0).integers(0, 256, (6, 6, 3), np.uint8))
    assert not grayscale(colour.convert("P"))
    assert not transparent(grey.convert("LA")) and not transparent(colour.convert("RGBA"))
    np.testing.assert_array_equal(
        scaled_image(grey.convert("P"), "L", (6, 6)), scaled_image(grey, "L", (6, 6))
    )


def test_predict_flattens_transparent_pixels_as_training_did(tmp_path):
    stroke = np.zeros((6, 6, 2), np.uint8)  # grey with alpha: black, opaque on a bar
    stroke[2:4, :, 1] = 255
    Image.fromarray(stroke, "LA").save(tmp_path / "icon.png")
    images = read_images(tmp_path / "icon.png", (1, 6, 6), ("a", "b"))
    assert images.x[0, 0, 0, 0] == 1.0 and images.x[0, 0, 2, 0] == 0.0
    assert images.notes == (
        "1 image with transparent pixels flattened onto white, as the training images were",
    )


def test_audit_of_a_folder_with_a_hidden_checkpoint_folder_keeps_its_classes(tmp_path):
    root = _folder(tmp_path / "imgs", per=4)
    (root / ".ipynb_checkpoints").mkdir()
    Image.new("L", (6, 6)).save(root / ".ipynb_checkpoints" / "0.png")
    result = runner.invoke(app, ["audit", f"folder:{root}", "--json"])
    assert result.exit_code == 0, result.output  # was: class '.ipynb_checkpoints' has 1 sample
