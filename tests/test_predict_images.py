"""``nooverfit predict`` and ``load_study_model`` on image files: a model trained on
``folder:PATH`` predicts on an image or a folder of them, read as its training images were
(review i127: only a ``.npy`` array of pre-scaled pixels was taken)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.data.tensors import prepare
from nooverfit.saved_model import load_study_model
from nooverfit.studies.compare import compare
from nooverfit.study_files import write_study

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A grayscale 8x8 image folder of 3 classes x 8 images and a study of a small CNN
    trained on it."""
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for k, name in enumerate(("bar", "dot", "ring")):
        (root / "imgs" / name).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 80, (8, 8)).astype(np.uint8)
            pixels[k * 2 : k * 2 + 3, :] = 240
            Image.fromarray(pixels, "L").save(root / "imgs" / name / f"{i}.png")
    dataset = load_dataset(f"folder:{root / 'imgs'}")
    data = prepare(dataset, split_dataset(dataset, seed=0, test=6, val=6), device="cpu")
    write_study(compare(data, RunConfig(model="cnn", width=4, epochs=3)), root / "study")
    return root, dataset


def _rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_takes_a_folder_of_images_as_training_read_them(trained):
    root, dataset = trained
    result = runner.invoke(app, ["predict", str(root / "study"), "--data", str(root / "imgs")])
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    model = load_study_model(root / "study")
    expected = model.predict_proba(dataset.x)  # the loader's own arrays, in its order
    assert [r["file"] for r in rows][:2] == ["bar/0.png", "bar/1.png"] and len(rows) == 24
    probs = np.array([[float(r[f"p_{c}"]) for c in dataset.classes] for r in rows])
    np.testing.assert_allclose(probs, expected, rtol=1e-5)
    truth = [dataset.classes[k] for k in dataset.y]
    right = sum(r["prediction"] == t for r, t in zip(rows, truth, strict=True))
    # the class folders are the labels, scored as a CSV's target column is
    assert result.stderr.splitlines() == [
        f"accuracy on the class folders: {right / 24:.4f} ({right}/24)"
    ]


def test_an_rgb_image_of_another_size_is_converted_and_resized(trained, tmp_path):
    root, _ = trained
    gray = Image.open(root / "imgs" / "dot" / "3.png")
    gray.convert("RGB").resize((16, 16)).save(tmp_path / "new.png")
    by_hand = np.asarray(gray.convert("RGB").resize((16, 16)).convert("L").resize((8, 8)))
    model = load_study_model(root / "study")
    expected = model.predict_proba(by_hand[None, None].astype(np.float32) / 255)
    np.testing.assert_allclose(model.predict_proba(tmp_path / "new.png"), expected, rtol=1e-6)
    result = runner.invoke(
        app, ["predict", str(root / "study"), "--data", str(tmp_path / "new.png")]
    )
    assert result.exit_code == 0, result.output
    (row,) = _rows(result.stdout)
    assert (
        row["file"] == "new.png"
        and row["prediction"] == model.predict(by_hand[None, None] / 255)[0]
    )
    assert result.stderr.splitlines() == [
        "note: 1 image resized to 8x8, the size the network trained on",
        "note: 1 image converted to grayscale, as the network's training images were",
    ]


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda p: p.mkdir(), "holds no image files"),
        (lambda p: None, "does not exist"),
        (lambda p: p.write_text("not an image"), "is not a readable image"),
    ],
    ids=["empty folder", "missing file", "damaged file"],
)
def test_bad_image_input_is_one_line(trained, tmp_path, make, words):
    root, _ = trained
    path = tmp_path / "x.png"
    make(path)
    result = runner.invoke(app, ["predict", str(root / "study"), "--data", str(path)])
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], lines


def test_predict_warns_of_images_whose_ink_is_inverted(trained, tmp_path):
    """The training images are light bars (240) on dark noise (0-80): the same images
    inverted score as they are, wrongly, with no word; now one line names them, and the
    predictions stay those of the images as given (nothing is flipped)."""
    root, _ = trained
    (tmp_path / "new").mkdir()
    for name in ("0.png", "1.png"):
        pixels = 255 - np.asarray(Image.open(root / "imgs" / "ring" / name))
        Image.fromarray(pixels.astype(np.uint8), "L").save(tmp_path / "new" / name)
    model = load_study_model(root / "study")
    card = json.loads((root / "study" / "best_model.json").read_text())
    low, high = card["image_medians"]  # every training image's median is dark
    assert high < 0.5 and card["raw_range"][0] == 0.0
    result = runner.invoke(app, ["predict", str(root / "study"), "--data", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: 2 of 2 images (0.png, 1.png) have a light background (median pixel above "
        f"{sum(card['raw_range']) / 2:g}, the middle of the training range) where every "
        f"training image's is dark (medians {low:g} to {high:g}): is their ink inverted? "
        "predicted as given; invert them if so"
    ]
    probs = np.array([[float(r[f"p_{c}"]) for c in model.classes] for r in _rows(result.stdout)])
    np.testing.assert_allclose(probs, model.predict_proba(tmp_path / "new"), rtol=1e-5)
