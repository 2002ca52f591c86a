"""The result of :func:`nooverfit.diagnose`: :class:`Verdict`, :class:`Diagnosis` and its parts.

These types live apart from the rules (:mod:`nooverfit._rules`) so that the advice
(:mod:`nooverfit._advice`) can build them without importing the rules back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Any

import numpy as np

from nooverfit._evaluations import epoch_name


class Verdict(str, Enum):
    """What the curves say about the run."""

    OVERFITTING = "overfitting"
    UNDERFITTING = "underfitting"
    GOOD_FIT = "good_fit"
    STILL_IMPROVING = "still_improving"
    DIVERGING = "diverging"
    INSUFFICIENT_EVIDENCE = "insufficient_evidence"


@dataclass(frozen=True)
class Gap:
    """Validation minus training, signed so that positive means worse on validation.

    Attributes:
        loss_at_best: ``val_loss - loss`` at the best epoch (NaN when either is missing).
        loss_at_last: the same at the last epoch.
        metric: the metric compared (e.g. ``"accuracy"``), or ``None``.
        metric_at_best: ``train - val`` for higher-is-better metrics, ``val - train``
            otherwise, at the best epoch.
        metric_at_last: the same at the last epoch.
    """

    loss_at_best: float = math.nan
    loss_at_last: float = math.nan
    metric: str | None = None
    metric_at_best: float = math.nan
    metric_at_last: float = math.nan


@dataclass(frozen=True)
class Cause:
    """A likely cause, with a one-sentence reason drawn from the curves."""

    kind: str
    reason: str


@dataclass(frozen=True)
class Knob:
    """One setting a remedy changes, as values rather than words:
    :mod:`nooverfit.remedy_words` writes it in the words of the framework that trained.

    Attributes:
        name: the setting: ``"l2"`` (coupled penalty, ``loss += l2 / 2 * sum(||W||_F^2)``,
            as :class:`~nooverfit.config.RunConfig`'s), ``"dropout"`` (a rate),
            ``"early_stopping"`` (``value``: the patience, in evaluations), ``"epochs"``,
            ``"lr"``, ``"width"`` (units of each hidden layer), ``"depth"`` (hidden
            layers), ``"batchnorm"`` (a switch), ``"clip_grad_norm"`` (the largest
            gradient norm), ``"augment"`` (a strength in [0, 1]).
        value: the value to set; ``None`` where ``factor`` or ``step`` says it, or for a
            switch.
        factor: multiply the current value by it (``lr`` 0.1: ten times lower).
        step: add it to the current value (``depth`` +1).
        low: the low end of the range to tune over (``l2`` 1e-5), or ``None``.
        high: its high end, or ``None``.
        epochs: for ``early_stopping``, the epochs that end the run at its best
            evaluation (``None`` where the log does not say).
    """

    name: str
    value: float | None = None
    factor: float | None = None
    step: float | None = None
    low: float | None = None
    high: float | None = None
    epochs: int | None = None


@dataclass(frozen=True)
class Remedy:
    """A remedy, with its reason and a concrete setting to try.

    Attributes:
        kind: what to change (``"l2"``, ``"early_stopping"``, ...).
        reason: one sentence drawn from the curves.
        setting: the setting for the command line (e.g. ``--epochs 13``).
        code: the same setting for Python (e.g. ``RunConfig(epochs=13)``); empty when it
            is the same as ``setting``.
        knobs: the settings changed, as values (:class:`Knob`), from which
            :func:`nooverfit.remedy_words.remedy_words` writes the setting in another
            framework's words; empty where the remedy changes no setting (more data).
    """

    kind: str
    reason: str
    setting: str = ""
    code: str = ""
    knobs: tuple[Knob, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Remedy:
        """The inverse of ``asdict`` (knobs read back as :class:`Knob`; none in a
        diagnosis written before they were added)."""
        knobs = tuple(Knob(**k) for k in data.get("knobs", ()))
        return cls(**{**data, "knobs": knobs})


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on one run and the evidence behind it.

    Attributes:
        verdict: the :class:`Verdict`.
        onset_epoch: epoch where overfitting starts (smoothed val-loss minimum), only
            for ``overfitting``, and not where validation was lowest among its last
            evaluations (it never turned: a gap is the evidence).
        best_epoch: epoch with the lowest finite raw validation value of the curve
            decided on (``val_loss``, else the metric named by ``monitor``, as an error),
            the first on ties (:func:`~nooverfit.history.best_index`): the weights to keep,
            for every verdict, diverging and too short to judge included; ``None``
            without a finite one.
        generalization_loss: Prechelt's GL of the last epoch vs the best, in percent.
        gap: train/validation gaps at the best and the last epoch.
        causes: likely causes, most likely first.
        remedies: remedies, most promising first.
        explanation: a short plain-language paragraph.
        missing: what evidence was missing (for ``insufficient_evidence``).
        epochs: how many epochs the run trained: its last logged epoch + 1 (a log
            validated every few epochs has fewer rows than that), or its last epoch where
            the log counts from 1; the number of rows where the log reader showed steps
            as epochs; the epochs trained, started ones counted, where the log's rows are
            evaluations (``evaluated_at``).
        monitor: the curve the decision was made on (``"loss"`` or a metric name).
        evaluated_at: where the log's rows are evaluations numbered 0, 1, 2, ...
            (:attr:`~nooverfit.history.History.evaluated_at`), the epochs done or the
            step at each, in ``unit``: ``best_epoch`` and ``onset_epoch`` number
            evaluations then, and the texts name them "evaluation 24 (epoch 2.4)"
            (:meth:`epoch_name`); empty otherwise.
        unit: what names the rows: ``"epoch"``, or ``"step"`` where the log's steps do
            (steps shown as epochs: "step 2900"; validation rounds at steps).
    """

    verdict: Verdict
    onset_epoch: int | None
    best_epoch: int | None
    generalization_loss: float
    gap: Gap
    causes: tuple[Cause, ...] = ()
    remedies: tuple[Remedy, ...] = ()
    explanation: str = ""
    missing: tuple[str, ...] = ()
    epochs: int = 0
    monitor: str = "loss"
    evaluated_at: tuple[float, ...] = ()
    unit: str = "epoch"

    def epoch_name(self, epoch: int) -> str:
        """How the texts name row ``epoch``: "epoch 24", "step 2900", or "evaluation 24
        (epoch 2.4)" where the rows are evaluations (``evaluated_at``)."""
        return epoch_name(epoch, self.evaluated_at, self.unit)

    def for_python(self) -> Diagnosis:
        """The same diagnosis with each remedy's setting written for Python code (what
        :class:`~nooverfit.monitor.Monitor` and the Lightning callback show)."""
        remedies = tuple(replace(r, setting=r.code or r.setting) for r in self.remedies)
        return replace(self, remedies=remedies)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the verdict as its string value, NaN left to the writer);
        ``evaluated_at`` and ``unit`` only where the rows are no epochs (a run's
        ``results.json`` is as it was before they were added)."""
        data = asdict(self)
        data["verdict"] = self.verdict.value
        if not self.evaluated_at:
            del data["evaluated_at"]
        if self.unit == "epoch":
            del data["unit"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Diagnosis:
        """The inverse of :meth:`to_dict` (e.g. a run's diagnosis read from results.json)."""
        return cls(
            verdict=Verdict(data["verdict"]),
            onset_epoch=data["onset_epoch"],
            best_epoch=data["best_epoch"],
            generalization_loss=data["generalization_loss"],
            gap=Gap(**data["gap"]),
            causes=tuple(Cause(**c) for c in data.get("causes", ())),
            remedies=tuple(Remedy.from_dict(r) for r in data.get("remedies", ())),
            explanation=data.get("explanation", ""),
            missing=tuple(data.get("missing", ())),
            epochs=data.get("epochs", 0),
            monitor=data.get("monitor", "loss"),
            evaluated_at=tuple(data.get("evaluated_at", ())),
            unit=data.get("unit", "epoch"),
        )


@dataclass(frozen=True)
class Evidence:
    """Curve features the rules and the advice share (indices are positions, not epochs).

    Attributes:
        epochs: the epoch of each position.
        train: smoothed training curve, (n,) (NaN without one).
        val: smoothed validation curve, (n,).
        onset: position of the onset (see :func:`nooverfit.history.onset_index`).
        best: position of the best epoch (lowest raw validation value).
        rise: smoothed validation value at the end over its minimum, minus 1.
        learned: how far training got: ``(train[0] - min(train)) / train[0]``, in [0, 1].
        signal: what showed overfitting (``"rise"``, ``"memorized"``, ``"gap"``) or ``""``.
        tail_drop: relative fall of the validation curve over the last third of the run.
        early_stopped: whether an early-stopping rule ended the run.
        metric_gap: ``train - val`` of an accuracy-like metric at the end (NaN without).
    """

    epochs: tuple[int, ...]
    train: np.ndarray
    val: np.ndarray
    onset: int
    best: int
    rise: float
    learned: float
    signal: str
    tail_drop: float
    early_stopped: bool
    metric_gap: float = math.nan
    extra: dict[str, float] = field(default_factory=dict)
