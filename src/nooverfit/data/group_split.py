"""A split that keeps every group (a source recording and its mixes, a speaker) wholly in
one of train pool, validation and test, stratified by class as far as the groups allow.

Mixes of one recording with different noises are not independent samples: with one mix in
the training set and another in the test set, a network can pass the test by recognizing
the recording. Speech Commands assigns each speaker wholly to one split for this reason.

The assignment is greedy, like the idea behind scikit-learn's ``StratifiedGroupKFold``:

1. Each split ``s`` (test, validation, pool) has a target count per class,
   ``target[s, c] = share[s] * n_c`` (the shares from ``test`` and ``val`` as in
   :func:`~nooverfit.data.split.make_split`).
2. Groups are put in a seeded random order (``numpy.random.default_rng((seed, 5))``),
   then largest first (stable), so that the seed breaks ties between equal groups.
3. Cover: for each class (fewest groups first) and each split that has none of it
   (pool, then validation, then test), the cheapest unassigned group holding the class
   goes there, so that every split sees every class when the groups allow.
4. Fill: every other group goes where it costs least, the cost of a placement being
   ``sum_s sum_c ((assigned[s, c] - target[s, c]) / n_c) ** 2``.

The pool is then put in ``numpy.random.default_rng(seed)`` order as in ``make_split``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nooverfit.data.split import Split, _check_classes, _name, _size
from nooverfit.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The splits in the order :func:`make_stratified_group_split` covers them.
_POOL, _VAL, _TEST = 0, 1, 2


def _count(size: float | int, n: int, name: str) -> float:
    """A split's sample count from a fraction of ``n`` or a count."""
    size = _size(size, name)
    return size * n if isinstance(size, float) else float(size)


def _placement_cost(counts: np.ndarray, targets: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The cost of adding a group with class counts ``counts`` ``(K,)`` to each split, given
    the splits' remaining deficits ``targets`` ``(3, K)`` (target minus assigned): the
    change in ``sum_c ((assigned - target) / n_c) ** 2``, one value per split ``(3,)``."""
    return ((counts**2 - 2 * counts * targets) / scale**2).sum(axis=1)


def make_stratified_group_split(
    y: np.ndarray,
    groups: np.ndarray,
    *,
    test: float | int = 0.25,
    val: float | int = 0.2,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> Split:
    """Split sample indices into a training pool, validation and test sets, each group
    wholly in one of them, each class spread over the three in proportion as far as the
    groups allow (see the module docstring for the algorithm).

    Args:
        y: labels, shape ``(N,)``.
        groups: a group name per sample ``(N,)`` (the source recording or speaker).
        test: test fraction of all samples, or a count (default 0.25); met approximately,
            since whole groups move.
        val: validation fraction of what remains after the test split, or a count
            (default 0.2).
        seed: seed of the group order and of the pool order.
        names: the class names, for errors (default: the labels).

    Returns:
        A :class:`~nooverfit.data.split.Split` with ``whole_groups=True``.

    Raises:
        BadInput: fewer than two classes, a class with fewer than three samples, or a class
            whose samples come from fewer than three groups (it cannot be in all three
            splits), or one whose groups all went elsewhere so the pool lacks it.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    if len(groups) != len(y):
        raise ValueError(f"need one group per sample ({len(y)}), got {len(groups)}")
    _check_classes(y, names)
    n = len(y)
    n_test = _count(test, n, "test")
    n_val = _count(val, round(n - n_test), "val")
    share = np.array([n - n_test - n_val, n_val, n_test]) / n  # pool, val, test
    if share.min() <= 0:
        raise ValueError(f"cannot split {n} samples into train/val/test: a split would be empty")
    keys, member = np.unique(groups, return_inverse=True)
    labels = np.unique(y)
    column = np.searchsorted(labels, y)
    counts = np.zeros((len(keys), len(labels)))  # (G, K) samples of each class per group
    np.add.at(counts, (member, column), 1)
    for k, c in enumerate(labels):
        holding = int((counts[:, k] > 0).sum())
        if holding < 3:
            raise BadInput(
                f"class {_name(int(c), names)} comes from only {holding} recording(s)/"
                "speaker(s); a split that keeps each one's clips together needs at least 3 "
                "per class (one each for train, validation and test): add recordings"
            )
    totals = counts.sum(axis=0)  # (K,)
    deficit = share[:, None] * totals[None, :]  # (3, K) target minus assigned
    where = np.full(len(keys), -1)
    order = np.random.default_rng((seed, 5)).permutation(len(keys))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]  # largest first

    def place(g: int, split: int) -> None:
        where[g] = split
        deficit[split] -= counts[g]

    for k in np.argsort((counts > 0).sum(axis=0), kind="stable"):  # fewest groups first
        for split in (_POOL, _VAL, _TEST):
            if np.any(counts[where == split, k] > 0):
                continue
            free = order[(where[order] < 0) & (counts[order, k] > 0)]
            if len(free):
                fill = counts[free]  # (F, K)
                cost = ((fill**2 - 2 * fill * deficit[split]) / totals**2).sum(axis=1)
                place(int(free[np.argmin(cost)]), split)
    for g in order:
        if where[g] < 0:
            place(g, int(np.argmin(_placement_cost(counts[g], deficit, totals))))
    missing = [int(c) for k, c in enumerate(labels) if not counts[where == _POOL, k].any()]
    if missing:
        raise BadInput(
            f"class {_name(missing[0], names)} has no recording/speaker left for the "
            "training pool (its groups also hold other classes, which went to validation or "
            "test); expected more recordings or speakers per class"
        )
    split_of = where[member]  # (N,)
    pool = np.flatnonzero(split_of == _POOL)
    return Split(
        pool=np.random.default_rng(seed).permutation(pool).astype(np.int64),
        val=np.flatnonzero(split_of == _VAL).astype(np.int64),
        test=np.flatnonzero(split_of == _TEST).astype(np.int64),
        seed=seed,
        whole_groups=True,
    )
