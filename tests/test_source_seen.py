"""A source file records the samples it trained on; a study, `train --pretrained` and
`transfer_runs` refuse a source that trained with labels on a validation or test sample
of the target split (another seed, other --test/--val), before anything is written."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.data.tensors import prepare
from nooverfit.transfer import Source, class_subset, transfer_runs, unlabeled_pool
from nooverfit.transfer.pretrain import pool_only
from nooverfit.transfer.seen import Seen, check_source

runner = CliRunner()
SMALL = ["--width", "4", "--depth", "1", "--epochs", "1"]


@pytest.fixture(scope="module")
def source_file(tmp_path_factory):
    """A source pretrained with labels on seed 0's pool of all digits."""
    path = tmp_path_factory.mktemp("src") / "src.pt"
    result = runner.invoke(app, ["pretrain", "--classes", "0-9", *SMALL, "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _split(seed: int, dataset=None):
    dataset = dataset if dataset is not None else load_dataset("digits")
    return prepare(dataset, split_dataset(dataset, test=0.25, val=0.2, seed=seed), device="cpu")


def _source(seen: Seen | None) -> Source:
    config = RunConfig(model="cnn", width=4, depth=1)
    from nooverfit.models import build_model

    state = build_model(config, (1, 8, 8), 10).state_dict()
    return Source(config, (1, 8, 8), 10, state, "digits", seen)


def test_the_source_file_records_its_pool(source_file):
    seen = Source.load(source_file).seen
    assert seen is not None and seen.labelled
    digits = load_dataset("digits")
    split = split_dataset(digits, test=0.25, val=0.2, seed=0)
    assert len(seen.rows) == len(split.pool) == 1077
    assert Seen.of(digits.x[split.pool], labelled=True).rows.tolist() == seen.rows.tolist()


def test_train_pretrained_on_another_seed_is_refused_before_writing(tmp_path, source_file):
    out = tmp_path / "run"
    args = ["train", "--model", "cnn", "--epochs", "1", "--seed", "1"]
    result = runner.invoke(app, [*args, "--pretrained", str(source_file), "--out", str(out)])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "161 of 270 validation and 262 of 450 test samples of seed 1" in line
    assert "--seed/--test/--val" in line
    assert not out.exists()


def test_study_with_more_seeds_than_the_source_is_refused(tmp_path, source_file):
    out = tmp_path / "study"
    args = ["study", "--model", "cnn", "--seeds", "2", "--epochs", "1", "--no-classic"]
    result = runner.invoke(app, [*args, "--source", str(source_file), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "seed 1's split" in result.output and "seed 0" not in result.output.split(";")[0]
    assert "--seeds 1" in result.output
    assert not out.exists()


def test_a_class_subset_study_is_not_told_to_use_the_sources_seed(tmp_path, source_file):
    """--classes splits only those classes' samples: the hint said to "use --seeds 1 with a
    source of seed 0", which this study did, and was refused all the same."""
    out = tmp_path / "study"
    args = ["study", "--classes", "5-9", "--seeds", "1", "--epochs", "1", "--no-classic"]
    result = runner.invoke(app, [*args, "--source", str(source_file), "--out", str(out)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert "seed 0's split" in line and "--seeds 1" not in line
    assert "pretrain on classes the study does not use (with --classes" in line
    assert not out.exists()


def test_train_classes_is_refused_as_the_class_subset_study_is(tmp_path, source_file):
    """train --classes splits only those classes' samples, as the study does: the same
    samples of the source's pool are refused, and the hint names no --seed either."""
    said = {}
    for command, given in (("study", "--source"), ("train", "--pretrained")):
        out = tmp_path / command
        args = [command, "--classes", "5-9", "--model", "cnn", "--epochs", "1"]
        extra = ["--seeds", "1", "--no-classic"] if command == "study" else []
        result = runner.invoke(app, [*args, *extra, given, str(source_file), "--out", str(out)])
        assert result.exit_code == 2, result.output
        (said[command],) = result.output.strip().splitlines()
        assert "seed 0's split" in said[command] and "--seed/" not in said[command]
        assert not out.exists()
    refusal = {c: line.split("; ")[0] for c, line in said.items()}
    assert refusal["train"] == refusal["study"]
    assert "pretrain on classes train does not use (with --classes train splits" in said["train"]


def test_train_classes_from_a_source_of_the_other_classes_trains(tmp_path):
    """The README's workflow: pretrain on classes 0-4, train on 5-9 from that source."""
    source = tmp_path / "source.pt"
    args = ["pretrain", "--classes", "0-4", *SMALL, "--out", str(source)]
    assert runner.invoke(app, args).exit_code == 0
    out = tmp_path / "run"
    args = ["train", "--classes", "5-9", "--epochs", "1", "--train-per-class", "5"]
    result = runner.invoke(app, [*args, "--pretrained", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "model.json").read_text())
    assert card["classes"] == ["5", "6", "7", "8", "9"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data options"]["classes"] == "5-9"
    assert metrics["transfer"]["pretrained"] == str(source)


def test_the_split_it_was_pretrained_on_passes(source_file):
    check_source(str(source_file), {0: _split(0)}, hint="")


def test_transfer_runs_refuses_a_source_that_saw_the_test_samples(source_file):
    with pytest.raises(ValueError, match="seed 1's split"):
        transfer_runs(
            _split(1), source=Source.load(source_file), base_config=RunConfig(seed=1, epochs=1)
        )


def test_a_source_of_other_classes_passes():
    digits = load_dataset("digits")
    pool = unlabeled_pool(split_dataset(digits, test=0.25, val=0.2, seed=0))
    seen = Seen.of(class_subset(pool_only(digits, pool), range(5)).x, labelled=True)
    # another seed, but the target's classes 5-9 were never in the source
    check_source(_source(seen), {1: _split(1, class_subset(digits, range(5, 10)))}, hint="")
    with pytest.raises(ValueError, match="seed 1"):
        check_source(_source(seen), {1: _split(1, class_subset(digits, range(5)))}, hint="")


def test_a_pretext_source_that_saw_test_images_warns(caplog):
    digits = load_dataset("digits")
    seen = Seen.of(digits.x, labelled=False)
    with caplog.at_level(logging.WARNING):
        check_source(_source(seen), {1: _split(1)}, hint="pretrain on its pool")
    (record,) = caplog.records
    assert "without labels" in record.getMessage() and "seed 1" in record.getMessage()


def test_an_old_source_file_without_the_record_warns_once(tmp_path, caplog):
    path = tmp_path / "old.pt"
    _source(None).save(path)
    assert "seen" not in torch.load(path, weights_only=True)
    with caplog.at_level(logging.WARNING):
        check_source(str(path), {0: _split(0), 1: _split(1)}, hint="")
    (record,) = caplog.records
    assert "could not check" in record.getMessage()


def test_the_record_survives_save_and_load(tmp_path):
    seen = Seen.of(np.arange(24, dtype=np.float32).reshape(3, 1, 2, 4), labelled=False)
    _source(seen).save(tmp_path / "s.pt")
    back = Source.load(tmp_path / "s.pt").seen
    assert back is not None and not back.labelled
    assert back.rows.tolist() == seen.rows.tolist() and back.rows.dtype == np.uint64


def test_source_check_is_the_python_path(source_file):
    source = Source.load(source_file)
    source.check(_split(0))
    with pytest.raises(ValueError, match="seed 2's split"):
        source.check(_split(2))


def test_a_rotation_source_on_another_seed_warns_and_trains(tmp_path, caplog):
    source = tmp_path / "rot.pt"
    args = ["pretrain", "--pretext", "rotation", *SMALL, "--out", str(source)]
    assert runner.invoke(app, args).exit_code == 0
    seen = Source.load(source).seen
    assert seen is not None and not seen.labelled
    out = tmp_path / "run"
    args = ["train", "--model", "cnn", "--epochs", "1", "--seed", "1", "--train-per-class", "2"]
    with caplog.at_level(logging.WARNING):
        result = runner.invoke(app, [*args, "--pretrained", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (record,) = [r for r in caplog.records if "without labels" in r.getMessage()]
    assert "of seed 1's split" in record.getMessage()
    assert (out / "metrics.json").exists()


def _state_dict_file(tmp_path):
    from nooverfit.models import build_model

    path = tmp_path / "model.pt"
    torch.save(
        build_model(RunConfig(model="cnn", width=4, depth=1), (1, 8, 8), 10).state_dict(), path
    )
    return path


@pytest.mark.parametrize("kind", ["torchvision", "pretrained", "module", "state_dict"])
def test_a_source_without_a_record_warns_that_the_overlap_cannot_be_checked(
    tmp_path, caplog, kind
):
    from nooverfit.transfer.backbones import Pretrained

    network = torch.nn.Linear(64, 10)
    torch.save({}, tmp_path / "resnet18.pth")  # a weights file: the spec must be loadable
    source = {
        "torchvision": f"torchvision:resnet18:{tmp_path / 'resnet18.pth'}",
        "pretrained": Pretrained(network, None, "torchvision:resnet18"),
        "module": network,
        "state_dict": str(_state_dict_file(tmp_path)),
    }[kind]
    with caplog.at_level(logging.WARNING):
        said = check_source(source, {0: _split(0), 1: _split(1)}, hint="")
    (record,) = caplog.records
    assert record.getMessage() == said and "\n" not in said
    assert "cannot be checked" in said
    assert ("resnet18" in said) if kind in ("torchvision", "pretrained") else True


def test_a_pretrained_network_loaded_from_a_source_file_is_checked(source_file):
    from nooverfit.transfer.backbones import load_pretrained
    from nooverfit.transfer.runs import as_pretrained

    for pretrained in (load_pretrained(str(source_file)), as_pretrained(Source.load(source_file))):
        assert check_source(pretrained, {0: _split(0)}, hint="") is None
        with pytest.raises(ValueError, match="seed 1's split"):
            check_source(pretrained, {1: _split(1)}, hint="")


def test_a_study_from_a_source_without_a_record_says_so_in_its_report(tmp_path, caplog):
    from conftest import TINY
    from nooverfit.report import render
    from nooverfit.studies import study

    config = RunConfig(model="cnn", width=4, depth=1)
    source = str(_state_dict_file(tmp_path))
    with caplog.at_level(logging.WARNING):
        result = study(
            "digits",
            model=config.model,
            width=4,
            depth=1,
            train_per_class=5,
            budget=TINY,
            seeds=1,
            source=source,
            engine="sequential",
        )
    note = result.extras["source_check"]
    assert "cannot be checked" in note and source in note
    assert [r.getMessage() for r in caplog.records].count(note) == 1  # the CLI's one line
    assert f"Warning: {note}." in render(result, {}).replace("&#39;", "'")


def _cnn_study(path, *, seeds: int):
    """A tiny sequential CNN study of digits that transfers from the source file ``path``."""
    from conftest import TINY
    from nooverfit.studies import study

    return study(
        "digits",
        model="cnn",
        width=4,
        depth=1,
        train_per_class=5,
        budget=TINY,
        seeds=seeds,
        source=str(path),
        engine="sequential",
    )


def test_a_study_reads_its_source_record_once_and_reports_a_pretext_warning(
    tmp_path, monkeypatch, caplog
):
    from nooverfit.report import render
    from nooverfit.transfer import seen as seen_module

    path = tmp_path / "pretext.pt"
    _source(Seen.of(load_dataset("digits").x, labelled=False)).save(path)  # saw every image
    reads = []
    read = seen_module.seen_of
    monkeypatch.setattr(
        seen_module, "seen_of", lambda source: reads.append(source) or read(source)
    )
    with caplog.at_level(logging.WARNING):
        result = _cnn_study(path, seeds=1)
    assert [getattr(r, "spec", r) for r in reads] == [str(path)]  # the file, as read once
    note = result.extras["source_check"]
    assert "without labels (pretext)" in note and "of seed 0's split" in note
    assert [r.getMessage() for r in caplog.records].count(note) == 1
    assert f"Warning: {note}." in render(result, {}).replace("&#39;", "'")


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ("torchvision:no_such_net", "unknown torchvision model 'no_such_net'"),
        ("torchvision:no_such_net:{weights}", "unknown torchvision model 'no_such_net'"),
        ("torchvision:resnet18:{missing}", "weights file {missing} of torchvision:resnet18"),
    ],
)
def test_a_study_refuses_a_torchvision_source_it_cannot_load_before_any_run(tmp_path, spec, match):
    weights, missing = tmp_path / "w.pt", tmp_path / "missing.pt"
    torch.save({}, weights)
    spec, match = (s.format(weights=weights, missing=missing) for s in (spec, match))
    out = tmp_path / "study"
    result = runner.invoke(app, ["study", "--source", spec, "--out", str(out)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and match in line
    assert not out.exists()  # refused before the first run (it was after the remedies)


def test_a_study_refuses_a_state_dict_source_that_does_not_fit_before_any_run(tmp_path):
    source = _state_dict_file(tmp_path)  # a cnn's weights; the study's baseline is an mlp
    out = tmp_path / "study"
    args = ["study", "--epochs", "1", "--train-per-class", "2", "--seeds", "1", "--no-classic"]
    result = runner.invoke(app, [*args, "--source", str(source), "--out", str(out)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()  # no 'cannot be checked' warning first
    assert line.startswith("error: ") and "does not fit the --model/--width/--depth" in line
    assert not out.exists()  # refused before the first run (it was after the remedies)


def test_a_state_dict_that_does_not_fit_names_the_network_it_was_rebuilt_as(tmp_path):
    """Left at the defaults, 'the --model/--width/--depth given' named options never given."""
    from nooverfit.transfer.backbones import load_pretrained

    source = _state_dict_file(tmp_path)  # a cnn's weights
    with pytest.raises(ValueError, match=r"given \(mlp, width 256, depth 2; a bare state dict"):
        load_pretrained(str(source), config=RunConfig(), in_shape=(1, 8, 8))


def _counting_loads(monkeypatch, path):
    """Count ``torch.load`` calls on ``path`` (every read of a checkpoint goes through it)."""
    reads = []
    real = torch.load

    def load(f, *args, **kwargs):
        if str(f) == str(path):
            reads.append(f)
        return real(f, *args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    return reads


def test_a_study_reads_its_source_file_once_for_every_step(tmp_path, monkeypatch):
    """The source file was loaded by the options check, the fit check, the leak check and
    once per seed's transfer stage (5 loads over 2 seeds), and again to rebuild a tested
    transfer network and record its card. Now the options check (every command's check
    that the file loads) and one read the study hands along: 2."""

    path = tmp_path / "src.pt"
    _source(Seen.of(np.zeros((1, 1, 8, 8), np.float32), labelled=True)).save(path)
    reads = _counting_loads(monkeypatch, path)
    result = _cnn_study(path, seeds=2)
    assert any(r.config.label.startswith("transfer:") for r in result.runs.values())
    assert len(reads) == 2
    assert result.settings.source == str(path)  # named by its path, as before


@pytest.mark.parametrize("kind", ["source", "state_dict"])
def test_a_source_file_read_once_loads_records_and_checks_as_its_path(tmp_path, kind):
    from nooverfit.transfer.architecture import record
    from nooverfit.transfer.backbones import load_pretrained
    from nooverfit.transfer.seen import SourceFile, seen_of

    config = RunConfig(model="cnn", width=4, depth=1)
    if kind == "source":
        path = tmp_path / "src.pt"
        _source(Seen.of(np.zeros((2, 1, 8, 8), np.float32), labelled=False)).save(path)
    else:
        path = _state_dict_file(tmp_path)
    file = SourceFile.read(path)
    by_path = load_pretrained(str(path), config=config, in_shape=(1, 8, 8))
    by_file = load_pretrained(file, config=config, in_shape=(1, 8, 8))
    assert (by_file.name, by_file.in_shape) == (by_path.name, by_path.in_shape)
    for (k, a), (j, b) in zip(
        by_path.model.state_dict().items(), by_file.model.state_dict().items(), strict=True
    ):
        assert k == j and torch.equal(a, b)
    assert record(file, config, (1, 8, 8)) == record(str(path), config, (1, 8, 8))
    found, again = seen_of(file), seen_of(str(path))
    # a source file records what it saw; a bare state dict records nothing
    assert (found is None) == (again is None) == (kind != "source")
    if found is not None and again is not None:
        assert found[0] == again[0] and found[1].rows.tolist() == again[1].rows.tolist()
