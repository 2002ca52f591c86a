"""A Lightning callback that diagnoses the run every epoch and can stop it.

    from nooverfit.integrations.lightning import DiagnosisCallback
    trainer = Trainer(callbacks=[DiagnosisCallback(criterion="gl:5")])

It reads the epoch's values from ``trainer.callback_metrics`` (any names ``read_log``
understands: ``train_loss``, ``train_loss_epoch``, ``val_loss``, ``val_acc``, ...), feeds a
:class:`~nooverfit.monitor.Monitor`, prints the verdict when it changes (on the rank-zero
process only), and sets ``trainer.should_stop`` when the criterion fires or the verdict is
in ``stop_on``. When its criterion stops the run, it also logs ``stop_reason`` at that
epoch (the reason's :attr:`~nooverfit.stopping.StopReason.code`: loggers take numbers
only), so the run's ``metrics.csv`` or TensorBoard log records the stop as ``train``'s
``history.csv`` does, and ``nooverfit diagnose`` of the log reaches the callback's verdict.

Lightning calls a callback's ``on_train_epoch_end`` before the module's own (only its
``EarlyStopping`` and ``Checkpoint`` callbacks run after it). For a module with its own
``on_train_epoch_end``, which may log there, the callback records the epoch at the next
epoch's start (or the run's end), so its history holds what ``metrics.csv`` holds, but a
stop acts one epoch late: at the end of the epoch after the one that called for it. Log in
``training_step`` (``on_epoch=True``) to stop on time. The callback is no ``EarlyStopping``
subclass, the one way to run after the module's hook: ``trainer.early_stopping_callback``
would return it. Values another callback logs in ``on_train_epoch_end`` are read an epoch
late unless it is listed before this one.
Needs the ``lightning`` extra (``pip install 'nooverfit[lightning]'``).
"""

from __future__ import annotations

from typing import Any

from nooverfit.diagnosis import Diagnosis, Verdict
from nooverfit.errors import MissingExtra
from nooverfit.logs._table import canonical
from nooverfit.monitor import Monitor, Status
from nooverfit.stopping import StopReason

try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - depends on the environment
    try:
        import pytorch_lightning as pl  # type: ignore[no-redef]
    except ImportError as err:
        raise MissingExtra(
            "the Lightning callback needs lightning: pip install 'nooverfit[lightning]'"
        ) from err


def _say(trainer: Any, text: str) -> None:
    """Print ``text`` once per run: on the global rank-zero process only."""
    if getattr(trainer, "is_global_zero", True):
        print(text, flush=True)


def _logs_after_callbacks(pl_module: Any) -> bool:
    """Whether the module has its own ``on_train_epoch_end``: Lightning calls a callback's
    before it (only EarlyStopping and Checkpoint callbacks after it), so what it logs
    there is in ``callback_metrics`` only at the next epoch's start."""
    own = getattr(type(pl_module), "on_train_epoch_end", None)
    return own is not None and own is not pl.LightningModule.on_train_epoch_end


def epoch_values(metrics: dict[str, Any]) -> dict[str, float]:
    """Map Lightning metric names onto nooverfit's, preferring epoch-level values."""
    chosen: dict[str, tuple[int, float]] = {}
    for key, value in metrics.items():
        name = canonical(key)
        if name is None or name.priority >= 2:
            continue
        number = float(value.item() if hasattr(value, "item") else value)
        if name.target not in chosen or name.priority < chosen[name.target][0]:
            chosen[name.target] = (name.priority, number)
    return {k: v for k, (_, v) in chosen.items()}


class DiagnosisCallback(pl.Callback):
    """Diagnose a Lightning run as it trains.

    Args:
        criterion: early-stopping rule such as ``"gl:5"`` or ``"patience:10"`` (default
            ``None``: stop only on a verdict in ``stop_on``).
        stop_on: verdicts that stop training (default: diverging only).
        metric: metric for the diagnosis (default: accuracy when logged).

    Attributes:
        status: the monitor's :class:`~nooverfit.monitor.Status` after the last epoch
            recorded (with the module's own ``on_train_epoch_end``, the one before the
            current epoch, until the run ends).
    """

    def __init__(
        self,
        criterion: str | None = None,
        *,
        stop_on: tuple[Verdict | str, ...] | Verdict | str = (Verdict.DIVERGING,),
        metric: str | None = None,
    ) -> None:
        super().__init__()
        self.monitor = Monitor(criterion, stop_on=stop_on, metric=metric)
        self.status: Status | None = None
        self._validated: int | None = None  # the last epoch whose validation ran
        self._pending: tuple[int, bool] | None = None  # (epoch, validated) left to record
        self._late_stop: Status | None = None  # a stop read at this epoch's start

    @property
    def diagnosis(self) -> Diagnosis:
        """The latest diagnosis."""
        return self.monitor.diagnosis

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        """Note that this epoch validated (the sanity check is no epoch)."""
        if not getattr(trainer, "sanity_checking", False):
            self._validated = trainer.current_epoch

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        """Record the epoch (validation has run by now, if it runs this epoch) and maybe
        stop; for a module with its own ``on_train_epoch_end``, leave the epoch to record
        at the next epoch's start (or the run's end) and act on the stop read then."""
        if getattr(trainer, "sanity_checking", False):
            return
        epoch, validated = trainer.current_epoch, self._validated == trainer.current_epoch
        if not _logs_after_callbacks(pl_module):
            status = self._record(trainer, epoch, validated)
            if status is not None and status.stop:
                self._stop(trainer, pl_module, status)
            return
        if self._late_stop is not None:
            self._stop(trainer, pl_module, self._late_stop)
            self._late_stop = None
        self._pending = (epoch, validated)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        """Record the previous epoch, if it waited for the module's own hook; a stop it
        calls for waits for this epoch's end (stopped here, Lightning would run this
        epoch's end hooks, the module's too, on no batches)."""
        status = self._record_pending(trainer)
        if status is not None and status.stop:
            self._late_stop = status

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        """Record the last epoch, if it waited for the module's own hook."""
        said = self.status is not None and self.status.stop  # at the last epoch's end
        status = self._record_pending(trainer)
        if status is not None and status.stop and not said:
            self._say_stop(trainer, status, status.epoch)  # (the run ends here anyway)

    def _record_pending(self, trainer: Any) -> Status | None:
        if self._pending is None:
            return None
        (epoch, validated), self._pending = self._pending, None
        return self._record(trainer, epoch, validated)

    def _record(self, trainer: Any, epoch: int, validated: bool) -> Status | None:
        """Feed the monitor ``callback_metrics`` as epoch ``epoch``'s values and print the
        verdict when it changes. ``callback_metrics`` keeps the last validation's values
        through epochs that do not validate (``check_val_every_n_epoch``): they are
        recorded only for the epochs that validated."""
        values = epoch_values(dict(trainer.callback_metrics))
        if not validated:
            values = {k: v for k, v in values.items() if not k.startswith("val_")}
        if "val_loss" not in values and "loss" not in values:
            return None
        previous = self.status.diagnosis.verdict if self.status else None
        self.status = self.monitor.update(
            epoch, values.pop("loss", None), values.pop("val_loss", None), **values
        )
        verdict = self.status.diagnosis.verdict
        if verdict is not previous:
            onset, best = self.status.diagnosis.onset_epoch, self.status.diagnosis.best_epoch
            since = (  # as `watch` says it: the epochs to come can move both
                f" (on the epochs so far: onset about epoch {onset}, best epoch {best}; "
                "provisional)"
                if onset is not None
                else ""
            )
            _say(trainer, f"nooverfit: epoch {epoch}: {verdict.value}{since}")
        return self.status

    def _stop(self, trainer: Any, pl_module: Any, status: Status) -> None:
        """Stop the run at the end of this epoch, and log why at it."""
        self._say_stop(trainer, status, trainer.current_epoch)
        trainer.should_stop = True
        reason = self.monitor.stop_reason  # what the monitor's verdict read
        if reason:  # (a verdict in stop_on is no stop of the criterion: none to read)
            pl_module.log("stop_reason", float(StopReason(reason).code), on_epoch=True)

    @staticmethod
    def _say_stop(trainer: Any, status: Status, epoch: int) -> None:
        late = (
            f", read at epoch {status.epoch}'s end: the module logs in its own "
            "on_train_epoch_end, which Lightning calls after this callback's"
            if status.epoch != epoch
            else ""
        )
        _say(
            trainer,
            f"nooverfit: stopping at epoch {epoch} ({status.reason}{late}); "
            f"best epoch {status.best_epoch}",
        )
