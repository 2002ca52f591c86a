"""`Monitor`: a live diagnosis inside any plain-PyTorch training loop.

    monitor = Monitor(criterion="gl:5")
    for epoch in range(epochs):
        ...  # train, then evaluate
        status = monitor.update(epoch, loss=train_loss, val_loss=val_loss)
        if status.stop:
            break
    print(monitor.diagnosis.explanation)

The monitor only decides; the loop owns the weights (keep those of ``status.best_epoch``).
Its remedies are written for Python (``RunConfig(l2=1e-3)``, ``weight_decay=...``), not
as command-line flags.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from nooverfit._rules import diagnose
from nooverfit.diagnosis import Diagnosis, Verdict
from nooverfit.history import History, epoch_numbers
from nooverfit.logs._percent import percent_scores
from nooverfit.stopping import EarlyStopping

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Status:
    """What the monitor concluded after one epoch.

    Attributes:
        epoch: the epoch just recorded.
        diagnosis: the diagnosis of all epochs so far.
        stop: whether training should stop now.
        reason: why it should stop (``""`` when it should not): the criterion that fired,
            ``"overfitting"`` or ``"diverging"``.
        best_epoch: the epoch whose weights to keep (:attr:`Monitor.best_epoch`).
    """

    epoch: int
    diagnosis: Diagnosis
    stop: bool
    reason: str
    best_epoch: int | None


class Monitor:
    """Record curves epoch by epoch and diagnose them as training goes.

    Args:
        criterion: early-stopping rule (``"patience:10"``, ``"gl:5"``, ``"pq:0.5"``,
            ``"up:3"``), or ``None`` for none (default).
        stop_on: verdicts that also stop training (default: diverging only). Pass
            ``(Verdict.OVERFITTING, Verdict.DIVERGING)`` to stop as soon as overfitting shows;
            verdicts or their values (``"overfitting"``), one alone or a tuple.
        metric: metric passed to :func:`diagnose` (default: accuracy when logged).
    """

    def __init__(
        self,
        criterion: str | None = None,
        *,
        stop_on: tuple[Verdict | str, ...] | Verdict | str = (Verdict.DIVERGING,),
        metric: str | None = None,
    ) -> None:
        self.stopper = EarlyStopping(criterion) if criterion else None
        if isinstance(stop_on, str):  # one verdict (a Verdict is a str too), not its letters
            stop_on = (stop_on,)
        try:
            self.stop_on = tuple(Verdict(v) for v in stop_on)
        except ValueError:
            known = ", ".join(v.value for v in Verdict)
            raise ValueError(f"stop_on must hold verdicts ({known}), got {stop_on!r}") from None
        self.metric = metric
        self._rows: dict[str, list[float]] = {}
        self._epochs: list[int] = []
        self._diagnosis: Diagnosis | None = None
        self._stopped = ""  # the criterion's stop reason, once it fired at the last update

    def update(
        self,
        epoch: int,
        loss: float | None = None,
        val_loss: float | None = None,
        **metrics: float | None,
    ) -> Status:
        """Record one epoch and return the current :class:`Status`.

        Args:
            epoch: the epoch just finished: a whole number >= 0, after the previous one.
            loss: training loss of the epoch (``None`` when not measured).
            val_loss: validation loss of the epoch.
            **metrics: further values, e.g. ``accuracy=0.93, val_accuracy=0.90``.

        Raises:
            ValueError: if ``epoch`` is no whole number >= 0 or not after the previous
                one (:func:`~nooverfit.history.epoch_numbers`, as its history holds them),
                a value is no number, or the criterion cannot follow the epoch: it has
                validation values but no ``val_loss`` (the criterion's curve), or ``pq``
                gets ``val_loss`` without ``loss``. Nothing is recorded then.
        """
        epoch = epoch_numbers([*self._epochs[-1:], epoch])[-1]
        values = {"loss": loss, "val_loss": val_loss, **metrics}
        for name, value in values.items():
            if value is not None and not isinstance(value, (int, float)):
                try:  # a 0-d tensor or numpy scalar is a number too
                    values[name] = float(value)
                except (TypeError, ValueError):
                    raise ValueError(f"{name} must be a number or None, got {value!r}") from None
        self._check_criterion(epoch, values)
        # in a fixed order: a set's changes from one process to the next
        for name in [*self._rows, *(n for n in values if n not in self._rows)]:
            column = self._rows.setdefault(name, [math.nan] * len(self._epochs))
            value = values.get(name)
            column.append(math.nan if value is None else float(value))
        self._epochs.append(epoch)
        self._stopped = ""  # (an update after a stop: the run went on)
        diagnosis = diagnose(self.history, metric=self.metric).for_python()
        reason = ""
        train = None if loss is None else float(loss)
        if (
            self.stopper is not None
            and val_loss is not None
            and self.stopper.update(epoch, float(val_loss), train)
        ):
            reason = self.stopper.criterion.spec
            if diagnosis.verdict is not Verdict.DIVERGING and self.stopper.stop_reason:
                # the run ends here by its criterion: diagnosed as `train` diagnoses a run
                # its --early-stopping ended (the history records why it stopped)
                self._stopped = self.stopper.stop_reason.value
                diagnosis = diagnose(self.history, metric=self.metric).for_python()
        self._diagnosis = diagnosis
        if not reason and diagnosis.verdict in self.stop_on:
            reason = diagnosis.verdict.value
        if reason and diagnosis.verdict is Verdict.DIVERGING:  # a NaN loss also fires gl:5
            reason = Verdict.DIVERGING.value
        if reason:
            log.info("epoch %d: stop (%s); verdict %s", epoch, reason, diagnosis.verdict.value)
        return Status(epoch, diagnosis, bool(reason), reason, self.best_epoch)

    def _check_criterion(self, epoch: int, values: dict[str, float | None]) -> None:
        """Refuse, before it is recorded, an epoch the criterion could not follow: without
        ``val_loss`` it was never asked and never fired (a loop logging ``val_accuracy``
        alone, or ``val_los=``, ran to the end)."""
        stopper = self.stopper
        if stopper is None or stopper.stop_reason is not None:
            return
        spec = stopper.criterion.spec
        if values["val_loss"] is None:
            given = sorted(k for k, v in values.items() if k.startswith("val_") and v is not None)
            if given:
                raise ValueError(
                    f"criterion {spec!r} follows val_loss, but epoch {epoch} has "
                    f"{', '.join(given)} without it; record val_loss too, or no criterion"
                )
        elif stopper.criterion.kind == "pq" and values["loss"] is None:
            raise ValueError(
                f"criterion {spec!r} needs the training loss with each val_loss, but epoch "
                f"{epoch} has loss=None"
            )

    @property
    def best_epoch(self) -> int | None:
        """The epoch whose weights to keep: the diagnosis's best epoch, the lowest finite
        value so far of the validation curve decided on (``val_loss``; without one, the
        metric's, e.g. the highest ``val_accuracy``), the first on ties
        (:func:`nooverfit.history.best_index`), whether or not a criterion is set and also
        once the run diverges; ``None`` before the first finite one."""
        # the diagnosis's, not val_loss's own: a log of val_accuracy alone has a best epoch
        return self.diagnosis.best_epoch

    @property
    def stop_reason(self) -> str:
        """Why the criterion stopped the run (a :class:`~nooverfit.stopping.StopReason`
        value: the ``stop_reason`` :attr:`history` holds, read without building it), ``""``
        before it fires and where the run diverged; a verdict in ``stop_on`` is no
        criterion's stop."""
        return self._stopped

    @property
    def history(self) -> History:
        """The curves recorded so far; once the criterion fired, with why the run stopped
        (``stop_reason``, as ``train`` records it), until another epoch is recorded. An
        accuracy recorded in percent (every value in [0, 100], one over 1) is held as a
        fraction, with a note, as :func:`nooverfit.read_log` reads it."""
        # a score logged in percent (`100. * correct / total`) read as a fraction, as
        # read_log reads the run's log: the verdict, gap and notes are the same
        rows, percent = percent_scores({name: self._rows[name] for name in sorted(self._rows)})
        return History.from_columns(
            rows,
            epoch=self._epochs,
            stop_reason=self.stop_reason,
            notes=(percent,) if percent else (),
        )

    @property
    def diagnosis(self) -> Diagnosis:
        """The latest diagnosis (of an empty history before the first update), with its
        remedies' settings written for Python (:meth:`Diagnosis.for_python`)."""
        return self._diagnosis or diagnose(self.history, metric=self.metric).for_python()
