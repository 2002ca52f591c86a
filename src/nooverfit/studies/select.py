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
        val_per_seed: validation accuracy of each seed's run, in seed order (for the
            seed-paired comparisons of :func:`improves`; empty when unknown).
        val_loss_per_seed: validation loss of each seed's run, in seed order (infinite
            for a diverged run; empty when unknown).
        halved: how many of its runs successive halving stopped (behind their grid at
            mid-training), whose metrics are therefore from mid-training.
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
    val_per_seed: tuple[float, ...] = ()
    val_loss_per_seed: tuple[float, ...] = ()
    halved: int = 0


def kept_row(history: History) -> int:
    """Index of the epoch whose weights a run kept (:attr:`History.kept_epoch`; the last
    epoch when it is not known)."""
    if history.kept_epoch is not None and history.kept_epoch in history.epoch:
        return history.epoch.index(history.kept_epoch)
    return len(history) - 1


def score(histories: Sequence[History]) -> Score:
    """Aggregate the kept-epoch metrics of one variant's runs (one per seed).

    Diverged runs count as chance-level: validation accuracy 0 and infinite loss.
    """
    if not histories:
        raise ValueError("score needs at least one history")
    rows = []
    for h in histories:
        i = kept_row(h)
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
        val_per_seed=tuple(float(v) for v in a[:, 0]),
        val_loss_per_seed=tuple(float(v) for v in a[:, 1]),
        halved=sum(h.stop_reason == "halved" for h in histories),
    )


def best(scores: Sequence[Score]) -> int:
    """Index of the best score: highest mean val accuracy, then lowest mean val loss,
    then the earliest (the grids list simpler settings first where it matters)."""
    if not scores:
        raise ValueError("best needs at least one score")
    return min(range(len(scores)), key=lambda i: (-scores[i].val_accuracy, scores[i].val_loss, i))


def best_penalized(scores: Sequence[Score], penalties: Sequence[float]) -> int:
    """Index of the best of a penalty grid (the linear rung's L2 strengths): highest mean
    validation accuracy, then the *largest* penalty, then the earliest.

    An exact accuracy tie goes to the more penalized, simpler fit, as the study's own
    scikit-learn references break a tie (:func:`.classic.fit_split`: the grids list the
    more regularized first) and as :func:`choose` keeps the simpler level; not to the
    lower validation log loss, as :func:`best` does within a remedy's grid. A penalty
    shrinks the weights, so it raises the log loss of rows every variant gets right: on
    separable data (penguins, every variant 100 % on validation) the unpenalized fit,
    whose weights grow without bound, has the least log loss, and that is the overfit
    (bench/README.md, i72: l2 = 0 scored 97.7 % on test, l2 = 0.01 98.8)."""
    if not scores or len(scores) != len(penalties):
        raise ValueError("best_penalized needs one penalty per score, at least one")
    return min(
        range(len(scores)),
        key=lambda i: (-round(scores[i].val_accuracy, 12), -penalties[i], i),
    )


#: how many standard errors of the seed-paired validation difference a candidate must
#: gain over a simpler one to replace it (see :func:`improves`). Two, since the candidate
#: is the best of its level: the best of twenty noisy variants gains about two standard
#: errors over the baseline by chance alone. Measured on bench/tabular.py's design data
#: (fgl): one standard error let label smoothing win on validation (+4.1 points) and lose
#: 3.1 points on test.
MARGIN = 2.0


def paired_gain(candidate: Score, reference: Score) -> tuple[float, float]:
    """Mean and standard error of the seed-paired validation accuracy difference
    ``candidate - reference`` (each seed's runs share one split, so their difference is
    free of the split's luck); the standard error is 0 with fewer than two seeds."""
    a, b = candidate.val_per_seed, reference.val_per_seed
    if not a or len(a) != len(b):  # no per-seed values: the means alone
        return candidate.val_accuracy - reference.val_accuracy, 0.0
    return paired(a, b)


def paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error of the per-seed differences ``a - b`` (0 with one seed)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else 0.0
    return float(d.mean()), se


#: relative tolerance of :func:`beyond`: validation accuracies move in steps of one
#: validation row, so a gain of exactly ``margin`` standard errors is common (a gain on two
#: seeds of three and none on the third is exactly two), and the last bits of its sums
#: must not decide it (review i114: the same pattern passed or failed by seed order)
TIE = 1e-9


def beyond(gain: float, se: float, margin: float) -> bool:
    """Whether a seed-paired mean ``gain`` is more than ``margin`` standard errors ``se``
    of it; one of exactly that many is not (a tie at the margin keeps the simpler), up to
    :data:`TIE`."""
    return gain > margin * se * (1 + TIE)


def improves(candidate: Score, reference: Score, *, margin: float = MARGIN) -> bool:
    """Whether ``candidate`` beats the simpler ``reference`` on validation beyond noise:
    its seed-paired mean gain is positive and more than ``margin`` standard errors of that
    gain (:func:`beyond`). A tie, at the margin too, or a gain the seeds disagree on, keeps
    the simpler one."""
    gain, se = paired_gain(candidate, reference)
    return gain > 1e-12 and beyond(gain, se, margin)


#: the least seed-paired drop of validation log loss (nats) that :func:`lowers_loss`
#: counts: below it a "significant" drop is a rounding of near-zero losses (a data set
#: every network fits perfectly)
LOSS_FLOOR = 0.01


def lowers_loss(
    candidate: Score, reference: Score, *, margin: float = MARGIN, floor: float = LOSS_FLOOR
) -> bool:
    """Whether ``candidate`` lowers the seed-paired validation log loss of ``reference`` by at
    least ``floor`` and more than ``margin`` standard errors (:func:`beyond`), without
    losing validation accuracy (seed-paired mean gain >= 0). Log loss scores every
    validation sample's predicted probability, not only its argmax: on a small validation
    set it separates what accuracy leaves tied (used for ensembles, whose averaging is known
    to lower variance; see :mod:`.ensemble`). False where the per-seed losses are unknown or
    one is infinite (a diverged run), and where ``reference`` gets every validation row
    right on every seed: there log loss ranks nothing but confidence in rows both get right,
    which a smaller penalty or more epochs buy without generalizing (bench/README.md, i72
    and i76: on penguins, 100 % on validation for every variant, a network lowering the
    penalized linear rung's log loss replaced it and lost 1.5 test points); the simpler
    stays."""
    a, b = candidate.val_loss_per_seed, reference.val_loss_per_seed
    if not a or len(a) != len(b) or not all(map(math.isfinite, (*a, *b))):
        return False
    if reference.val_per_seed and min(reference.val_per_seed) >= 1.0 - 1e-12:
        return False
    gain, se = paired(b, a)  # the reference's loss minus the candidate's
    accuracy, _ = paired_gain(candidate, reference)
    return gain >= floor and beyond(gain, se, margin) and accuracy >= -1e-12


def breaks_tie(candidate: Score, reference: Score, *, margin: float = MARGIN) -> bool:
    """Whether ``candidate`` ties ``reference``'s validation accuracy on every seed and
    :func:`lowers_loss` beyond noise: where accuracy cannot choose, the proper score of
    the predicted probabilities does (not where every row is right on every seed, which
    :func:`lowers_loss` leaves to the simpler). False without per-seed values."""
    a, b = candidate.val_per_seed, reference.val_per_seed
    if not a or len(a) != len(b) or any(abs(x - y) > 1e-12 for x, y in zip(a, b, strict=True)):
        return False
    return lowers_loss(candidate, reference, margin=margin)


@dataclass(frozen=True)
class Step:
    """One comparison of :func:`choose`: the best of a level (:func:`best`) against the
    choice so far, and whether it replaced it.

    Attributes:
        level, index: the level's best, as ``levels[level][index]``.
        reference: ``(level, index)`` of the choice so far, which it had to beat.
        taken: whether it :func:`improves` on the reference or :func:`breaks_tie` with it.
    """

    level: int
    index: int
    reference: tuple[int, int]
    taken: bool


def steps(levels: Sequence[Sequence[Score]], *, margin: float = MARGIN) -> tuple[Step, ...]:
    """The comparisons of :func:`choose` on ``levels``, one per non-empty level after the
    first, in order: what the selection decided and against what (the report says why a
    candidate ahead on validation was not chosen from these)."""
    if not levels or not levels[0]:
        raise ValueError("choose needs a non-empty first level (the baseline)")
    current = (0, best(levels[0]))
    out = []
    for lv, scores in enumerate(levels[1:], start=1):
        if not scores:
            continue
        i = best(scores)
        ref = levels[current[0]][current[1]]
        taken = improves(scores[i], ref, margin=margin) or breaks_tie(
            scores[i], ref, margin=margin
        )
        out.append(Step(lv, i, current, taken))
        if taken:
            current = (lv, i)
    return tuple(out)


def choose(levels: Sequence[Sequence[Score]], *, margin: float = MARGIN) -> tuple[int, int]:
    """Selection from the simplest up: ``levels[0]`` holds the baseline, later levels
    ever more complex candidates (one remedy, combinations, ensembles). The best of each
    level (:func:`best`) replaces the choice so far only if it :func:`improves` on it,
    or ties it on every seed and lowers its log loss (:func:`breaks_tie`); each
    comparison is a :class:`Step` of :func:`steps`.

    Returns:
        ``(level, index)`` of the chosen candidate.
    """
    taken = [(s.level, s.index) for s in steps(levels, margin=margin) if s.taken]
    return taken[-1] if taken else (0, best(levels[0]))


def linear_leads(rung: Sequence[Score], baseline: Score) -> bool:
    """Whether the linear rung (the tabular network without hidden layer, logistic
    regression) is the first, simplest level of :func:`choose`, the baseline network
    joining the remedies' level: where the rung's best variant (:func:`best_penalized`)
    scores a mean validation accuracy at least the baseline's. Then the networks with hidden
    layers must beat logistic regression beyond the seeds' noise, as a remedy must beat
    the baseline; where the rung scores less, the baseline stays first, since three seeds
    of 30-60 validation rows cannot show a linear model's shortfall (bench/README.md, i51:
    the rung first everywhere kept it 4.5 validation points behind on ``auto``) nor its
    gain (birthwt, mode: every network ties it within noise). False without a rung."""
    if not rung:
        return False
    return max(s.val_accuracy for s in rung) >= baseline.val_accuracy - 1e-12


def admissible(candidate: Score, reference: Score, *, margin: float = MARGIN) -> bool:
    """Whether an ensemble ``candidate`` may replace the simpler ``reference``: it
    :func:`improves` on its accuracy or :func:`lowers_loss` at no loss of accuracy."""
    return improves(candidate, reference, margin=margin) or lowers_loss(
        candidate, reference, margin=margin
    )


def pick_ensemble(
    candidates: Sequence[Score], reference: Score, *, margin: float = MARGIN
) -> int | None:
    """Index of the ensemble that replaces the choice so far (``reference``), or None:
    among the :func:`admissible` candidates (at ``margin`` standard errors), the one of
    highest mean validation accuracy, the score the study is judged by (then the lowest
    mean validation log loss, then the earliest). Log loss ranked them first until i76:
    on bench/tabular.py's design sets, accuracy first took fgl from 74.7 to 75.9 % on test
    (the random forest's), gbsg 61.6 -> 61.2, and left six unchanged (mean gap to the
    best reference -1.64 -> -1.54 points)."""
    ok = [i for i, s in enumerate(candidates) if admissible(s, reference, margin=margin)]
    if not ok:
        return None
    return min(ok, key=lambda i: (-candidates[i].val_accuracy, candidates[i].val_loss, i))
