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

:func:`~nooverfit.data.split.make_stratified_group_split` turns the assignment into a
:class:`~nooverfit.data.split.Split` (the pool in ``numpy.random.default_rng(seed)`` order,
as in ``make_split``).
"""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING

import numpy as np

from nooverfit.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

log = logging.getLogger(__name__)

#: The splits, in the order the cover step fills them; :func:`assign_groups` returns these.
POOL, VAL, TEST = 0, 1, 2
#: Groups each of training pool, validation and test should hold: a score on one or two
#: groups speaks for those groups (a recording, a speaker, a patient), not for new ones.
MIN_GROUPS = 3
#: The warnings already logged in the current :func:`one_warning_each` block (``None``
#: outside one: every split warns).
_warned: ContextVar[list[str] | None] = ContextVar("_warned", default=None)


def _placement_cost(counts: np.ndarray, deficit: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The cost of adding groups with class counts ``counts`` ``(..., K)`` to split(s) with
    remaining deficits ``deficit`` (target minus assigned, ``(K,)`` or ``(3, K)``): the
    change in ``sum_c ((assigned - target) / n_c) ** 2``, summed over the classes."""
    return ((counts**2 - 2 * counts * deficit) / scale**2).sum(axis=-1)


def assign_groups(
    y: np.ndarray,
    groups: np.ndarray,
    *,
    shares: tuple[float, float, float],
    seed: int = 0,
    class_names: Mapping[int, str] | None = None,
) -> np.ndarray:
    """Which split each sample goes to, every group wholly in one (module docstring).

    Args:
        y: labels, shape ``(N,)``.
        groups: a group name per sample ``(N,)`` (the source recording or speaker).
        shares: the fractions of the samples meant for pool, validation and test.
        seed: seed of the group order.
        class_names: how errors name each label (default ``repr(label)``).

    Returns:
        ``(N,)`` ints: :data:`POOL`, :data:`VAL` or :data:`TEST` per sample.

    Raises:
        BadInput: a class whose samples come from fewer than three groups (it cannot be in
            all three splits), or one whose groups all went elsewhere so the pool lacks it.
    """
    named = class_names or {}
    keys, member = np.unique(groups, return_inverse=True)
    labels = np.unique(y)
    counts = np.zeros((len(keys), len(labels)))  # (G, K) samples of each class per group
    np.add.at(counts, (member, np.searchsorted(labels, y)), 1)
    for k, c in enumerate(labels):
        holding = int((counts[:, k] > 0).sum())
        if holding < 3:
            raise BadInput(
                f"class {named.get(int(c), repr(int(c)))} comes from only {holding} "
                "recording(s)/speaker(s); a split that keeps each one's clips together needs "
                "at least 3 per class (one each for train, validation and test): add recordings"
            )
    totals = counts.sum(axis=0)  # (K,)
    deficit = np.asarray(shares)[:, None] * totals[None, :]  # (3, K) target minus assigned
    where = np.full(len(keys), -1)
    order = np.random.default_rng((seed, 5)).permutation(len(keys))
    order = order[np.argsort(-counts[order].sum(axis=1), kind="stable")]  # largest first

    def place(g: int, split: int) -> None:
        where[g] = split
        deficit[split] -= counts[g]

    for k in np.argsort((counts > 0).sum(axis=0), kind="stable"):  # fewest groups first
        for split in (POOL, VAL, TEST):
            if np.any(counts[where == split, k] > 0):
                continue
            free = order[(where[order] < 0) & (counts[order, k] > 0)]
            if len(free):
                cost = _placement_cost(counts[free], deficit[split], totals)  # (F,)
                place(int(free[np.argmin(cost)]), split)
    for g in order:
        if where[g] < 0:
            place(g, int(np.argmin(_placement_cost(counts[g], deficit, totals))))
    missing = [int(c) for k, c in enumerate(labels) if not counts[where == POOL, k].any()]
    if missing:
        raise BadInput(
            f"class {named.get(missing[0], repr(missing[0]))} has no recording/speaker left "
            "for the training pool (its groups also hold other classes, which went to "
            "validation or test); expected more recordings or speakers per class"
        )
    return where[member]


def few_groups(
    where: np.ndarray, groups: np.ndarray, *, checked: tuple[int, ...] = (POOL, VAL, TEST)
) -> str:
    """The warning for a whole-group split with fewer than :data:`MIN_GROUPS` groups in
    its training pool, validation or test (``""`` when each has enough).

    Args:
        where: :data:`POOL`, :data:`VAL` or :data:`TEST` per sample, ``(N,)``.
        groups: a group name per sample, ``(N,)``.
        checked: the splits held to :data:`MIN_GROUPS` (default all three; a split whose
            training groups were asked for by number checks only validation and test).
    """
    held = [len(np.unique(groups[where == split])) for split in (POOL, VAL, TEST)]
    if min(held[split] for split in checked) >= MIN_GROUPS:
        return ""
    total = len(np.unique(groups))
    return (
        f"the split that keeps groups whole puts {held[0]} group(s) in training, {held[1]} in "
        f"validation and {held[2]} in test ({total} in all): scores on so few groups speak "
        f"for those groups, not new ones; expected at least {MIN_GROUPS} in each (add "
        "recordings, speakers or patients, or split by sample)"
    )


def warn_few_groups(
    where: np.ndarray, groups: np.ndarray, *, checked: tuple[int, ...] = (POOL, VAL, TEST)
) -> None:
    """Log :func:`few_groups`'s warning, where it has one (once per message inside a
    :func:`one_warning_each` block): the one check of both whole-group splits
    (``split_by_group``'s and a loader's ``train_groups``)."""
    warning = few_groups(where, groups, checked=checked)
    if warning:
        warn_once(warning)


@contextlib.contextmanager
def one_warning_each() -> Iterator[list[str]]:
    """Within the block, each few-groups warning is logged once: a study splits once per
    seed, and the seeds' splits usually hold the same numbers of groups. The next block (the
    next study in the same Python session) warns afresh.

    Yields:
        The block's warnings, each once, in the order logged (filled as the block runs; a
        study records them for its report).
    """
    warned: list[str] = []
    token = _warned.set(warned)
    try:
        yield warned
    finally:
        _warned.reset(token)


def warn_once(message: str) -> None:
    """Log ``message`` as a warning, unless the current :func:`one_warning_each` block has
    logged it already (outside a block it is always logged)."""
    warned = _warned.get()
    if warned is not None:
        if message in warned:
            return
        warned.append(message)
    log.warning("%s", message)
