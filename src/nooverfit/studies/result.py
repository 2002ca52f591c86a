"""`StudyResult` and the records it is made of; ``results.json`` is its serialized form."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nooverfit._io import atomic_save, atomic_write_json
from nooverfit.config import RunConfig
from nooverfit.data.split import Split
from nooverfit.diagnosis import Diagnosis
from nooverfit.history import History
from nooverfit.studies.curves import LearningCurve, ValidationCurve
from nooverfit.studies.results_file import SCHEMA_VERSION
from nooverfit.studies.select import Score


@dataclass(frozen=True)
class Variant:
    """One configuration of the study, trained once per seed.

    Attributes:
        name: what it changes relative to the baseline (e.g. ``"l2=0.001"``).
        stage: ``"baseline"``, a remedy name, ``"combination"`` or ``"learning_curve"``.
        config: the configuration (seed 0; each seed's run differs only in ``seed``).
        score: kept-epoch validation and training metrics over seeds.
        verdict: the diagnosis verdict most seeds' runs got.
        runs: keys of the runs (one per seed) in ``results.json``'s ``runs``.
    """

    name: str
    stage: str
    config: RunConfig
    score: Score
    verdict: str
    runs: tuple[str, ...]


@dataclass(frozen=True)
class RemedyOutcome:
    """The best setting of one remedy alone, against the baseline on validation.

    Attributes:
        remedy: the remedy's name.
        chosen: its best variant.
        helped: whether it beat the baseline on validation.
        delta: validation accuracy minus the baseline's (mean over seeds).
        gap_delta: train/val accuracy gap minus the baseline's gap (negative is better).
    """

    remedy: str
    chosen: Variant
    helped: bool
    delta: float
    gap_delta: float


@dataclass(frozen=True)
class TestScore:
    """Test accuracy and loss of one variant, mean and std over seeds, scored once."""

    accuracy: float
    accuracy_std: float
    loss: float
    per_seed: tuple[float, ...]


@dataclass(frozen=True)
class RunRecord:
    """One training run: its config, curves, diagnosis and engine."""

    config: RunConfig
    history: History
    diagnosis: Diagnosis
    engine: str

    def to_dict(self) -> dict[str, Any]:
        """The run as ``results.json`` holds it."""
        return {
            "config": self.config.to_dict(),
            "engine": self.engine,
            "diagnosis": self.diagnosis.to_dict(),
            "history": self.history.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """A run read back from ``results.json``."""
        return cls(
            config=RunConfig.from_dict(data["config"]),
            history=History.from_dict(data["history"]),
            diagnosis=Diagnosis.from_dict(data["diagnosis"]),
            engine=data["engine"],
        )


@dataclass(frozen=True)
class StageCost:
    """Where a study's time went: one stage's training.

    Attributes:
        stage: the stage's name (as progress lines call it).
        runs: the runs the stage asked for first (trained here, or read back from an
            earlier session of the same study: the costs do not change on resume).
        steps: their optimizer steps, summed over runs.
        epochs: their epochs, summed over runs.
        seconds: the stage's wall time (training, evaluation and its bookkeeping), in
            the session that trained it.
        ended: how its runs ended: stop reason -> runs (``completed``: all their epochs;
            ``curve``: curve long enough to diagnose; ``halved``: behind their grid;
            ``patience``, ``generalization_loss``, ...: their early-stopping criterion;
            ``diverged``).
        flops: the matrix products' and convolutions' FLOPs of its runs (counted from the
            layers' shapes, see :mod:`nooverfit.engine.flops`).
    """

    stage: str
    runs: int
    steps: int
    epochs: int
    seconds: float
    ended: dict[str, int]
    flops: int = 0

    @property
    def steps_per_second(self) -> float:
        """Optimizer steps of all runs per second of the stage's wall time."""
        return self.steps / self.seconds if self.seconds > 0 else 0.0

    @property
    def flop_rate(self) -> float:
        """FLOP/s of the stage's training over its wall time (evaluation included)."""
        return self.flops / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class StudySettings:
    """What a study ran on and with: ``results.json``'s ``settings``.

    Attributes:
        data, samples, classes: the data set's name, size and class names.
        model, width, depth: the baseline network (``model`` is ``"custom"`` for a
            user's module factory).
        train_per_class, train_size: the baseline's training-set size.
        budget: the budget's name (``"custom"``, or ``"compare"`` for :func:`compare`).
        epochs: the baseline's epochs.
        seeds: the seeds, one split each.
        engine: the engine the study's batches asked for.
        device: the torch device of the data.
        test, val: the split sizes asked for (fractions or counts).
        runs: how many runs the study holds (trained, or read back on resume).
        source: the transfer source, if any.
        class_subset: the classes kept, if any.
        seconds: wall time (a resumed study's stages count the time of the session that
            trained them).
        nooverfit, torch: versions.
        kind: the data's kind (``"image"``, ``"tabular"``, ``"audio"``; ``""`` in results
            written before it was recorded).
    """

    data: str
    samples: int
    classes: tuple[str, ...]
    model: str
    width: int
    depth: int
    train_per_class: int | None
    train_size: int | None
    budget: str
    epochs: int
    seeds: tuple[int, ...]
    engine: str
    device: str
    test: float | int
    val: float | int
    runs: int
    source: str | None
    class_subset: str | None
    seconds: float
    nooverfit: str
    torch: str
    kind: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, in field order (sequences as lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudySettings:
        """Settings read back from ``results.json``."""
        return cls(**{**data, "classes": tuple(data["classes"]), "seeds": tuple(data["seeds"])})


@dataclass(frozen=True)
class StudyResult:
    """Everything a study found. ``save(path)`` writes JSON; the report renders it
    (:func:`nooverfit.report.write_report`, or :func:`nooverfit.study_files.write_study`
    for every file at once): the study's result never imports its report.

    Attributes:
        settings: data set, model, budget, seeds, engine, device, wall time, ...
        splits: one split per seed (the exact indices, for reproduction elsewhere).
        train_indices: seed -> training indices of the baseline's training set.
        runs: run key -> record, for every run of the study.
        baseline: the unregularized variant.
        remedies: each remedy alone, tuned on validation.
        combinations: the combined variants tried.
        recommended: the variant selected on validation among all of the above.
        test: ``{"baseline": ..., "recommended": ...}``, scored once at the end.
        validation_curves: over lambda and dropout rate.
        capacity: validation curve over width, if the plan had one.
        learning: validation accuracy over training-set size, baseline vs recommended.
        baseline_diagnosis: the diagnosis of the baseline's first-seed run.
        costs: each stage's training: runs, steps, seconds, how its runs ended.
        extras: optional sections (e.g. transfer learning, data audit).
        best_state: weights of the recommended variant's first-seed run (not in JSON).
        best_card: what ``best_model.json`` records of them: the preprocessing of their
            inputs, the class names, the networks' configurations
            (:func:`nooverfit.saved_model.model_card`; not in ``results.json``).
        read_back: how many of ``runs`` a resumed study read back from its folder's
            earlier sessions instead of training them (not in ``results.json``, which a
            resumed study writes as the uninterrupted one does).
    """

    settings: StudySettings
    splits: tuple[Split, ...]
    train_indices: dict[int, list[int]]
    runs: dict[str, RunRecord]
    baseline: Variant
    remedies: tuple[RemedyOutcome, ...]
    combinations: tuple[Variant, ...]
    recommended: Variant
    test: dict[str, TestScore]
    validation_curves: tuple[ValidationCurve, ...]
    capacity: ValidationCurve | None
    learning: LearningCurve | None
    baseline_diagnosis: Diagnosis
    costs: tuple[StageCost, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    best_state: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    best_card: dict[str, Any] = field(default_factory=dict, repr=False)
    read_back: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``schema_version`` first)."""

        def plain(obj: Any) -> Any:
            if isinstance(obj, RunConfig):
                return obj.to_dict()
            if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
                return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
            if isinstance(obj, dict):
                return {str(k): plain(v) for k, v in obj.items()}
            if isinstance(obj, (list, tuple)):
                return [plain(v) for v in obj]
            return obj

        return {
            "schema_version": SCHEMA_VERSION,
            "settings": self.settings.to_dict(),
            "splits": [
                {**s.to_dict(), "train": self.train_indices.get(s.seed, [])} for s in self.splits
            ],
            "baseline": plain(self.baseline),
            "remedies": plain(self.remedies),
            "combinations": plain(self.combinations),
            "recommended": plain(self.recommended),
            "test": plain(self.test),
            "validation_curves": plain(self.validation_curves),
            "capacity": plain(self.capacity),
            "learning": _learning(plain(self.learning)),
            "baseline_diagnosis": self.baseline_diagnosis.to_dict(),
            "costs": plain(self.costs),
            "extras": plain(self.extras),
            "runs": {key: r.to_dict() for key, r in self.runs.items()},
        }

    def save(self, path: str | Path) -> Path:
        """Write ``results.json`` atomically."""
        return atomic_write_json(path, self.to_dict())

    def save_model(self, path: str | Path) -> Path:
        """Write the recommended model's state dict (loads with ``weights_only=True``),
        then ``best_card`` beside it (``best_model.json`` for ``best_model.pt``, with the
        weights' SHA-256; see :mod:`nooverfit.saved_model`)."""
        written = atomic_save(path, self.best_state)
        if self.best_card:
            from nooverfit.saved_model import save_card

            save_card(self.best_card, written)
        return written

    def ended(self) -> dict[str, int]:
        """How the study's runs ended: stop reason -> runs (see :class:`StageCost`)."""
        counts: dict[str, int] = {}
        for record in self.runs.values():
            reason = record.history.stop_reason or "completed"
            counts[reason] = counts.get(reason, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    @property
    def variants(self) -> list[Variant]:
        """Baseline, every remedy's chosen variant and the combinations."""
        return [self.baseline, *(r.chosen for r in self.remedies), *self.combinations]


def _learning(curve: dict[str, Any] | None) -> dict[str, Any] | None:
    """The learning curve as ``results.json`` holds it: ``names`` only where a series needs
    naming (the layout of the studies whose series all name themselves is unchanged)."""
    if curve is None or curve["names"]:
        return curve
    return {k: v for k, v in curve.items() if k != "names"}
