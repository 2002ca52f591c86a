"""`History`: per-epoch training curves, saved as Keras-CSVLogger-compatible CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nooverfit._io import atomic_write_json, atomic_write_text

CORE = ("loss", "accuracy", "val_loss", "val_accuracy")
NAN = float("nan")


def _floats(values: Sequence[float] | None, n: int) -> tuple[float, ...]:
    if values is None or len(values) == 0:
        return (NAN,) * n
    if len(values) != n:
        raise ValueError(f"every curve must have one value per epoch ({n}), got {len(values)}")
    return tuple(float(v) for v in values)


def epoch_numbers(values: Iterable[object]) -> tuple[int, ...]:
    """``values`` as epoch numbers: whole numbers from 0 (``3``, ``3.0``, ``np.int64(3)``),
    each after the one before, as every :class:`History` holds them.

    Raises:
        ValueError: naming the first value that is no whole number >= 0 (NaN, ``1.5``,
            ``-1``, text; a cast to int made ``1.5`` epoch 1), or that does not come after
            the one before it (an epoch repeated or out of order).
    """
    numbers: list[int] = []
    for value in values:
        number = _whole(value)
        if number is None:
            raise ValueError(f"epoch must hold whole numbers >= 0, got {value!r}")
        if numbers and number <= numbers[-1]:
            raise ValueError(
                f"epoch must increase, got {number} after {numbers[-1]}; expected one row "
                "per epoch, in order (of a run restarted in the same log, the last run's "
                "rows, as read_log keeps them)"
            )
        numbers.append(number)
    return tuple(numbers)


def _whole(value: object) -> int | None:
    """``value`` as a whole number >= 0, or None (``True`` is no epoch)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number) or number < 0 or number != int(number):
        return None
    return int(number)


class UnknownColumn(KeyError, ValueError):
    """A curve that a history does not have: a ``KeyError`` to code that looks columns up,
    and bad input (a ``ValueError``) to the command line."""


@dataclass(frozen=True)
class History:
    """Per-epoch curves of one training run.

    Train metrics are measured in eval mode on the clean training set at the end of each
    epoch (not running averages under dropout or augmentation). Missing values are NaN.

    Attributes:
        epoch: epoch numbers, 0-based like Keras's ``CSVLogger``, each after the one before.
        loss: training loss per epoch (cross-entropy, without the L2 penalty).
        accuracy: training accuracy per epoch, in [0, 1].
        val_loss: validation loss per epoch.
        val_accuracy: validation accuracy per epoch.
        extras: further per-epoch columns, e.g. ``lr`` and ``seconds``.
        stop_reason: why training ended (a :class:`nooverfit.stopping.StopReason` value).
        kept_epoch: the epoch whose weights the run ended with (early stopping's or
            ``keep_best``'s choice, else the last epoch), if known. Not the best epoch:
            see :attr:`best_epoch`.
        notes: what a log reader had to interpret (e.g. "steps are shown as epochs"),
            for the user to read next to the diagnosis.
        steps_as_epochs: whether the log reader found no epoch and shows the logged steps
            (or step numbers) as epochs, so ``epoch`` holds steps, not epochs.
        evaluated_at: where each row is an evaluation and ``epoch`` numbers them 0, 1, 2,
            ... (several an epoch, or a log without epochs whose validation rounds are at
            other steps than training), what the log says of each: the epochs done
            (fractional, 2.4 is 40 % into the third epoch) or the step, as
            ``evaluated_in`` says; empty where ``epoch`` holds epochs (or steps).
        evaluated_in: the unit of ``evaluated_at``: ``"epoch"`` or ``"step"``.
        framework: what wrote the log, as :func:`~nooverfit.logs.read_log` tells it
            (``"nooverfit"``, ``"keras"``, ``"pytorch"``, ``"lightning"``, ``"hf"``; ``""``,
            the default, where the log does not say): the words of the remedies
            (:mod:`nooverfit.remedy_words`). Not compared: the same curves are the same
            history whoever wrote them.
        logged_as: the name each curve was logged under, by the name it is read as
            (``{"val_loss": "val/loss"}``), where a log reader tells it: the name a
            framework's early stopping must watch. Empty where not known; not compared.
    """

    epoch: tuple[int, ...]
    loss: tuple[float, ...]
    accuracy: tuple[float, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[float, ...]
    extras: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    stop_reason: str = ""
    kept_epoch: int | None = None
    notes: tuple[str, ...] = ()
    steps_as_epochs: bool = False
    evaluated_at: tuple[float, ...] = ()
    evaluated_in: str = "epoch"
    framework: str = field(default="", compare=False)
    logged_as: Mapping[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.evaluated_at and len(self.evaluated_at) != len(self.epoch):
            raise ValueError(
                f"evaluated_at must hold one value per row ({len(self.epoch)}), "
                f"got {len(self.evaluated_at)}"
            )

    @classmethod
    def from_columns(
        cls,
        columns: Mapping[str, Sequence[float]],
        *,
        epoch: Sequence[float] | None = None,
        stop_reason: str = "",
        kept_epoch: int | None = None,
        notes: tuple[str, ...] = (),
        steps_as_epochs: bool = False,
    ) -> History:
        """Build a history from named columns; absent core columns become NaN.

        The epoch numbers are ``epoch``, else the ``"epoch"`` column (a log's, as
        ``df.to_dict("list")`` of a ``CSVLogger`` file holds it), else ``0 .. n - 1``:
        whole numbers >= 0 (``3.0`` is epoch 3), each after the one before.

        Raises:
            ValueError: if the curves differ in length, ``epoch`` and an ``"epoch"``
                column disagree, or the epochs are not whole numbers >= 0, each after the
                one before (:func:`epoch_numbers`).
        """
        given = None if epoch is None else epoch_numbers(epoch)
        if "epoch" in columns:
            logged = epoch_numbers(columns["epoch"])
            if given is not None and given != logged:
                raise ValueError(
                    "epoch and the 'epoch' column differ; expected one of them, or the same "
                    "numbers in both"
                )
            given = logged
        lengths = {len(v) for v in columns.values()}
        n = len(given) if given is not None else (max(lengths) if lengths else 0)
        epochs = given if given is not None else tuple(range(n))
        core = {name: _floats(columns.get(name), n) for name in CORE}
        extras = {k: _floats(v, n) for k, v in columns.items() if k not in CORE and k != "epoch"}
        return cls(
            epoch=epochs,
            loss=core["loss"],
            accuracy=core["accuracy"],
            val_loss=core["val_loss"],
            val_accuracy=core["val_accuracy"],
            extras=extras,
            stop_reason=stop_reason,
            kept_epoch=kept_epoch,
            notes=tuple(notes),
            steps_as_epochs=steps_as_epochs,
        )

    def __len__(self) -> int:
        return len(self.epoch)

    def has(self, name: str) -> bool:
        """Whether column ``name`` exists and holds at least one finite value."""
        values = self.column(name) if name in CORE or name in self.extras else ()
        return any(math.isfinite(v) for v in values)

    def column(self, name: str) -> tuple[float, ...]:
        """Return the curve called ``name`` (a core column or an extra)."""
        if name in CORE:
            values: tuple[float, ...] = getattr(self, name)
            return values
        if name in self.extras:
            return self.extras[name]
        raise UnknownColumn(f"no column {name!r}; columns: {', '.join(self.columns())}")

    def columns(self) -> list[str]:
        """Column names in Keras CSVLogger order: epoch, then the rest sorted."""
        names = [n for n in CORE if self.has(n)] + list(self.extras)
        return ["epoch", *sorted(names)]

    def best(self) -> int | None:
        """The best epoch: lowest ``val_loss`` (highest ``val_accuracy`` without one), by
        :func:`best_index`; ``None`` without a validation curve."""
        if self.has("val_loss"):
            i = best_index(self.val_loss)
        else:
            i = best_index([-v for v in self.val_accuracy])
        return None if i is None else self.epoch[i]

    @property
    def best_epoch(self) -> int | None:
        """The best epoch, the one definition ``diagnose(history).best_epoch`` reports too
        (without a ``metric``): :meth:`best`. The weights a run ended with are
        :attr:`kept_epoch`'s."""
        return self.best()

    def head(self, n: int) -> History:
        """Return the first ``n`` epochs (e.g. to replay a run as it was being written);
        what a later epoch decides (the stop, the weights kept) is left out, every other
        field kept (``replace``: a field added later is carried, as ``framework`` was not)."""
        return replace(
            self,
            epoch=self.epoch[:n],
            loss=self.loss[:n],
            accuracy=self.accuracy[:n],
            val_loss=self.val_loss[:n],
            val_accuracy=self.val_accuracy[:n],
            extras={k: v[:n] for k, v in self.extras.items()},
            stop_reason=self.stop_reason if n >= len(self) else "",
            kept_epoch=self.kept_epoch
            if self.kept_epoch is not None and self.kept_epoch < n
            else None,
            evaluated_at=self.evaluated_at[:n],
        )

    # --- serialization -------------------------------------------------------------------

    def to_csv(self) -> str:
        """Return the history as CSV text with Keras ``CSVLogger``'s header and order."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        names = self.columns()
        # a stop other than completion travels in a last column, on the last row: the
        # verdict reads it (an early-stopped run keeps its best weights), so the file must
        # carry it; a completed run keeps Keras's header
        carry = self.stop_reason not in ("", "completed")
        writer.writerow(names + ["stop_reason"] * carry)
        for i, e in enumerate(self.epoch):
            row: list[Any] = [e]
            row += [_fmt(self.column(n)[i]) for n in names[1:]]
            if carry:
                row.append(self.stop_reason if i == len(self.epoch) - 1 else "")
            writer.writerow(row)
        return buf.getvalue()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (NaN becomes ``None`` when written); ``best_epoch`` is
        written for readers and ignored when read back (it follows from the curves)."""
        return {
            "epoch": list(self.epoch),
            **{name: list(self.column(name)) for name in CORE},
            "extras": {k: list(v) for k, v in self.extras.items()},
            "stop_reason": self.stop_reason,
            "kept_epoch": self.kept_epoch,
            "best_epoch": self.best_epoch,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """Inverse of :meth:`to_dict`. A dict without ``kept_epoch`` (written before
        ``results.json`` schema 2) named the kept epoch ``best_epoch``."""

        def clean(values: Sequence[Any]) -> list[float]:
            return [NAN if v is None else float(v) for v in values]

        columns = {name: clean(data.get(name) or []) for name in CORE}
        columns.update({k: clean(v) for k, v in (data.get("extras") or {}).items()})
        return cls.from_columns(
            {k: v for k, v in columns.items() if v},
            epoch=data["epoch"],
            stop_reason=data.get("stop_reason", ""),
            kept_epoch=data["kept_epoch"] if "kept_epoch" in data else data.get("best_epoch"),
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically to ``path``: JSON if it ends in ``.json``, else CSV."""
        if str(path).endswith(".json"):
            return atomic_write_json(path, self.to_dict())
        return atomic_write_text(path, self.to_csv())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> History:
        """Read a file written by :meth:`save` (for logs of other tools see ``read_log``)."""
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"history file not found: {p}")
        text = p.read_text(encoding="utf-8")
        if p.suffix == ".json":
            return cls.from_dict(json.loads(text))
        return cls.from_csv(text)

    @classmethod
    def from_csv(cls, text: str) -> History:
        """Parse CSV text with an ``epoch`` column (as written by :meth:`to_csv`)."""
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or "epoch" not in rows[0]:
            raise ValueError("expected a CSV history with an 'epoch' column")
        names = [n for n in rows[0] if n not in ("epoch", "stop_reason")]
        columns = {n: [_parse(r[n]) for r in rows] for n in names}
        reason = next((r["stop_reason"] for r in reversed(rows) if r.get("stop_reason")), "")
        # the epochs as written: from_columns refuses one that is no whole number (a cast
        # to int made epoch "1.5" epoch 1)
        return cls.from_columns(
            columns, epoch=[_parse(r["epoch"]) for r in rows], stop_reason=reason
        )


def best_index(values: Sequence[float]) -> int | None:
    """Position of the best epoch in a lower-is-better validation curve: its lowest finite
    value (the first on ties), or ``None`` when it has none.

    This is the one definition of "best epoch" (the weights Keras's
    ``restore_best_weights`` would keep): :func:`nooverfit.diagnose`, ``Monitor``, the
    Lightning callback, ``watch``, the plots and ``metrics.json`` all use it.
    """
    best, low = None, math.inf
    for i, v in enumerate(values):
        if math.isfinite(v) and v < low:
            best, low = i, v
    return best


#: Evaluations in the centered moving average whose minimum :func:`onset_index` takes.
ONSET_WIDTH = 5
#: Share of validation's worsening after its best epoch that must come after the smoothed
#: minimum for that minimum to be the onset (else the onset is the best epoch).
ONSET_SHARE = 0.1


def onset_index(values: Sequence[float], *, width: int = ONSET_WIDTH) -> int | None:
    """Position where overfitting starts in a lower-is-better validation curve.

    The minimum of the curve smoothed by a centered ``width``-epoch moving average
    (Prechelt's ``E_opt`` on a smoothed curve; NaN epochs skipped), moved forward to the
    best epoch when that comes later: validation cannot have started to worsen before its
    best value. So ``best <= onset <= last`` always holds. The last ``width // 2``
    positions, whose window the curve's end cuts short, are not candidates (unless no
    other position has a value): an average of fewer evaluations is noisier, and on a flat
    curve it put the onset at the run's last epoch, where nothing can have set in (i141;
    4 of the 645 overfitting verdicts of the s27 log corpora had their onset in the last
    two evaluations, none since; their onsets against the labels unchanged). When less
    than ``ONSET_SHARE`` of validation's worsening after its best came after the smoothed
    minimum, the onset is the best epoch: validation worsened there, and the smoothed
    minimum is only the end of its later recovery (s28 i152).
    """
    best = best_index(values)
    if best is None:
        return None
    half = width // 2
    smooth = []
    for i in range(len(values)):
        window = [v for v in values[max(0, i - half) : i + half + 1] if math.isfinite(v)]
        smooth.append(
            sum(window) / len(window) if window and math.isfinite(values[i]) else math.inf
        )
    whole = range(len(smooth) - half)  # (windows the end does not cut short)
    if not any(math.isfinite(smooth[i]) for i in whole):
        whole = range(len(smooth))
    low = min(whole, key=smooth.__getitem__)
    after = [v for v in values[low + 1 :] if math.isfinite(v)]
    if low > best and after:
        # (how far validation worsened after its best)
        worse = max(v for v in values[best + 1 :] if math.isfinite(v)) - values[best]
        if max(after) - smooth[low] < ONSET_SHARE * worse:
            # (next to nothing of it came after the smoothed minimum: the curve still fell
            # there, its average pulled up by a sharp low at the best epoch; a fine-tuned
            # network best at its first evaluation, worse after its first steps and
            # recovering slowly put the onset 57 epochs after its best, s28 i152)
            return best
    return max(low, best)


def _fmt(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def _parse(text: str | None) -> float:
    if text is None or text.strip() == "":
        return NAN
    return float(text)
