from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.history import History
from nooverfit.models import build_model
from nooverfit.train import evaluate

runner = CliRunner()
FAST = ["--train-per-class", "5", "--epochs", "3", "--width", "16"]


def test_train_writes_history_metrics_and_model(tmp_path):
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", *FAST, "--out", str(out)])
    assert result.exit_code == 0, result.output
    history = History.load(out / "history.csv")
    assert len(history) == 3
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["width"] == 16
    assert len(metrics["split"]["train"]) == 50
    assert set(metrics["split"]["train"]).isdisjoint(metrics["split"]["val"])
    assert set(metrics["split"]["train"]).isdisjoint(metrics["split"]["test"])
    assert set(metrics["split"]["val"]).isdisjoint(metrics["split"]["test"])
    assert metrics["stop_reason"] == "completed" and metrics["epochs_run"] == 3
    assert metrics["final"]["val_loss"] == pytest.approx(history.val_loss[-1])
    assert metrics["best_epoch"] == 2
    assert (out / "model.pt").exists()
    assert "val_accuracy" in result.output  # the summary table


def test_train_model_pt_loads_weights_only_into_build_model(tmp_path):
    out = tmp_path / "run"
    args = ["train", *FAST, "--dropout", "0.2", "--batchnorm", "--early-stopping", "patience:5"]
    result = runner.invoke(app, [*args, "--seed", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    config = RunConfig.from_dict(metrics["config"])
    assert config.batchnorm and config.dropout == 0.2 and config.seed == 1
    state = torch.load(out / "model.pt", weights_only=True)
    model = build_model(config, (1, 8, 8), 10)
    model.load_state_dict(state)
    data = load_split("digits", seed=1, device="cpu")
    assert data.split.val.tolist() == metrics["split"]["val"]
    val = evaluate(model, data.x[data.val_index], data.y[data.val_index])
    best = metrics["best_epoch"]
    assert val.loss == pytest.approx(metrics["best"]["val_loss"], rel=1e-5)
    assert metrics["best"]["val_loss"] == pytest.approx(
        History.load(out / "history.csv").val_loss[best]
    )


def test_train_csv_data_with_target(tmp_path):
    lines = ["f1,f2,label"] + [f"{i % 7},{(i * 3) % 5},{'ab'[i % 2]}" for i in range(60)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    args = ["train", "--data", f"csv:{tmp_path / 't.csv'}", "--target", "label"]
    result = runner.invoke(app, [*args, "--epochs", "2", "--width", "8", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "metrics.json").read_text())["num_parameters"] == (2 * 8 + 8) + (
        8 * 8 + 8
    ) + (8 * 2 + 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dropout", "1"], "--dropout must be a number in [0, 1), got 1.0"),
        (["--l2", "-1"], "--l2 must be a number in [0, 1000], got -1.0"),
        (["--data", "imagenet"], "unknown data set 'imagenet'"),
        (["--data", "digits:10"], "data set digits takes no argument, got digits:10"),
        (
            ["--data", "csv:/nonexistent/x.csv", "--target", "y"],
            "CSV file not found: /nonexistent/x.csv; expected csv:PATH naming an existing CSV",
        ),
        (
            ["--data", "/nonexistent/x.csv"],
            "no file or folder '/nonexistent/x.csv'; expected a CSV file as csv:PATH",
        ),
        (["--data", "csv:{csv}"], "expected --target COLUMN, one of: a, b"),
        (["--early-stopping", "soon"], "early-stopping criterion 'soon' not understood"),
        (["--train-per-class", "1000"], "train_per_class=1000"),
        (["--model", "cnn", "--data", "csv:{csv}", "--target", "b"], "cnn needs image inputs"),
    ],
)
def test_train_bad_input_is_one_line_exit_2(tmp_path, args, message):
    csv = tmp_path / "t.csv"
    csv.write_text("a,b\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
    args = [a.replace("{csv}", str(csv)) for a in args]
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", *args, "--epochs", "1", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert not (out / "metrics.json").exists()


def test_train_help_lists_the_options():
    result = runner.invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for option in ("--train-per-class", "--l2", "--dropout", "--early-stopping", "--out"):
        assert option in result.output
    assert runner.invoke(app, ["--help"]).exit_code == 0


def test_train_diverging_run_still_writes_results(tmp_path):
    out = tmp_path / "run"
    args = ["train", *FAST, "--lr", "1e6", "--optimizer", "sgd", "--batch-size", "64"]
    result = runner.invoke(app, [*args, "--epochs", "10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stop_reason"] == "diverged"
    assert None in (metrics["final"]["loss"], metrics["final"]["val_loss"])  # NaN -> null


def test_threads_option_sets_torch_threads(tmp_path):
    import torch

    before = torch.get_num_threads()
    try:
        result = runner.invoke(app, ["--threads", "1", "train", *FAST, "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_train_into_an_earlier_run_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "run"
    args = ["train", *FAST, "--epochs", "1", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = runner.invoke(app, [*args, "--seed", "1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "holds an earlier run" in lines[0] and "--overwrite" in lines[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    result = runner.invoke(app, [*args, "--seed", "1", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert (out / "model.pt").read_bytes() != before["model.pt"]


_OTHERS = {
    # s29 i155: train wrote model.pt beside a study's best_model.pt; predict then refused
    # the folder ("holds both a study's best_model.pt and a train run's model.pt")
    "study": (("results.json", "best_model.pt", "report.html"), "results.json, best_model.pt"),
    # s32: train into a tuning's folder was accepted; its plots/history.png replaced the
    # tuning's, and its model sat beside the tuning's best.json and report
    "tuning": (
        ("best.json", "best_history.csv", "plots/history.png", "plots/importance.png"),
        "best.json, best_history.csv",
    ),
}


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.parametrize("other", _OTHERS)
def test_train_into_another_commands_folder_is_refused_even_with_overwrite(
    tmp_path, other, overwrite
):
    """A study's or a tuning's folder: refused in one line, whatever ``--overwrite``,
    every file left as it was."""
    files, found = _OTHERS[other]
    out = tmp_path / other
    (out / "plots").mkdir(parents=True)
    for name in files:
        (out / name).write_text(name)
    result = runner.invoke(app, ["train", *FAST, "--epochs", "1", "--out", str(out), *overwrite])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == (
        f"error: --out {out} holds a nooverfit {other} ({found}); expected a new folder or "
        "an earlier train run's (one command's model to a folder)"
    )
    assert {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()} == {
        n: n for n in files
    }


def test_train_help_says_what_weight_decay_is_for_each_optimizer():
    result = runner.invoke(app, ["train", "--help"], terminal_width=400)
    text = " ".join(result.output.replace("│", " ").split())
    assert "decoupled with adam/adamw" in text and "the same as --l2" in text
    assert "Adam's coupled decay is --l2" in text


def test_adam_and_adamw_are_one_optimizer_and_sgd_weight_decay_is_l2(tmp_path):
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=8, epochs=2, train_per_class=3)
    from nooverfit.models import network_for
    from nooverfit.train import fit

    def curve(config):
        return fit(network_for(config, data), data, config).val_loss

    assert curve(base.replace(weight_decay=0.1)) == curve(
        base.replace(optimizer="adamw", weight_decay=0.1)
    )
    sgd = base.replace(optimizer="sgd", lr=0.05)
    assert curve(sgd.replace(weight_decay=0.01)) == curve(sgd.replace(l2=0.01))


def test_train_per_class_0_is_the_whole_pool(tmp_path):
    out = tmp_path / "run"
    args = ["train", "--train-per-class", "0", "--epochs", "1", "--width", "8"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    split = json.loads((out / "metrics.json").read_text())["split"]
    assert sorted(split["train"]) == sorted(split["pool"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transfer", "bogus"], "--transfer bogus needs --pretrained"),
        (["--transfer", "head"], "--transfer head needs --pretrained"),
        (["--train-per-class", "-1"], "--train-per-class must be an integer in [0,"),
        (  # the library's train_per_class overrides train_size; a user giving both meant one
            ["--train-per-class", "5", "--train-size", "30"],
            "--train-per-class 5 and --train-size 30 both choose the training subset; "
            "expected one of them",
        ),
    ],
)
def test_train_options_that_would_do_nothing_are_refused(tmp_path, args, message):
    result = runner.invoke(app, ["train", *args, "--epochs", "1", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "r").exists()


def test_fit_refuses_a_model_whose_outputs_are_not_the_classes():
    from nooverfit.models import network_for
    from nooverfit.train import fit

    data = load_split("digits", seed=0, device="cpu")
    config = RunConfig(width=8, epochs=1, train_per_class=2)
    five = build_model(config, data.in_shape, 5)
    with pytest.raises(ValueError, match="the model has 5 outputs but the data has 10 classes"):
        fit(five, data, config)
    one = build_model(config, data.in_shape, 1)  # a single logit, as for a binary loss
    with pytest.raises(ValueError, match="the model has 1 output but the data has 10 classes"):
        fit(one, data, config)
    fit(network_for(config, data), data, config)  # the right width trains


def test_train_refusing_too_many_per_class_prints_the_error_alone(tmp_path):
    # the error comes from inside the training call; outside a terminal no bar is drawn,
    # so no blank line of one is left on stdout before it
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", "--train-per-class", "500", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    expected = "error: train_per_class=500 (--train-per-class) but class"
    assert len(lines) == 1 and lines[0].startswith(expected)


def _interrupt_after(monkeypatch, epoch: int | None):
    """Ctrl-C once epoch ``epoch`` has finished (None: before the first batch)."""
    import nooverfit.train_run as train_run_module

    real = train_run_module.fit

    def fit(*args, callbacks=(), **kwargs):
        def ctrl_c(e, logs):
            if e == epoch:
                raise KeyboardInterrupt

        if epoch is None:
            raise KeyboardInterrupt
        return real(*args, callbacks=[*callbacks, ctrl_c], **kwargs)

    monkeypatch.setattr(train_run_module, "fit", fit)


def test_ctrl_c_in_train_keeps_the_epochs_finished(tmp_path, monkeypatch):
    """Ctrl-C wrote nothing: the epochs trained so far were lost. The files are written
    for the finished epochs (marked interrupted, model.pt the best of them) and one line
    says so; exit 130, as a Ctrl-C."""
    out = tmp_path / "run"
    _interrupt_after(monkeypatch, 3)
    args = ["train", "--train-per-class", "5", "--epochs", "50", "--width", "16"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    history = History.load(out / "history.csv")
    assert history.epoch == (0, 1, 2, 3) and history.stop_reason == "interrupted"
    best = min(range(4), key=lambda i: history.val_loss[i])
    said = " ".join(result.output.split())  # the split, said at the first epoch, then:
    assert said.startswith("train: 50 training images of the 1,077 in the training pool")
    assert said.endswith(
        f"interrupted after epoch 3: wrote {out}/history.csv, metrics.json, model.pt and "
        f"model.json of the epochs finished (model.pt: epoch {best}, the lowest val_loss)"
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["stop_reason"] == "interrupted" and metrics["epochs_run"] == 4
    assert metrics["best_epoch"] == best
    # model.pt holds that epoch's weights: its validation loss is the one logged there
    data = load_split("digits", seed=0, device="cpu")
    model = build_model(RunConfig(width=16), (1, 8, 8), 10)
    model.load_state_dict(torch.load(out / "model.pt", weights_only=True))
    val = evaluate(model, data.x[data.val_index], data.y[data.val_index])
    assert val.loss == pytest.approx(history.val_loss[best], rel=1e-5)


def test_ctrl_c_in_train_before_an_epoch_finished_writes_nothing(tmp_path, monkeypatch):
    out = tmp_path / "run"
    _interrupt_after(monkeypatch, None)
    result = runner.invoke(app, ["train", *FAST, "--out", str(out)])
    assert result.exit_code == 130 and "Traceback" not in result.output
    assert " ".join(result.output.split()) == (
        "interrupted before the first epoch finished; nothing was written (files from an "
        "earlier run are unchanged)"
    )
    assert not out.exists()


def test_fit_lets_ctrl_c_through_unless_asked(tmp_path):
    """Only train_run keeps an interrupted run: a study's fits must stop at Ctrl-C."""
    from nooverfit.train import fit

    data = load_split("digits", seed=0, device="cpu")
    config = RunConfig(width=16, epochs=5, train_per_class=5)

    def ctrl_c(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(build_model(config, (1, 8, 8), 10), data, config, callbacks=[ctrl_c])
    model = build_model(config, (1, 8, 8), 10)
    kept = fit(model, data, config, callbacks=[ctrl_c], keep_best=True, interruptible=True)
    assert kept.epoch == (0, 1) and kept.stop_reason == "interrupted"


def test_train_pretrained_from_an_ensemble_says_it_is_one(tmp_path):
    """A study's averaged best_model.pt (an Ensemble's state dict) given to --pretrained
    said 'Missing key(s) in state_dict: "1.weight", ...'; it is named an ensemble, with
    what to pass instead, before any warning or training."""
    from nooverfit.studies.ensemble import Ensemble

    config = RunConfig(width=16)
    members = [build_model(config, (1, 8, 8), 10) for _ in range(3)]
    path = tmp_path / "best_model.pt"
    torch.save(Ensemble(members).state_dict(), path)
    out = tmp_path / "run"
    result = runner.invoke(app, ["train", *FAST, "--pretrained", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == (
        f"error: {path} is an ensemble of 3 networks (a study's averaged best model), not one "
        "network to start from; expected one network's weights: a study's best_model.pt "
        "that is a single network, or the model.pt 'nooverfit train --out DIR' writes"
    )
    assert not out.exists()


def test_train_says_its_split_and_notes_a_training_pool_smaller_than_val_and_test(tmp_path):
    """Review i111: --val 0.9 --test 0.9 trained on 1 % of the data without a word (--val is
    a share of what --test leaves). The split's sizes come first, from metrics.json's own
    indices, and a note where the pool is the smallest part; (almost) no pool is refused
    (test_train_refuses_a_split_that_leaves_almost_nothing_to_train_on)."""
    out = tmp_path / "run"
    args = ["train", "--val", "0.6", "--test", "0.6", "--epochs", "1", "--width", "8"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    split = json.loads((out / "metrics.json").read_text())["split"]
    pool, val, test = (len(split[k]) for k in ("pool", "val", "test"))
    assert pool < min(val, test)
    lines = " ".join(result.output.split())
    n = pool + val + test
    assert (
        f"train: {pool:,} training images, {val:,} validation, {test:,} test ({n:,} in all)"
        in (lines)
    )
    assert f"note: the training pool holds {pool / n:.1%} of the images, fewer than" in lines
    usual = runner.invoke(app, ["train", "--epochs", "1", "--width", "8", "--out", str(out / "b")])
    assert usual.exit_code == 0 and "note: the training pool" not in usual.output


@pytest.mark.parametrize(
    ("test", "val", "left"),
    [("0.9", "0.9", "17 of the 1,797 images (0.9%)"), ("0.97", "0.5", None)],
)
def test_train_refuses_a_split_that_leaves_almost_nothing_to_train_on(tmp_path, test, val, left):
    """s31 i168: --test 0.9 --val 0.9 trained on 17 of 1,797 digits, with a note only. It is
    refused in one line naming what is left and the least needed (5 %: 90 of 1,797), before
    anything is written over the run already in --out."""
    out = tmp_path / "run"
    first = runner.invoke(app, ["train", *FAST, "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["train", *FAST, "--test", test, "--val", val, "--overwrite", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    said = result.output.strip()
    assert len(said.splitlines()) == 1 and "Traceback" not in said
    assert said.startswith(f"error: --test {test} and --val {val} leave ")
    assert said.endswith(
        "to train on; expected at least 5% (90) for training (--test is a share of all, "
        "--val of what --test leaves)"
    )
    assert left is None or left in said
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
