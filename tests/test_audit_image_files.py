"""The audit names an image folder's images by their files relative to the folder
(``dog/copy.png``), not by the loader's 0-based index, which says nothing of which file
it read (``Dataset.paths``, :mod:`nooverfit.audit_rows`)."""

import json
import shutil

import numpy as np
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.transfer.pretrain import class_subset

runner = CliRunner()
CLASSES = ("cat", "dog", "fox")


def _folder(root) -> None:
    """3 classes of 6 random 8x8 grayscale images each."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for k in range(6):
            pixels = (rng.random((8, 8)) * 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(root / name / f"{name}{k}.png")


def test_an_image_folder_knows_each_images_file(tmp_path):
    _folder(tmp_path)
    ds = load_dataset(f"folder:{tmp_path}")
    # ImageFolder's order: classes sorted, then the files in each
    assert ds.paths.tolist() == [f"{c}/{c}{k}.png" for c in CLASSES for k in range(6)]
    assert class_subset(ds, (1,)).paths.tolist() == [f"dog/dog{k}.png" for k in range(6)]


def test_cli_audit_names_an_image_folders_leak_by_its_files(tmp_path):
    """A test image copied over a training image of another class (same labels, so the
    CLI's split is unchanged): the leak names both files."""
    _folder(tmp_path)
    ds = load_dataset(f"folder:{tmp_path}")
    split = split_dataset(ds, test=0.25, val=0.2, seed=0)  # the CLI's defaults
    test = int(split.test[0])
    train = next(int(i) for i in split.pool if ds.y[i] != ds.y[test])
    source, copy = ds.paths[test], ds.paths[train]  # e.g. "cat/cat0.png", "dog/dog3.png"
    shutil.copy(tmp_path / source, tmp_path / copy)
    args = ["audit", f"folder:{tmp_path}"]
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"test file {source} = training file {copy}: exact" in result.stdout
    assert "(0-based)" not in result.stdout
    data = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    leak = next(p for p in data["duplicates"]["leaks"] if p["exact"])
    assert (leak["index"], leak["match"]) == (test, train)  # the fields that were there
    assert (leak["path"], leak["match_path"]) == (source, copy)
    assert (leak["line"], leak["match_line"]) == (None, None)


def test_cli_audit_names_duplicate_training_images_by_their_files(tmp_path):
    """Two training images made one (a copy over another of its class): the audit counted
    the pair inside the training set and named neither file; it names both, as a leak's."""
    _folder(tmp_path)
    ds = load_dataset(f"folder:{tmp_path}")
    split = split_dataset(ds, test=0.25, val=0.2, seed=0)  # the CLI's defaults
    first = int(split.pool[0])
    second = next(int(i) for i in split.pool[1:] if ds.y[i] == ds.y[first])
    shutil.copy(tmp_path / ds.paths[second], tmp_path / ds.paths[first])
    result = runner.invoke(app, ["audit", f"folder:{tmp_path}"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "train 1 exact / 0 near" in result.stdout
    # the pool's first sample is the first whose nearest twin is found
    said = f"training file {ds.paths[first]} = training file {ds.paths[second]}: exact"
    assert f"  {said}\n" in result.stdout
    assert "1 exact duplicate pair inside the training set" in result.stdout
