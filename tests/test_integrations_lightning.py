import pytest

pytest.importorskip("lightning", reason="the lightning extra is not installed")

import lightning.pytorch as pl
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from _optional import installed
from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.integrations.lightning import DiagnosisCallback, epoch_values
from nooverfit.logs import read_log


class Memorizer(pl.LightningModule):
    """A wide MLP on 16 random-label samples: it memorizes them and validation gets worse."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(8, 256), nn.ReLU(), nn.Linear(256, 2))

    def training_step(self, batch, _):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, _):
        x, y = batch
        logits = self.net(x)
        self.log("val_loss", F.cross_entropy(logits, y))
        self.log("val_acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def loaders():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(48, 8, generator=gen), torch.randint(0, 2, (48,), generator=gen)
    train = DataLoader(TensorDataset(x[:16], y[:16]), batch_size=16)
    val = DataLoader(TensorDataset(x[16:], y[16:]), batch_size=32)
    return train, val


def trainer(callback, epochs, **kwargs):
    return pl.Trainer(
        **{"logger": False, **kwargs},
        max_epochs=epochs,
        callbacks=[callback],
        accelerator="cpu",
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )


def test_epoch_values_prefers_epoch_level_names():
    values = epoch_values(
        {
            "train_loss_step": torch.tensor(2.0),
            "train_loss_epoch": torch.tensor(1.0),
            "val_acc": 0.5,
        }
    )
    assert values == {"loss": 1.0, "val_accuracy": 0.5}


def test_lightning_callback_records_and_stops(capsys):
    torch.manual_seed(0)
    callback = DiagnosisCallback(stop_on=(Verdict.OVERFITTING,))
    train, val = loaders()
    t = trainer(callback, 60)
    t.fit(Memorizer(), train, val)
    history = callback.monitor.history
    assert history.has("loss") and history.has("val_loss") and history.has("val_accuracy")
    assert callback.status is not None and callback.status.stop
    assert callback.diagnosis.verdict is Verdict.OVERFITTING
    assert t.current_epoch < 60
    printed = capsys.readouterr().out  # verdict changes are printed, not sent to a logger
    assert "nooverfit: epoch" in printed and "overfitting (on the epochs so far: onset" in printed
    assert "provisional)" in printed  # as watch says it: later epochs can move both numbers
    assert f"best epoch {callback.status.best_epoch}" in printed
    assert "RunConfig(" in callback.diagnosis.remedies[0].setting


def test_lightning_callback_records_validation_only_on_epochs_that_validated():
    """``check_val_every_n_epoch=3``: Lightning's callback_metrics keep the last
    validation values through the epochs in between; the history must hold validation
    only at epochs 2, 5, 8, ... (the same validation a logger would write)."""
    torch.manual_seed(0)
    callback = DiagnosisCallback()
    train, val = loaders()
    t = trainer(callback, 9, check_val_every_n_epoch=3)
    t.fit(Memorizer(), train, val)
    history = callback.monitor.history
    validated = [e for e, v in zip(history.epoch, history.val_loss, strict=True) if v == v]
    assert validated == [2, 5, 8]
    assert all(v == v for v in history.loss)


def _logged_run(tmp_path, callback, *, tensorboard=False, steps=2, epochs=60):
    """Fit the memorizer (``steps`` optimizer steps an epoch) with Lightning's CSVLogger,
    and its TensorBoardLogger too when asked; return the trainer."""
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    torch.manual_seed(0)
    train, val = loaders()
    train = DataLoader(train.dataset, batch_size=16 // steps)
    loggers = [CSVLogger(tmp_path, name="csv")]
    if tensorboard:
        loggers.append(TensorBoardLogger(tmp_path, name="tb"))
    t = trainer(callback, epochs, logger=loggers, log_every_n_steps=1)
    t.fit(Memorizer(), train, val)
    return t


def test_a_tensorboard_log_of_one_step_an_epoch_reads_every_epoch(tmp_path):
    """One optimizer step an epoch: Lightning logs its ``epoch`` scalar (the index, 0 in
    the first) at steps 0, 1, 2, ..., a line through the origin like Hugging Face's count
    of epochs done; read as that count, the first two epochs merged and 8 read as 7. The
    TensorBoard log reads the CSV log's epochs and values."""
    pytest.importorskip("tensorboard")
    callback = DiagnosisCallback()
    _logged_run(tmp_path, callback, tensorboard=True, steps=1, epochs=8)
    csv = read_log(tmp_path / "csv" / "version_0" / "metrics.csv")
    tb = read_log(tmp_path / "tb" / "version_0")
    assert csv.epoch == tb.epoch == callback.monitor.history.epoch == tuple(range(8))
    assert tb.val_loss == pytest.approx(csv.val_loss, rel=1e-6)
    assert tb.loss == pytest.approx(csv.loss, rel=1e-6)


def test_lightning_callback_stop_travels_with_the_log(tmp_path):
    """The criterion stops the run 5 epochs past its best: the callback calls it a good
    fit (the weights to keep are the best epoch's); diagnosing the run's metrics.csv (and
    TensorBoard log) afterwards reads the stop back and says the same, not overfitting."""
    tensorboard = installed("tensorboard")  # (the CSV log is checked without it)
    callback = DiagnosisCallback(criterion="patience:5")
    t = _logged_run(tmp_path, callback, tensorboard=tensorboard)
    assert callback.status is not None and callback.status.stop
    stopped = callback.status.epoch
    assert t.current_epoch == stopped + 1 < 60  # (Lightning counts the finished epoch)
    assert callback.monitor.history.stop_reason == callback.monitor.stop_reason == "patience"
    assert callback.diagnosis.verdict is Verdict.GOOD_FIT
    paths = [tmp_path / "csv" / "version_0" / "metrics.csv", tmp_path / "tb" / "version_0"]
    for path in paths[: 1 + tensorboard]:
        history = read_log(path)
        assert history.epoch[-1] == stopped and history.stop_reason == "patience", path
        assert diagnose(history).verdict is callback.diagnosis.verdict, path
        assert history.val_loss == pytest.approx(callback.monitor.history.val_loss, rel=1e-6)


def test_lightning_callback_stop_logs_the_reason_without_building_the_history(monkeypatch):
    """``_stop`` read the reason off ``monitor.history``, every curve rebuilt (and percent
    scores checked) to read one string; the monitor holds it."""
    from types import SimpleNamespace

    from nooverfit.monitor import Monitor
    from nooverfit.stopping import StopReason

    callback = DiagnosisCallback(criterion="patience:1")
    for epoch, val_loss in enumerate([1.0, 0.8, 0.9, 1.0]):
        status = callback.monitor.update(epoch, 0.5, val_loss)
    assert status.stop and callback.monitor.stop_reason == "patience"

    def unbuilt(self):
        raise AssertionError("the history was built")

    monkeypatch.setattr(Monitor, "history", property(unbuilt))
    logged = {}
    module = SimpleNamespace(log=lambda name, value, **kw: logged.update({name: value}))
    trainer = SimpleNamespace(current_epoch=3, is_global_zero=False, should_stop=False)
    callback._stop(trainer, module, status)
    assert trainer.should_stop and logged == {"stop_reason": float(StopReason.PATIENCE.code)}


def test_lightning_callback_stop_on_a_verdict_logs_no_stop_reason(tmp_path):
    # a verdict in stop_on is no criterion's stop: the monitor's history records none,
    # and neither does the log; both read the same curves as overfitting
    callback = DiagnosisCallback(stop_on=(Verdict.OVERFITTING,))
    _logged_run(tmp_path, callback)
    assert callback.status is not None and callback.status.stop
    history = read_log(tmp_path / "csv" / "version_0" / "metrics.csv")
    assert history.epoch[-1] == callback.status.epoch and history.stop_reason == ""
    assert diagnose(history).verdict is callback.diagnosis.verdict is Verdict.OVERFITTING


class TrainEpochEndLogger(Memorizer):
    """Logs its training loss in its own ``on_train_epoch_end`` (the mean of the epoch's
    step losses), as Lightning 2's migration guide writes it."""

    def __init__(self) -> None:
        super().__init__()
        self.losses: list[torch.Tensor] = []

    def training_step(self, batch, _):
        x, y = batch
        loss = F.cross_entropy(self.net(x), y)
        self.losses.append(loss.detach())
        return loss

    def on_train_epoch_end(self):
        self.log("train_loss", torch.stack(self.losses).mean())
        self.losses.clear()


class ValEpochEndLogger(Memorizer):
    """Logs its validation loss in its own ``on_validation_epoch_end``."""

    def __init__(self) -> None:
        super().__init__()
        self.val_losses: list[torch.Tensor] = []

    def validation_step(self, batch, _):
        x, y = batch
        self.val_losses.append(F.cross_entropy(self.net(x), y))

    def on_validation_epoch_end(self):
        self.log("val_loss", torch.stack(self.val_losses).mean())
        self.val_losses.clear()


def _csv_run(tmp_path, callback, module, *, epochs):
    """Fit ``module`` (two optimizer steps an epoch) with Lightning's CSVLogger; return
    the trainer and the history read from its metrics.csv."""
    from lightning.pytorch.loggers import CSVLogger

    torch.manual_seed(0)
    train, val = loaders()
    train = DataLoader(train.dataset, batch_size=8)
    t = trainer(callback, epochs, logger=CSVLogger(tmp_path, name="csv"), log_every_n_steps=1)
    t.fit(module, train, val)
    return t, read_log(tmp_path / "csv" / "version_0" / "metrics.csv")


@pytest.mark.parametrize(
    "module",
    [Memorizer, TrainEpochEndLogger, ValEpochEndLogger],
    ids=["training_step", "on_train_epoch_end", "on_validation_epoch_end"],
)
def test_lightning_callback_records_what_the_csv_logger_writes(tmp_path, module):
    """Lightning calls a plain callback's ``on_train_epoch_end`` before the module's own
    (only EarlyStopping and Checkpoint callbacks run after it): a loss the module logs
    there was recorded one epoch late, NaN first, while metrics.csv had it right."""
    callback = DiagnosisCallback()
    _, logged = _csv_run(tmp_path, callback, module(), epochs=5)
    history = callback.monitor.history
    assert history.epoch == logged.epoch == tuple(range(5))
    assert history.loss == pytest.approx(logged.loss, rel=1e-6)
    assert history.val_loss == pytest.approx(logged.val_loss, rel=1e-6)
    assert callback.status is not None and callback.status.epoch == 4


def test_lightning_callback_stops_one_epoch_late_on_a_loss_the_module_logs_itself(
    tmp_path, capsys
):
    """A module with its own ``on_train_epoch_end``: its epoch is read at the next
    epoch's start, so a stop acts at that epoch's end, one epoch after the criterion
    fired on the log's values (the reference: nooverfit's EarlyStopping fed metrics.csv).
    The stop travels with the log at the epoch the run ended."""
    from nooverfit.stopping import EarlyStopping

    callback = DiagnosisCallback(criterion="patience:5")
    t, logged = _csv_run(tmp_path, callback, TrainEpochEndLogger(), epochs=60)
    reference = EarlyStopping("patience:5")
    fired = next(
        e
        for e, val, loss in zip(logged.epoch, logged.val_loss, logged.loss, strict=True)
        if reference.update(e, val, loss)
    )
    history = callback.monitor.history
    assert history.epoch == logged.epoch and history.epoch[-1] == fired + 1
    assert t.current_epoch == fired + 2 < 60  # (Lightning counts the finished epoch)
    assert history.loss == pytest.approx(logged.loss, rel=1e-6)
    assert history.stop_reason == logged.stop_reason == "patience"
    assert diagnose(logged).verdict is callback.diagnosis.verdict is Verdict.GOOD_FIT
    printed = capsys.readouterr().out
    assert f"stopping at epoch {fired + 1} (patience:5, read at epoch {fired}'s end" in printed
    assert printed.count("stopping") == 1
