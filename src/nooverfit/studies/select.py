"""Scores over seeds and selection on validation data only. Pure functions.

A run is scored at the epoch whose weights it kept (the best epoch under early stopping,
else the last). Test scores never enter this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nooverfit.history import History


@dataclass(frozen=True)
class Score:
    """Kept-epoch metrics of one variant, mean and standard deviation over seeds.

    Attributes:
        val_accuracy: mean validation accuracy.
        val_accuracy_std: its standard deviation over seeds (0 for one seed).
        val_loss: mean validation loss.
        accuracy: mean training accuracy (eval mode, clean data).
        accuracy_std: its standard deviation over seeds.
        loss: mean training loss.
        gap: mean of ``accuracy - val_accuracy`` (how much better on training data).
        epochs: mean number of epochs run.
        seeds: number of seeds scored.
    """

    val_accuracy: float
    val_accuracy_std: float
    val_loss: float
    accuracy: float
    accuracy_std: float
    loss: float
    gap: float
    epochs: float
    seeds: int


def kept_epoch(history: History) -> int:
    """Index of the epoch whose weights a run kept."""
    if history.best_epoch is not None and history.best_epoch in history.epoch:
        return history.epoch.index(history.best_epoch)
    return len(history) - 1


def score(histories: Sequence[History]) -> Score:
    """Aggregate the kept-epoch metrics of one variant's runs (one per seed).

    Diverged runs count as chance-level: validation accuracy 0 and infinite loss.
    """
    if not histories:
        raise ValueError("score needs at least one history")
    rows = []
    for h in histories:
        i = kept_epoch(h)
        diverged = h.stop_reason == "diverged" or not math.isfinite(h.val_loss[i])
        if diverged:
            rows.append((0.0, math.inf, 0.0, math.inf, len(h)))
        else:
            rows.append((h.val_accuracy[i], h.val_loss[i], h.accuracy[i], h.loss[i], len(h)))
    a = np.array(rows, dtype=float)
    return Score(
        val_accuracy=float(a[:, 0].mean()),
        val_accuracy_std=float(a[:, 0].std()),
        val_loss=float(a[:, 1].mean()),
        accuracy=float(a[:, 2].mean()),
        accuracy_std=float(a[:, 2].std()),
        loss=float(a[:, 3].mean()),
        gap=float((a[:, 2] - a[:, 0]).mean()),
        epochs=float(a[:, 4].mean()),
        seeds=len(histories),
    )


def best(scores: Sequence[Score]) -> int:
    """Index of the best score: highest mean val accuracy, then lowest mean val loss,
    then the earliest (the grids list simpler settings first where it matters)."""
    if not scores:
        raise ValueError("best needs at least one score")
    return min(range(len(scores)), key=lambda i: (-scores[i].val_accuracy, scores[i].val_loss, i))


def improves(candidate: Score, reference: Score) -> bool:
    """Whether ``candidate`` beats ``reference`` on validation: higher mean accuracy, or
    equal accuracy with lower loss."""
    if candidate.val_accuracy != reference.val_accuracy:
        return candidate.val_accuracy > reference.val_accuracy
    return candidate.val_loss < reference.val_loss
