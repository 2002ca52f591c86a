"""Figures that accuracy hides on imbalanced classes (pure functions of label arrays).

On data where one class holds 97 % of the rows, a network that answers that class for
every row scores 97 % accuracy. These functions give what to read next to an accuracy:

- :func:`majority`: the most frequent class of some rows and its share - the accuracy of
  always answering it on those rows (the bar a useful model must clear);
- :func:`recalls` and :func:`balanced_accuracy`: the share of each class's rows predicted
  right, and their mean over the classes present (``sklearn.metrics.balanced_accuracy_score``);
- :func:`single_class`: the one class a model predicted for every row, if so;
- :func:`share_shift`: how far a training subset's class shares are from held-out rows'
  (a balanced subsample of imbalanced data shifts the prior the network learns).

The sentences a user reads (:func:`one_class_warning`, :func:`shift_warning`) are built here
too, from the figures only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Total variation distance between the training set's class shares and the held-out
#: rows' above which the study warns (0.1: a tenth of the rows would change class; a
#: balanced subsample of 10 classes that are each 10 +- 2 % of the data stays below it).
SHIFT_WARNING = 0.1


def class_counts(y: np.ndarray | Sequence[int], n_classes: int) -> np.ndarray:
    """Rows per class index ``0 .. n_classes - 1``."""
    return np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes)[:n_classes]


def majority(y: np.ndarray | Sequence[int], n_classes: int) -> tuple[int, float]:
    """The most frequent class of ``y`` (the lowest index on a tie) and its share of the
    rows: the accuracy of always answering that class. ``(-1, nan)`` for no rows."""
    counts = class_counts(y, n_classes)
    if counts.sum() == 0:
        return -1, float("nan")
    top = int(np.argmax(counts))
    return top, float(counts[top] / counts.sum())


def recalls(
    y_true: np.ndarray | Sequence[int], y_pred: np.ndarray | Sequence[int], n_classes: int
) -> tuple[float | None, ...]:
    """Per class, the share of its rows predicted as it (``None`` for a class with no rows)."""
    t, p = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {len(t)} and {len(p)}")
    out: list[float | None] = []
    for c in range(n_classes):
        rows = t == c
        out.append(float(np.mean(p[rows] == c)) if rows.any() else None)
    return tuple(out)


def balanced_accuracy(
    y_true: np.ndarray | Sequence[int], y_pred: np.ndarray | Sequence[int], n_classes: int
) -> float:
    """The mean recall over the classes present in ``y_true`` (as sklearn's
    ``balanced_accuracy_score``): 1 / classes for a model that answers one class."""
    present = [r for r in recalls(y_true, y_pred, n_classes) if r is not None]
    return float(np.mean(present)) if present else float("nan")


def single_class(
    y_true: np.ndarray | Sequence[int], y_pred: np.ndarray | Sequence[int]
) -> int | None:
    """The class predicted for every row, when the rows hold more than one class (a model
    that never names the others); ``None`` otherwise."""
    t, p = np.unique(np.asarray(y_true)), np.unique(np.asarray(y_pred))
    return int(p[0]) if len(p) == 1 and len(t) > 1 else None


def shares(counts: Sequence[int]) -> np.ndarray:
    """Class shares of ``counts`` (zeros for no rows)."""
    c = np.asarray(counts, dtype=np.float64)
    return c / c.sum() if c.sum() > 0 else np.zeros_like(c)


def share_shift(train: Sequence[int], held: Sequence[int]) -> float:
    """Total variation distance between the class shares of two count vectors: the share
    of rows that would have to change class to make one set's shares the other's."""
    return float(0.5 * np.abs(shares(train) - shares(held)).sum())


def imbalance(counts: Sequence[int]) -> float:
    """Largest class count over the smallest non-empty one (nan for no rows)."""
    present = [int(c) for c in counts if c > 0]
    return max(present) / min(present) if present else float("nan")


def _share_text(counts: Sequence[int], classes: Sequence[str]) -> str:
    return "/".join(f"{100 * s:.0f}" for s in shares(counts)) + " % (" + "/".join(classes) + ")"


def shift_warning(
    train: Sequence[int],
    held: dict[str, Sequence[int]],
    classes: Sequence[str],
    *,
    pool: Sequence[int] | None = None,
) -> str | None:
    """The warning when the training set's class shares differ from held-out rows'
    (``held``: ``{"validation": counts, "test": counts}``) by at least
    :data:`SHIFT_WARNING`; ``pool``: the counts of the whole training pool the training
    set was drawn from, whose shares a subsample keeps only if drawn at random."""
    gaps = {name: share_shift(train, counts) for name, counts in held.items() if sum(counts)}
    if not gaps or max(gaps.values()) < SHIFT_WARNING:
        return None
    worst = max(gaps, key=lambda k: gaps[k])
    text = (
        f"class shares differ between training and {worst} samples: training "
        f"{_share_text(train, classes)}, {worst} {_share_text(held[worst], classes)}. "
        "A network learns the training shares as its prior, so it over-predicts the "
        "smaller classes on validation and test samples, and its accuracy there can fall "
        "below always answering the largest class."
    )
    if pool is not None and share_shift(train, pool) >= SHIFT_WARNING:
        text += (
            " The training set is a per-class subsample of an imbalanced pool "
            f"({_share_text(pool, classes)}): train on the whole pool, which keeps its "
            "shares (--train-per-class 0)."
        )
    return text


def balance_warnings(
    train: Sequence[int],
    val: Sequence[int],
    test: Sequence[int],
    classes: Sequence[str],
    *,
    pool: Sequence[int] | None = None,
) -> list[str]:
    """The class-balance warnings of a split: imbalanced classes (3x or more, in the
    training set or in the whole data set, ``pool`` + ``val`` + ``test``) and the training
    set's class shares differing from held-out rows' (:func:`shift_warning`)."""
    whole = pool if pool is not None and len(pool) else train
    data = [int(a) + int(b) + int(c) for a, b, c in zip(whole, val, test, strict=True)]
    out = []
    in_train, in_data = imbalance(train), imbalance(data)
    worst = max(float(np.nan_to_num(in_train)), float(np.nan_to_num(in_data)))
    if worst >= 3:
        where = "the training set" if worst == in_train else "the whole data set"
        out.append(f"classes are imbalanced: in {where} the largest has {worst:.1f}x the smallest")
    shift = shift_warning(train, {"validation": val, "test": test}, classes, pool=whole)
    if shift is not None:
        out.append(shift)
    return out


def one_class_warning(roles: Sequence[str], where: Sequence[tuple[int, str]], name: str) -> str:
    """The warning for models (``roles``, e.g. ``["recommended", "baseline"]``) that answer
    the class ``name`` for every row of each ``(seed, part)`` in ``where``."""
    seeds: dict[str, list[str]] = {}
    for seed, part in where:
        seeds.setdefault(part, []).append(str(seed))
    parts: dict[tuple[str, ...], list[str]] = {}  # parts flagged on the same seeds go together
    for part, s in seeds.items():
        parts.setdefault(tuple(s), []).append(part)
    places = "; ".join(
        f"{' and '.join(p)} rows of seed{'s' if len(s) > 1 else ''} {', '.join(s)}"
        for s, p in parts.items()
    )
    who = " and the ".join(roles)
    verb = "answers" if len(roles) == 1 else "answer"
    return (
        f"the {who} model{'s' if len(roles) > 1 else ''} {verb} {name!r} for every one of the "
        f"{places}: never any other class, so accuracy there is only the share of {name!r} "
        "rows. Judge by balanced accuracy and per-class recall instead; more rows of the "
        "other classes are what would help."
    )
