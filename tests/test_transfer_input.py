"""A source whose samples are of another kind than the target's (feature vectors for
images, images for feature vectors) is refused in one line naming both shapes: it said
"in_channels needs an nn.Conv2d input layer, got Linear(...)", and a study said it only
after training its remedies."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.data import Dataset, load_dataset, make_split, prepare
from nooverfit.models import build_model
from nooverfit.transfer import Pretrained, Source, transfer_model
from nooverfit.transfer.runs import input_change

runner = CliRunner()
TABULAR = RunConfig(model="mlp", width=4, depth=1)


def _tabular_source(tmp_path):
    """A nooverfit source file of an MLP that takes 20 features."""
    state = build_model(TABULAR, (20,), 2).state_dict()
    path = tmp_path / "tabular.pt"
    Source(TABULAR, (20,), 2, state, "synthetic").save(path)
    return path


def _digits():
    digits = load_dataset("digits")
    return prepare(digits, make_split(digits.y, test=0.25, val=0.2, seed=0), device="cpu")


def test_input_change_adapts_images_and_refuses_another_kind():
    assert input_change((1, 8, 8), (1, 8, 8), kind="image", name="s") == (None, None)
    assert input_change((1, 8, 8), (3, 16, 16), kind="image", name="s") == (3, (8, 8))
    assert input_change(None, (1, 8, 8), kind="image", name="tv") == (1, None)
    with pytest.raises(ValueError, match=r"^source s takes samples of shape \(20,\), the data's "):
        input_change((20,), (1, 8, 8), kind="image", name="s")
    with pytest.raises(ValueError, match=r"shape \(1, 8, 8\), the data's have shape \(20,\)"):
        input_change((1, 8, 8), (20,), kind="tabular", name="s")
    with pytest.raises(ValueError, match=r"^source tv reads images \(C, H, W\), the data's"):
        input_change(None, (20,), kind="tabular", name="tv")
    with pytest.raises(ValueError, match=r"shape \(20,\), the data's have shape \(30,\)"):
        input_change((20,), (30,), kind="tabular", name="s")


def test_transfer_model_refuses_a_tabular_source_for_images():
    model = build_model(TABULAR, (20,), 2)
    with pytest.raises(ValueError) as err:
        transfer_model(Pretrained(model, (20,), "tab.pt"), _digits(), strategy="io")
    assert "tab.pt takes samples of shape (20,)" in str(err.value)
    assert "in_channels" not in str(err.value)


def test_transfer_model_refuses_a_torchvision_model_for_feature_vectors():
    import torchvision

    ds = Dataset("toy", np.zeros((20, 5), np.float32), np.arange(20) % 2, ("a", "b"), "tabular")
    data = prepare(ds, make_split(ds.y, test=4, val=4, seed=0), device="cpu")
    network = Pretrained(torchvision.models.resnet18(weights=None), None, "torchvision:resnet18")
    with pytest.raises(ValueError, match=r"reads images .* have shape \(5,\); expected image"):
        transfer_model(network, data, strategy="head")


def test_train_pretrained_of_another_kind_is_one_line_exit_2(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--epochs", "1", "--train-per-class", "2", "--out", str(out)]
    result = runner.invoke(app, [*args, "--pretrained", str(_tabular_source(tmp_path))])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: source ") and "takes samples of shape (20,)" in line
    assert not out.exists()


def test_a_study_refuses_a_source_of_another_kind_before_any_run(tmp_path):
    out = tmp_path / "study"
    args = ["study", "--epochs", "1", "--train-per-class", "2", "--seeds", "1", "--no-classic"]
    result = runner.invoke(app, [*args, "--source", str(_tabular_source(tmp_path)), "--out",
                                 str(out)])  # fmt: skip
    assert result.exit_code == 2, result.output
    (line,) = [s for s in result.output.strip().splitlines() if s.startswith("error: ")]
    assert "takes samples of shape (20,), the data's have shape (1, 8, 8)" in line
    assert not out.exists()  # refused before the first run (it was after the remedies)
