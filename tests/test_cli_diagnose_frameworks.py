"""``nooverfit diagnose`` writes the remedies for the framework that wrote the log: logs
written here by Keras, Lightning, a PyTorch ``SummaryWriter`` and (by hand, as the
Trainer writes it) the Hugging Face Trainer, diagnosed end to end through the CLI."""

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nooverfit._rules import diagnose
from nooverfit.cli import app
from nooverfit.logs import read_log

runner = CliRunner()
LOGS = Path(__file__).parent / "fixtures" / "logs"
# an overfit: validation lowest at epoch 8 of 0-19 (keras_overfit.csv's curves)
ROWS = [
    [float(x) for x in line.split(",")]
    for line in (LOGS / "keras_overfit.csv").read_text().splitlines()[1:]
]
LOSS, VAL = [r[2] for r in ROWS], [r[4] for r in ROWS]


def _said(log: Path, *args: str) -> str:
    result = runner.invoke(app, ["diagnose", str(log), *args])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _keras_log(folder: Path) -> Path:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    path = folder / "log.csv"
    logger = keras.callbacks.CSVLogger(str(path))
    logger.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    logger.on_train_begin()
    for epoch, (_, acc, loss, val_acc, val) in enumerate(ROWS):
        logs = {"accuracy": acc, "loss": loss, "val_accuracy": val_acc, "val_loss": val}
        logger.on_epoch_end(epoch, logs)
    logger.on_train_end()
    return path


def test_diagnose_keras_csv_logger_speaks_keras(tmp_path):
    said = _said(_keras_log(tmp_path))
    assert "remedies (for Keras)" in said
    assert (
        '(epochs=9 in model.fit, or keras.callbacks.EarlyStopping(monitor="val_loss", '
        "patience=10, restore_best_weights=True))"
    ) in said
    assert "kernel_regularizer=keras.regularizers.L2(5e-4)" in said
    assert "keras.layers.Dropout(0.3)" in said
    assert "--epochs" not in said and "--l2" not in said


def _lightning_steps(logger, steps_per_epoch: int = 3) -> None:
    """Log the overfit through a Lightning logger as a LightningModule would: the epoch
    mean of the training loss and the validation loss at each epoch's last step."""
    for epoch, (loss, val) in enumerate(zip(LOSS, VAL, strict=True)):
        step = (epoch + 1) * steps_per_epoch - 1
        logger.log_metrics({"train_loss_epoch": loss, "epoch": epoch}, step)
        logger.log_metrics({"val_loss": val, "epoch": epoch}, step)
    logger.save()
    logger.finalize("success")


def test_diagnose_lightning_csv_logger_speaks_lightning(tmp_path):
    loggers = pytest.importorskip("lightning.pytorch.loggers")
    logger = loggers.CSVLogger(tmp_path)
    _lightning_steps(logger)
    said = _said(Path(logger.log_dir) / "metrics.csv")
    assert "remedies (for Lightning)" in said
    assert (
        "(Trainer(max_epochs=9), or lightning.pytorch.callbacks.EarlyStopping("
        'monitor="val_loss", patience=10) with ModelCheckpoint(monitor="val_loss")'
    ) in said
    assert "in configure_optimizers" in said and "--" not in said.split("remedies")[1]


def test_diagnose_lightning_early_stopping_watches_the_name_logged(tmp_path):
    """s33 i177: a LightningModule logging ``self.log("val/loss", ...)`` was told to watch
    monitor="val_loss", a name it never logged: Lightning's EarlyStopping ends the fit with
    "Early stopping conditioned on metric `val_loss` which is not available"."""
    loggers = pytest.importorskip("lightning.pytorch.loggers")
    callbacks = pytest.importorskip("lightning.pytorch.callbacks")
    torch = pytest.importorskip("torch")
    logger = loggers.CSVLogger(tmp_path)
    for epoch, (loss, val) in enumerate(zip(LOSS, VAL, strict=True)):
        logger.log_metrics({"train/loss": loss, "epoch": epoch}, 3 * epoch + 2)
        logger.log_metrics({"val/loss": val, "epoch": epoch}, 3 * epoch + 2)
    logger.save()
    logger.finalize("success")
    assert read_log(Path(logger.log_dir) / "metrics.csv").logged_as["val_loss"] == "val/loss"
    said = _said(Path(logger.log_dir) / "metrics.csv")
    stop = (
        'EarlyStopping(monitor="val/loss", patience=10) with ModelCheckpoint(monitor="val/loss")'
    )
    assert stop in said
    # what Lightning checks at each validation: the monitor among the logged metrics
    logged = {"train/loss": torch.tensor(LOSS[0]), "val/loss": torch.tensor(VAL[0])}
    assert callbacks.EarlyStopping(monitor="val/loss")._validate_condition_metric(logged)


def test_diagnose_lightning_tensorboard_logger_speaks_lightning(tmp_path):
    pytest.importorskip("tensorboard")
    loggers = pytest.importorskip("lightning.pytorch.loggers")
    logger = loggers.TensorBoardLogger(tmp_path)
    _lightning_steps(logger)
    assert read_log(Path(logger.log_dir)).framework == "lightning"
    said = _said(Path(logger.log_dir))
    assert "remedies (for Lightning)" in said and "Trainer(max_epochs=9)" in said


def test_diagnose_summary_writer_speaks_pytorch(tmp_path):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "run"))
    for epoch, (loss, val) in enumerate(zip(LOSS, VAL, strict=True)):
        writer.add_scalar("loss/train", loss, epoch)
        writer.add_scalar("loss/val", val, epoch)
    writer.close()
    said = _said(tmp_path / "run")
    assert "remedies (for PyTorch)" in said
    # (the curve as the loop logged it, s33 i177)
    assert "(train 9 epochs, or stop once loss/val has not improved for 10 evaluations" in said
    assert "torch.optim.AdamW(params, weight_decay=1e-2)" in said
    assert "nn.Dropout(p=0.3)" in said


def _trainer_state(folder: Path) -> Path:
    """``trainer_state.json`` as the Trainer writes it: a loss logged every 10 steps of
    20 an epoch, an evaluation at each epoch's end."""
    entries = []
    for k, (loss, val) in enumerate(zip(LOSS, VAL, strict=True), start=1):
        entries.append(
            {"epoch": k - 0.5, "learning_rate": 5e-5, "loss": loss, "step": 20 * k - 10}
        )
        entries.append({"epoch": float(k), "learning_rate": 5e-5, "loss": loss, "step": 20 * k})
        entries.append({"epoch": float(k), "eval_loss": val, "eval_runtime": 0.5, "step": 20 * k})
    state = {"epoch": float(len(VAL)), "global_step": 20 * len(VAL), "log_history": entries}
    (folder / "trainer_state.json").write_text(json.dumps(state))
    return folder / "trainer_state.json"


def test_diagnose_trainer_state_speaks_the_hf_trainer(tmp_path):
    path = _trainer_state(tmp_path)
    d = diagnose(read_log(path))
    said = _said(path)
    assert "remedies (for Hugging Face Trainer)" in said
    # the Trainer's epoch 9.0 is the best evaluation: 9 epochs reach it
    assert d.best_epoch == 9
    assert "(TrainingArguments(num_train_epochs=9), or EarlyStoppingCallback(" in said
    assert "early_stopping_patience=10) with TrainingArguments(load_best_model_at_end=True" in said
    assert "TrainingArguments(weight_decay=1e-2)" in said


def test_diagnose_generic_logs_speak_plain_words(tmp_path):
    """A CSV of the user's own loop and a console print: no one framework's syntax, and
    not nooverfit's flags."""
    table = tmp_path / "losses.csv"
    lines = [f"{e},{t},{v}" for e, (t, v) in enumerate(zip(LOSS, VAL, strict=True))]
    table.write_text("epoch,train_loss,val_loss\n" + "\n".join(lines) + "\n")
    printed = tmp_path / "out.txt"
    printed.write_text(
        "".join(
            f"Epoch {e}, loss: {t}, val_loss: {v}\n"
            for e, (t, v) in enumerate(zip(LOSS, VAL, strict=True))
        )
    )
    for log in (table, printed):
        said = _said(log)
        assert "remedies (" not in said  # no framework named
        assert "(train 9 epochs, or stop once the validation loss has not improved" in said
        assert "L2 penalty 1e-3 on the weights" in said
        assert "--epochs" not in said and "RunConfig" not in said


def test_diagnose_nooverfit_train_run_keeps_its_flags(tmp_path):
    """A ``nooverfit train`` run's history.csv: the remedies are nooverfit's own flags,
    as the library writes them, under the plain heading."""
    out = tmp_path / "run"
    args = ["train", "--epochs", "10", "--train-per-class", "5", "--width", "8"]
    trained = runner.invoke(app, [*args, "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    log = out / "history.csv"
    assert read_log(log).framework == "nooverfit"
    d = diagnose(read_log(log))
    said = _said(log)
    assert d.remedies and all(f"({r.setting})" in said for r in d.remedies if r.setting)
    assert any(r.setting.startswith("--") for r in d.remedies)
    assert "remedies (for" not in said


def test_diagnose_for_overrides_the_log_writer(tmp_path):
    log = _keras_log(tmp_path)
    said = _said(log, "--for", "hf")
    assert "remedies (for Hugging Face Trainer)" in said
    assert "TrainingArguments(num_train_epochs=9)" in said and "keras" not in said
    said = _said(log, "--for", "nooverfit")
    assert "(--epochs 9 or --early-stopping patience:10)" in said
    assert "(--l2 1e-3 (tune over 1e-5..1e-1))" in said


def test_diagnose_json_carries_the_knobs_and_the_words(tmp_path):
    result = runner.invoke(app, ["diagnose", str(_keras_log(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["framework"] == "keras"
    stop = next(r for r in data["remedies"] if r["kind"] == "early_stopping")
    assert stop["knobs"] == [
        {
            "name": "early_stopping",
            "value": 10,
            "factor": None,
            "step": None,
            "low": None,
            "high": None,
            "epochs": 9,
        }
    ]
    assert stop["setting"].startswith("epochs=9 in model.fit, or keras.callbacks.EarlyStopping(")
    assert stop["code"] == ""
    plain = json.loads(runner.invoke(app, ["diagnose", str(LOGS / "generic.csv"), "--json",
                                            "--train-col", "my_train_mse", "--val-col",
                                            "my_valid_mse"]).output)  # fmt: skip
    assert plain["framework"] is None


def test_diagnose_for_refuses_an_unknown_framework():
    result = runner.invoke(app, ["diagnose", str(LOGS / "keras_overfit.csv"), "--for", "tf"])
    assert result.exit_code == 2
    assert "--for got 'tf'; expected one of nooverfit, keras, pytorch, lightning, hf" in (
        " ".join(result.output.split())
    )


def test_watch_final_diagnosis_speaks_the_log_writer(tmp_path):
    log = _keras_log(tmp_path)
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.2", "--interval", "0.05"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "remedies (for Keras)" in said and "epochs=9 in model.fit" in said
    args = ["watch", str(log), "--idle", "0.2", "--interval", "0.05", "--for", "lightning"]
    said = " ".join(runner.invoke(app, args).output.split())
    assert "remedies (for Lightning)" in said and "Trainer(max_epochs=9)" in said
