import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.saved_model import load_study_model
from nooverfit.transfer import Source

runner = CliRunner()
SMALL = ["--width", "4", "--depth", "1", "--epochs", "2"]


def test_pretrain_then_train_with_transfer(tmp_path):
    source = tmp_path / "source.pt"
    result = runner.invoke(app, ["pretrain", "--classes", "0-4", *SMALL, "--out", str(source)])
    assert result.exit_code == 0, result.output
    loaded = Source.load(source)
    assert loaded.classes == 5 and loaded.task == "digits[0,1,2,3,4]"
    out = tmp_path / "run"
    result = runner.invoke(
        app,
        ["train", "--model", "cnn", "--train-per-class", "3", "--epochs", "2",
         "--pretrained", str(source), "--transfer", "head", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    transfer = metrics["transfer"]
    assert (transfer["pretrained"], transfer["strategy"]) == (str(source), "head")
    # what it froze, said on the command line too (i143)
    assert transfer["retrained"] == (
        "retrains only new output layer 4 (Linear 64→10); 1 pretrained layer stays frozen at "
        "the source's weights: 0 (Conv2d 1→4)"
    )
    assert f"head transfer from {source}: {transfer['retrained']}" in " ".join(
        result.output.split()
    )
    # The network trained is the source's (its config says so), not the --model's.
    assert transfer["architecture"]["config"] == loaded.config.to_dict()
    # and metrics.json's config is that network's (cnn, width 4, depth 1), where it said
    # the --width and --depth defaults, 256 and 2, no network here had; the run's own
    # settings are the command's
    config = metrics["config"]
    assert (config["model"], config["width"], config["depth"]) == ("cnn", 4, 1)
    assert (config["epochs"], config["train_per_class"], config["label"]) == (2, 3, "")
    card = json.loads((out / "model.json").read_text())
    assert card["members"][0]["config"] == {**config, "label": "transfer:head"}
    assert metrics["num_parameters"] == 64 * 10 + 10  # only the new 10-class head trains
    # model.json records the source's architecture as a study's card does: the folder
    # predicts, on the run's validation images its kept epoch's validation accuracy
    dataset, val = load_dataset("digits"), metrics["split"]["val"]
    labels = load_study_model(out).predict(dataset.x[val])
    accuracy = np.mean(labels == np.asarray(dataset.classes)[dataset.y[val]])
    assert accuracy == pytest.approx(metrics["best"]["val_accuracy"])
    # audit --model rebuilds that network from metrics.json alone and loads its weights.
    result = runner.invoke(
        app, ["audit", "digits", "--model", str(out), "--space", "features", "--json"]
    )
    assert result.exit_code == 0, result.output


def test_pretrain_rotation_pretext(tmp_path):
    out = tmp_path / "rot.pt"
    result = runner.invoke(
        app, ["pretrain", "--classes", "0-1", "--pretext", "rotation", *SMALL, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert Source.load(out).classes == 4


def test_train_missing_torchvision_weights_is_one_line_exit_2(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    result = runner.invoke(app, ["train", "--pretrained", "torchvision:resnet18", "--out",
                                 str(tmp_path / "r")])  # fmt: skip
    assert result.exit_code == 2
    assert "resnet18-f37072fd.pth" in result.output and "Traceback" not in result.output


def test_pretrain_bad_classes_exit_2(tmp_path):
    result = runner.invoke(app, ["pretrain", "--classes", "a-b", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "classes must look like" in result.output


def test_pretrain_contrastive_pretext(tmp_path):
    out = tmp_path / "con.pt"
    result = runner.invoke(
        app,
        ["pretrain", "--classes", "5-9", "--pretext", "contrastive", *SMALL, "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    source = Source.load(out)
    assert source.classes == 64 and source.task == "contrastive:digits[5,6,7,8,9]"
    assert source.config.augment == 1.0 and source.config.early_stopping is None
    assert source.config.batch_size == 256 and source.config.epochs == 2


def test_pretrain_unknown_pretext_exit_2(tmp_path):
    result = runner.invoke(app, ["pretrain", "--pretext", "jigsaw", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2 and "rotation, contrastive" in result.output


def test_pretrain_into_an_existing_file_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "s.pt"
    out.write_bytes(b"an earlier source")
    args = ["pretrain", "--classes", "0-1", *SMALL, "--epochs", "1", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "already exists" in lines[0] and "--overwrite" in lines[0]
    assert out.read_bytes() == b"an earlier source"
    assert runner.invoke(app, [*args, "--overwrite"]).exit_code == 0
    assert Source.load(out).classes == 2


def test_pretrain_temperature_without_contrastive_is_refused(tmp_path):
    out = tmp_path / "s.pt"
    result = runner.invoke(app, ["pretrain", "--temperature", "0.1", *SMALL, "--out", str(out)])
    assert result.exit_code == 2 and "--temperature applies to --pretext contrastive" in (
        result.output
    )
    assert not out.exists()


def test_a_bare_state_dict_of_another_width_names_the_mismatch(tmp_path):
    import torch

    from nooverfit.config import RunConfig
    from nooverfit.models import build_model
    from nooverfit.transfer import load_pretrained

    path = tmp_path / "model.pt"
    torch.save(build_model(RunConfig(width=16), (1, 8, 8), 10).state_dict(), path)
    with pytest.raises(ValueError, match=r"does not fit .*: size mismatch for"):
        load_pretrained(str(path), config=RunConfig(width=8), in_shape=(1, 8, 8))


def test_train_pretrained_refuses_network_options_its_source_does_not_have(tmp_path):
    """--width/--dropout/--batchnorm with a pretrain file were ignored (the source's network
    trained) while metrics.json recorded them as the run's config."""
    source = tmp_path / "source.pt"
    result = runner.invoke(app, ["pretrain", "--classes", "0-4", *SMALL, "--out", str(source)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "run"
    run = ["train", "--train-per-class", "3", "--epochs", "1", "--pretrained", str(source)]
    result = runner.invoke(app, [*run, "--width", "64", "--dropout", "0.5", "--out", str(out)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line == (
        f"error: --width 64, --dropout 0.5 shape a network built here, but --pretrained "
        f"{source} brings its own (width=4, dropout=0.0); expected them left out, or given "
        "to nooverfit pretrain"
    )
    assert not out.exists()
    # the source's own values, and options of training, are taken
    result = runner.invoke(app, [*run, "--model", "cnn", "--width", "4", "--l2", "0.001",
                                 "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output


def test_pretrain_ignore_leaves_out_the_column_its_error_names(tmp_path):
    """s33 i175: a CSV's identifier column was refused with "--ignore code leaves it out",
    and pretrain then answered "No such option: --ignore". It takes --ignore as train
    does, and a train run with the same --ignore starts from the source."""
    rows = [f"c{i},{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(80)]
    (tmp_path / "t.csv").write_text("code,a,b,y\n" + "".join(rows))
    data = ["--data", f"csv:{tmp_path / 't.csv'}", "--target", "y"]
    source = tmp_path / "source.pt"
    args = ["pretrain", *data, "--model", "mlp", *SMALL, "--out", str(source)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "--ignore code leaves it out" in refused.output
    result = runner.invoke(app, [*args, "--ignore", "code"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "run"
    train = ["train", *data, "--ignore", "code", "--epochs", "1", "--pretrained", str(source)]
    result = runner.invoke(app, [*train, "--out", str(out)])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "model.json").read_text())
    assert [f["name"] for f in card["columns"]["features"]] == ["a", "b"]
