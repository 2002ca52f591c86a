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
        status: the monitor's :class:`~nooverfit.monitor.Status` after the last epoch.
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
        stop. ``callback_metrics`` keeps the last validation's values through epochs that
        do not validate (``check_val_every_n_epoch``): they are recorded only for the
        epochs that validated."""
        if getattr(trainer, "sanity_checking", False):
            return
        values = epoch_values(dict(trainer.callback_metrics))
        if self._validated != trainer.current_epoch:
            values = {k: v for k, v in values.items() if not k.startswith("val_")}
        if "val_loss" not in values and "loss" not in values:
            return
        previous = self.status.diagnosis.verdict if self.status else None
        self.status = self.monitor.update(
            trainer.current_epoch,
            values.pop("loss", None),
            values.pop("val_loss", None),
            **values,
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
            _say(trainer, f"nooverfit: epoch {trainer.current_epoch}: {verdict.value}{since}")
        if self.status.stop:
            _say(
                trainer,
                f"nooverfit: stopping at epoch {trainer.current_epoch} ({self.status.reason}); "
                f"best epoch {self.status.best_epoch}",
            )
            trainer.should_stop = True
            reason = self.monitor.history.stop_reason  # what the monitor's verdict read
            if reason:  # (a verdict in stop_on is no stop of the criterion: none to read)
                pl_module.log("stop_reason", float(StopReason(reason).code), on_epoch=True)
