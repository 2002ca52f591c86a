"""A bare state dict with its model card beside it (a train run's ``model.pt``, a study's
``best_model.pt``) transfers as the network the card records: it was rebuilt from the
command's --model/--width/--depth, so a study's batch-norm network could not be a source
at all, and an MLP's weights needed the study itself to be an MLP. A folder given as the
source names the checkpoint it holds."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.transfer.backbones import card_network, load_pretrained

runner = CliRunner()
TINY = ["--epochs", "1", "--train-per-class", "2"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A train run of a batch-norm MLP on digits 0-4: model.pt with model.json beside."""
    out = tmp_path_factory.mktemp("runs") / "mlp"
    args = ["train", "--classes", "0-4", "--width", "8", "--depth", "1", "--batchnorm"]
    result = runner.invoke(app, [*args, *TINY, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_card_network_reads_the_card_that_describes_the_file(trained, tmp_path):
    config, in_shape = card_network(trained / "model.pt")
    assert (config.model, config.width, config.depth, config.batchnorm) == ("mlp", 8, 1, True)
    assert in_shape == (1, 8, 8) and config.label == ""
    network = load_pretrained(str(trained / "model.pt"))  # no config needed
    assert isinstance(network.model[2], torch.nn.BatchNorm1d)
    # a card of other weights (another run's file copied here) describes nothing
    copy = tmp_path / "model.pt"
    torch.save({k: v + 1 for k, v in torch.load(trained / "model.pt").items()}, copy)
    (tmp_path / "model.json").write_text((trained / "model.json").read_text())
    assert card_network(copy) is None
    (tmp_path / "model.json").write_text("{not json")
    assert card_network(copy) is None


def test_a_cnn_study_transfers_from_a_train_runs_batchnorm_mlp(trained, tmp_path):
    out = tmp_path / "study"
    args = ["study", "--classes", "5-9", "--model", "cnn", "--width", "4", *TINY]
    args += ["--seeds", "1", "--no-classic", "--source", str(trained / "model.pt")]
    result = runner.invoke(app, [*args, "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output  # was: does not fit the --model ... given
    words = json.loads((out / "results.json").read_text())["extras"]["transfer"]
    assert words["strategies"]["transfer:head"].startswith(
        "retrains only new output layer 4 (Linear 8→5); 1 pretrained layer stays frozen at "
        "the source's weights, with its normalization: 1 (Linear 64→8)"
    )


def test_train_refuses_options_a_carded_state_dict_brings_itself(trained, tmp_path):
    args = ["train", "--classes", "5-9", *TINY, "--pretrained", str(trained / "model.pt")]
    result = runner.invoke(app, [*args, "--model", "cnn", "--out", str(tmp_path / "a")])
    assert result.exit_code == 2
    assert "--model cnn shape a network built here" in result.output
    assert "(the model card beside it records its network)" in " ".join(result.output.split())
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert result.exit_code == 0, result.output


def test_a_folder_given_as_the_source_names_the_checkpoint_in_it(trained, tmp_path):
    args = ["study", *TINY, "--seeds", "1", "--source", str(trained)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "study")])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line == (
        f"error: --source file {trained} is a folder; expected a checkpoint file (it holds "
        f"{trained / 'model.pt'})"
    )
