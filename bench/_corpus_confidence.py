"""How sure a corpus label is: the share of bootstrap test sets that give the same label.

A label is read from the curve of a test set of a few hundred samples; a different test
set of the same size, from the same distribution, gives a different curve, and a run
whose test loss rose 9 or 11 % (the overfitting threshold is 10 %), or whose still-falling
tail is 1.9 or 2.1 standard errors, gets a different label. The generator keeps every
evaluation's per-sample test losses while it trains (never written to the log) and
resamples the test set with replacement, the *same* resample at every evaluation (a
sample's losses across epochs are correlated, and so are the curve's points): each draw
is a test curve the run could as well have had. A label that fewer than ``CONFIDENT`` of
the draws give is within the test set's noise: the run is marked ``ambiguous`` and scored
apart, never dropped (``diagnose_accuracy.py`` prints both).

Parts built before 2026-11-30 (i42) stored only the mean test curve; they have no
confidence, and their labels are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Share of bootstrap draws that must give the label for it to count as confident.
CONFIDENT = 0.8
#: Bootstrap draws per run (the share's standard error is under 0.07 at 0.8).
DRAWS = 40


def bootstrap_curves(
    samples: list[np.ndarray], right: list[Any], draws: int, seed: int
) -> list[tuple[list[float], list[float] | None]]:
    """``draws`` resampled (test loss, test accuracy or None) curves, each one resample of
    the test set applied to every evaluation."""
    losses = np.stack(samples)  # evaluations x samples
    rights = None if right[0] is None else np.stack(right).astype(float)
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(draws):
        idx = rng.integers(losses.shape[1], size=losses.shape[1])
        with np.errstate(all="ignore"):
            loss = losses[:, idx].mean(1)
        acc = None if rights is None else rights[:, idx].mean(1).tolist()
        out.append((loss.tolist(), acc))
    return out


def label_votes(
    label_of: Callable[[list[float], list[float] | None], str | None],
    samples: list[np.ndarray],
    right: list[Any],
    seed: int,
    draws: int = DRAWS,
) -> dict[str, int]:
    """How many of ``draws`` bootstrap test curves ``label_of(test, test_acc)`` gives each
    label (``"none"``: the draw fits no label). Kept in the manifest, so that a relabelled
    run (``--relabel``) reads its new label's share from the same draws."""
    if not samples:
        return {}
    votes: dict[str, int] = {}
    for test, acc in bootstrap_curves(samples, right, draws, seed):
        key = str(label_of(test, acc) or "none")
        votes[key] = votes.get(key, 0) + 1
    return votes


def confidence_fields(votes: dict[str, int], chosen: str | None) -> dict[str, Any]:
    """The manifest fields of a run's label confidence (none for a run without votes: the
    parts built before the bootstrap)."""
    if not votes or chosen is None:
        return {}
    share = votes.get(chosen, 0) / sum(votes.values())
    return {
        "label_votes": votes,
        "label_confidence": round(share, 3),
        "ambiguous": share < CONFIDENT,
    }
