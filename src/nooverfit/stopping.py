"""Early stopping: Keras-style patience and Prechelt's GL, PQ and UP criteria.

A pure decision object: feed it one epoch at a time, it answers whether to stop. The
engine that owns the weights keeps the ones from :attr:`EarlyStopping.best_epoch`.

Reference: Lutz Prechelt, "Early Stopping — But When?", in Neural Networks: Tricks of
the Trade (1998). With ``E_va(t)`` the validation loss at epoch ``t``, ``E_opt(t)`` its
minimum so far and ``E_tr`` the training loss:

- ``GL_alpha``: stop when ``GL(t) = 100 * (E_va(t) / E_opt(t) - 1) > alpha``.
- ``PQ_alpha``: at the end of each strip of ``k`` epochs, stop when
  ``GL(t) / P_k(t) > alpha`` with training progress
  ``P_k(t) = 1000 * (mean(E_tr over the strip) / min(E_tr over the strip) - 1)``.
- ``UP_s``: stop when ``E_va`` at the end of a strip was higher than at the end of the
  previous strip, ``s`` strips in a row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class StopReason(str, Enum):
    """Why a training run ended."""

    COMPLETED = "completed"  # ran all epochs
    PATIENCE = "patience"  # no improvement for `patience` epochs
    GENERALIZATION_LOSS = "generalization_loss"  # Prechelt GL
    PROGRESS_QUOTIENT = "progress_quotient"  # Prechelt PQ
    UP = "up"  # Prechelt UP
    DIVERGED = "diverged"  # NaN or inf loss
    REQUESTED = "requested"  # a callback asked to stop
    CURVE = "curve"  # far enough past its best for the diagnosis (nooverfit.engine.follow)
    HALVED = "halved"  # behind its grid on validation, stopped early (successive halving)
    INTERRUPTED = "interrupted"  # Ctrl-C, where the caller keeps what was trained (train)

    @property
    def code(self) -> int:
        """This reason as a number, for logs that hold numbers only: the ``stop_reason``
        the Lightning callback logs at the epoch its criterion stopped the run (a
        ``metrics.csv`` column, a TensorBoard scalar). Fixed for each reason (logs written
        with it are read back with it), so a new reason takes a new number."""
        return _CODES[self]

    @classmethod
    def logged(cls, value: str | float) -> str:
        """The reason a log's ``stop_reason`` cell records: its text as written (nooverfit's
        own CSV writes ``"patience"``), or the reason whose :attr:`code` a number is (a
        Lightning or TensorBoard log); ``""`` for an empty cell or a number no reason has.
        """
        try:
            number = float(value)
        except ValueError:  # text: the reason as written
            return str(value).strip()
        code = int(number) if math.isfinite(number) and number == int(number) else -1
        return next((reason.value for reason, c in _CODES.items() if c == code), "")


_CODES = {
    StopReason.COMPLETED: 0,
    StopReason.PATIENCE: 1,
    StopReason.GENERALIZATION_LOSS: 2,
    StopReason.PROGRESS_QUOTIENT: 3,
    StopReason.UP: 4,
    StopReason.DIVERGED: 5,
    StopReason.REQUESTED: 6,
    StopReason.CURVE: 7,
    StopReason.HALVED: 8,
    StopReason.INTERRUPTED: 9,
}


@dataclass(frozen=True)
class Criterion:
    """A parsed stopping rule: ``kind`` in {patience, gl, pq, up} and its threshold."""

    kind: str
    value: float

    @property
    def spec(self) -> str:
        value = int(self.value) if self.kind in ("patience", "up") else self.value
        return f"{self.kind}:{value:g}" if isinstance(value, float) else f"{self.kind}:{value}"


_KINDS = ("patience", "gl", "pq", "up")

#: The usual settings of every criterion, as replayed by ``nooverfit diagnose --stopping``
#: and tried by the thorough study.
STANDARD_CRITERIA = (
    "patience:5",
    "patience:10",
    "patience:20",
    "gl:1",
    "gl:2",
    "gl:5",
    "pq:0.5",
    "pq:1",
    "pq:2",
    "up:2",
    "up:3",
)


def parse_criterion(spec: str) -> Criterion:
    """Parse ``"patience:10"``, ``"gl:5"``, ``"pq:0.5"`` or ``"up:3"``.

    Raises:
        ValueError: if the spec is not one of those forms.
    """
    kind, _, raw = spec.strip().lower().partition(":")
    expected = "expected patience:N, gl:ALPHA, pq:ALPHA or up:S"
    if kind not in _KINDS or not raw:
        raise ValueError(f"early-stopping criterion {spec!r} not understood; {expected}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"early-stopping criterion {spec!r} has no number; {expected}") from None
    if kind in ("patience", "up") and (value != int(value) or value < 1):
        raise ValueError(f"{kind} must be an integer >= 1, got {raw!r}")
    if value <= 0 or not math.isfinite(value):
        raise ValueError(f"{kind} threshold must be a finite number > 0, got {raw!r}")
    return Criterion(kind, value)


class EarlyStopping:
    """Decide, epoch by epoch, when to stop training.

    Args:
        criterion: ``"patience:N"``, ``"gl:ALPHA"``, ``"pq:ALPHA"`` or ``"up:S"``
            (default ``"patience:10"``).
        min_delta: for patience, the smallest decrease of the monitored value that counts
            as an improvement (default 0.0, Keras semantics).
        mode: ``"min"`` for losses (default), ``"max"`` for metrics such as accuracy
            (patience only; Prechelt's criteria are defined on errors).
        start_from_epoch: epochs before this one are ignored (default 0, Keras semantics).
        strip: strip length ``k`` of PQ and UP, in epochs (default 5, as in Prechelt).

    Attributes:
        best_epoch: epoch with the best monitored value so far by this criterion's rules,
            Keras's ``best_epoch`` (the weights to keep, ``History.kept_epoch``): the
            lowest value (highest with ``mode="max"``), first on ties, as
            ``History.best_epoch``, except that an improvement by less than ``min_delta``,
            an epoch before ``start_from_epoch`` and a non-finite value never count.
        best: that value.
        stop_reason: set when :meth:`update` returns True.
        stopped_epoch: epoch at which it returned True.
    """

    def __init__(
        self,
        criterion: str = "patience:10",
        *,
        min_delta: float = 0.0,
        mode: str = "min",
        start_from_epoch: int = 0,
        strip: int = 5,
    ) -> None:
        self.criterion = parse_criterion(criterion)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if mode == "max" and self.criterion.kind != "patience":
            raise ValueError(f"mode='max' works with patience only, got {criterion!r}")
        # (a NaN min_delta passed `< 0` and made every epoch no improvement)
        if not (_real(min_delta) and math.isfinite(min_delta) and min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        if not (_whole(strip) and strip >= 1):
            raise ValueError(f"strip must be an integer >= 1, got {strip!r}")
        if not _whole(start_from_epoch):
            raise ValueError(f"start_from_epoch must be an integer, got {start_from_epoch!r}")
        self.min_delta = min_delta
        self.mode = mode
        self.start_from_epoch = int(start_from_epoch)
        self.strip = int(strip)  # (3.0 is taken: a slice needs an int)
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stop_reason: StopReason | None = None
        self.stopped_epoch: int | None = None
        self._wait = 0
        self._last_epoch: int | None = None
        self._seen = 0
        self._train: list[float] = []
        self._strip_end_val: float | None = None
        self._ups = 0

    def _sign(self, value: float) -> float:
        return value if self.mode == "min" else -value

    def update(self, epoch: int, val_loss: float, train_loss: float | None = None) -> bool:
        """Record one epoch; return True when training should stop after it.

        A non-finite ``val_loss`` or ``train_loss`` stops the run at once
        (``StopReason.DIVERGED``), as Lightning's ``check_finite`` does; Keras's
        ``EarlyStopping`` instead counts it as no improvement and waits out its patience.
        Once stopped, every later epoch answers True.

        Args:
            epoch: the epoch just finished, after the previous one (one object per run:
                unlike a Keras callback it is not reset at the start of another run).
            val_loss: the monitored value (validation loss, or a metric with ``mode="max"``).
            train_loss: the training loss of this epoch; required by ``pq`` at every epoch
                from ``start_from_epoch`` on.

        Raises:
            ValueError: if ``epoch`` is not a whole number after the previous epoch, or
                ``pq`` gets no ``train_loss``.
            TypeError: if ``val_loss`` or ``train_loss`` is no number.
        """
        if not _whole(epoch):
            raise ValueError(f"epoch must be an integer, got {epoch!r}")
        if self._last_epoch is not None and epoch <= self._last_epoch:
            # a second run fed to the same object would stop at once, or carry the first
            # run's best and wait over
            raise ValueError(
                f"epoch must increase, got {epoch} after {self._last_epoch}; use a new "
                "EarlyStopping for each run"
            )
        if (
            self.criterion.kind == "pq"
            and train_loss is None
            and epoch >= self.start_from_epoch
            and self.stop_reason is None
        ):
            # checked at once: at the strip's end it surfaced `strip` epochs late, and a
            # loss missing mid-strip shifted the strip of training losses off its epochs
            raise ValueError(
                f"the pq criterion needs train_loss at every epoch, got None at epoch {epoch}"
            )
        for name, value in (("val_loss", val_loss), ("train_loss", train_loss)):
            if value is not None and not _numeric(value):
                raise TypeError(f"{name} must be a number, got {value!r}")
        self._last_epoch = int(epoch)
        if self.stop_reason is not None:
            return True
        if not math.isfinite(val_loss) or (
            train_loss is not None and not math.isfinite(train_loss)
        ):
            return self._stop(epoch, StopReason.DIVERGED)
        if epoch < self.start_from_epoch:
            return False
        kind, value = self.criterion.kind, self.criterion.value
        current = self._sign(val_loss)
        if kind == "patience":
            self._wait += 1
            if self.best is None or current + self.min_delta < self._sign(self.best):
                self.best, self.best_epoch, self._wait = val_loss, epoch, 0
                return False
            if self._wait >= value and epoch > 0:
                return self._stop(epoch, StopReason.PATIENCE)
            return False
        # Prechelt's criteria: the best epoch is the minimum of the validation loss.
        if self.best is None or val_loss < self.best:
            self.best, self.best_epoch = val_loss, epoch
        self._seen += 1
        if train_loss is not None:
            self._train.append(train_loss)
        gl = generalization_loss(val_loss, self.best)
        if kind == "gl":
            return gl > value and self._stop(epoch, StopReason.GENERALIZATION_LOSS)
        if self._seen % self.strip != 0:
            return False
        if kind == "pq":
            progress = training_progress(self._train[-self.strip :])
            quotient = gl / progress if progress > 0 else math.inf if gl > 0 else 0.0
            return quotient > value and self._stop(epoch, StopReason.PROGRESS_QUOTIENT)
        # up: validation loss higher at this strip end than at the previous one, s times.
        previous, self._strip_end_val = self._strip_end_val, val_loss
        if previous is None:
            return False
        self._ups = self._ups + 1 if val_loss > previous else 0
        return self._ups >= value and self._stop(epoch, StopReason.UP)

    def _stop(self, epoch: int, reason: StopReason) -> bool:
        self.stop_reason, self.stopped_epoch = reason, epoch
        return True


def earliest_stop(criterion: str, *, strip: int = 5) -> int:
    """The fewest epochs a run trains before ``criterion`` can stop it, on the curve most
    eager to stop (validation loss rising from the first epoch on): ``patience:N`` after
    ``N + 1`` (a best, then ``N`` epochs without one), ``gl`` after 2, ``pq`` at the end of
    the first strip (``strip`` epochs, default 5 as :class:`EarlyStopping`'s), ``up:S``
    at the end of strip ``S + 1`` (``strip * (S + 1)``: the first strip end is only
    compared with). A run of at most that many epochs is never stopped early by it.

    Raises:
        ValueError: if ``criterion`` does not parse (:func:`parse_criterion`).
    """
    parsed = parse_criterion(criterion)
    kind, value = parsed.kind, parsed.value
    if kind == "patience":
        return int(value) + 1
    if kind == "gl":
        return 2
    return strip if kind == "pq" else strip * (int(value) + 1)


def _real(value: object) -> bool:
    """Whether ``value`` is a real number (a numpy scalar too; not a bool or text): a
    :func:`_numeric` value that equals its float (not NaN)."""
    return _numeric(value) and float(value) == value  # type: ignore[arg-type]


def _numeric(value: object) -> bool:
    """Whether ``value`` reads as a number, NaN and infinities included (a 0-d tensor, a
    numpy scalar; not text or a bool)."""
    if isinstance(value, (bool, str)):
        return False
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True


def _whole(value: object) -> bool:
    """Whether ``value`` is a whole number (``3``, ``np.int64(3)``; not ``2.5`` or ``True``)."""
    if not _real(value):
        return False
    number = float(value)  # type: ignore[arg-type]
    return math.isfinite(number) and number == int(number)


def generalization_loss(val_loss: float, best_val_loss: float) -> float:
    """Prechelt's ``GL = 100 * (E_va / E_opt - 1)``, in percent (0 when E_opt <= 0)."""
    if best_val_loss <= 0:
        return 0.0
    return 100.0 * (val_loss / best_val_loss - 1.0)


def training_progress(strip: Sequence[float]) -> float:
    """Prechelt's ``P_k = 1000 * (mean(strip) / min(strip) - 1)`` over one strip of losses."""
    low = min(strip)
    if low <= 0:
        return 0.0
    return 1000.0 * (sum(strip) / (len(strip) * low) - 1.0)


@dataclass(frozen=True)
class Replay:
    """What a criterion would have done on a finished run.

    Attributes:
        criterion: the spec replayed.
        stop_epoch: the epoch it stops at (the last epoch when it never fires).
        fired: whether it fired before the end.
        kept_epoch: the epoch whose weights it keeps (:attr:`EarlyStopping.best_epoch`, the
            last epoch when it kept none).
        kept_val_loss: validation loss at ``kept_epoch``.
        epochs_saved: epochs not trained compared with the full run.
    """

    criterion: str
    stop_epoch: int
    fired: bool
    kept_epoch: int
    kept_val_loss: float
    epochs_saved: int


def replay(
    criterion: str,
    val_loss: Sequence[float],
    train_loss: Sequence[float] | None = None,
    **kwargs: float,
) -> Replay:
    """Run ``criterion`` over recorded curves (epochs 0..n-1) and report where it stops.

    Raises:
        ValueError: if ``val_loss`` is empty.
    """
    if len(val_loss) == 0:
        raise ValueError("replay needs at least one epoch of val_loss")
    stopper = EarlyStopping(criterion, **kwargs)  # type: ignore[arg-type]
    last = len(val_loss) - 1
    for epoch, v in enumerate(val_loss):
        t = None if train_loss is None else train_loss[epoch]
        if stopper.update(epoch, v, t):
            last = epoch
            break
    kept = stopper.best_epoch if stopper.best_epoch is not None else last
    return Replay(
        criterion=criterion,
        stop_epoch=last,
        fired=stopper.stop_reason is not None,
        kept_epoch=kept,
        kept_val_loss=float(val_loss[kept]),
        epochs_saved=len(val_loss) - 1 - last,
    )
