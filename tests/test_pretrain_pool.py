"""`pretrain` keeps to the training pool of the split `train` makes with the same --seed,
--test and --val, so that `train --pretrained` never tests on an image the source saw."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import nooverfit.transfer
from nooverfit.cli import app
from nooverfit.data import load_dataset

runner = CliRunner()
SMALL = ["--width", "4", "--depth", "1", "--epochs", "1"]


def _rows(x: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in np.ascontiguousarray(x, dtype=np.float32)}


@pytest.mark.parametrize("extra", [["--classes", "0-4"], [], ["--pretext", "rotation"]])
def test_source_never_sees_the_test_images_of_train(tmp_path, monkeypatch, extra):
    seen: list[np.ndarray] = []
    original = nooverfit.transfer.pretrain

    def spy(dataset, config, **kwargs):
        seen.append(dataset.x)
        return original(dataset, config, **kwargs)

    monkeypatch.setattr(nooverfit.transfer, "pretrain", spy)
    split = ["--seed", "3", "--test", "0.3", "--val", "0.2"]
    source = tmp_path / "s.pt"
    result = runner.invoke(app, ["pretrain", *extra, *SMALL, *split, "--out", str(source)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "run"
    args = ["train", "--model", "cnn", "--train-per-class", "3", "--epochs", "1", *split]
    result = runner.invoke(app, [*args, "--pretrained", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    held = json.loads((out / "metrics.json").read_text())["split"]
    x = load_dataset("digits").x
    (source_x,) = seen
    if extra and extra[0] == "--pretext":  # four rotations of each pool image
        source_x = source_x[: len(source_x) // 4]
    pool = _rows(x[held["pool"]])
    assert _rows(source_x) <= pool
    for part in ("test", "val"):
        # digits holds no image twice across pool and held-out parts, so rows identify them
        assert not _rows(x[held[part]]) & pool
        assert not _rows(source_x) & _rows(x[held[part]])
