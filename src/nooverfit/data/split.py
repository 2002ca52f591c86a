"""Seeded, stratified, disjoint train/val/test splits whose indices are recorded.

The protocol (also used by ``bench/``): a stratified test split, then a stratified
validation split from the rest; what remains is the *pool*, put in a seeded random order
(``numpy.random.default_rng(seed).permutation``). A training set of ``n`` per class is the
first ``n`` pool images of each class in that order, so smaller training sets are nested
in larger ones and every run of a study sees the same validation and test data.

Data whose samples come in dependent groups (``Dataset.whole_groups``: the mixes of one
recording, the clips of one speaker) are split so that each group lies wholly in one split
(:mod:`nooverfit.data.group_split`). The options and classes are checked before any split
is made (:mod:`nooverfit.data.split_checks`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.model_selection import train_test_split

from nooverfit._words import counted
from nooverfit.data.group_split import POOL, TEST, VAL, assign_groups, warn_few_groups
from nooverfit.data.split_checks import (
    cannot_split,
    check_classes,
    check_parts,
    check_rest,
    check_size,
    check_sizes,
    class_name,
)
from nooverfit.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nooverfit.data.dataset import Dataset


@dataclass(frozen=True, eq=False)
class Split:
    """Indices into a data set: the permuted training pool, validation and test.

    Attributes:
        pool: candidate training indices, in the seeded order subsets are drawn from.
        val: validation indices (used for every choice).
        test: test indices (scored once, for the selected configuration).
        seed: the seed that made the split.
        whole_groups: every group of the data set lies wholly in one of pool, validation
            and test (recorded in ``to_dict`` only when True; older splits read as False).
    """

    pool: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int
    whole_groups: bool = False

    def train(
        self,
        y: np.ndarray,
        *,
        train_size: int | None = None,
        train_per_class: int | None = None,
        names: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Training indices, in pool order: the whole pool, its first ``train_per_class``
        of each class, or ``train_size`` samples in proportion to the classes.

        Both subsets are nested: a smaller training set is part of every larger one. For
        ``train_size``, the pool is ordered by each sample's relative rank within its class,
        ``(i + 0.5) / n_class`` for its ``i``-th member (ties in pool order), and the first
        ``train_size`` are taken. This is the Sainte-Laguë (Webster) apportionment of
        ``train_size`` to the classes by their pool counts: each class gets
        ``train_size * share`` rounded (off by more than one only in rare, very unbalanced
        cases), and unlike largest-remainder rounding it never shrinks as ``train_size`` grows.

        Raises:
            ValueError: if a class has fewer pool samples than asked for.
        """
        labels = y[self.pool]
        if train_per_class is not None:
            chosen = []
            for c in np.unique(y):
                members = np.flatnonzero(labels == c)
                if len(members) < train_per_class:
                    raise ValueError(
                        f"train_per_class={train_per_class} (--train-per-class) but class "
                        f"{class_name(int(c), names)} has only {counted(len(members), 'sample')} "
                        f"in the training pool; expected at most {len(members)} (or 0 for the "
                        "whole pool)"
                    )
                chosen.append(members[:train_per_class])
            return self.pool[np.sort(np.concatenate(chosen))]
        if train_size is not None:
            if train_size > len(self.pool):
                raise ValueError(
                    f"train_size={train_size} (--train-size) but the training pool has "
                    f"{counted(len(self.pool), 'sample')}; expected at most {len(self.pool)}"
                )
            rank = np.empty(len(labels))
            for c in np.unique(labels):
                members = np.flatnonzero(labels == c)
                rank[members] = (np.arange(len(members)) + 0.5) / len(members)
            order = np.lexsort((np.arange(len(labels)), rank))  # by rank, then pool position
            return self.pool[np.sort(order[:train_size])]
        return self.pool

    def to_dict(self) -> dict[str, Any]:
        # the key only where True: a per-sample split's record stays as it always was
        grouped = {"whole_groups": True} if self.whole_groups else {}
        return {
            "seed": self.seed,
            "pool": self.pool.tolist(),
            "val": self.val.tolist(),
            "test": self.test.tolist(),
            **grouped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Split:
        return cls(
            pool=np.asarray(data["pool"], dtype=np.int64),
            val=np.asarray(data["val"], dtype=np.int64),
            test=np.asarray(data["test"], dtype=np.int64),
            seed=int(data["seed"]),
            whole_groups=bool(data.get("whole_groups", False)),
        )


def make_split(
    y: np.ndarray,
    *,
    test: float | int = 0.25,
    val: float | int = 0.2,
    seed: int = 0,
    names: Sequence[str] | None = None,
) -> Split:
    """Split sample indices into a permuted training pool, validation and test sets.

    Args:
        y: labels, shape ``(N,)``.
        test: test fraction of all samples, or a count (default 0.25).
        val: validation fraction of what remains after the test split, or a count
            (default 0.2).
        seed: seed of both stratified splits and of the pool order.
        names: the class names, for errors (default: the labels).

    Raises:
        ValueError: if a split would be empty or a class is too small to stratify.
    """
    y = np.asarray(y)
    check_classes(y, names)
    test, val = check_size(test, "test"), check_size(val, "val")
    index = np.arange(len(y))
    check_sizes(y, test=test, val=val)
    try:
        rest, test_idx = train_test_split(index, test_size=test, stratify=y, random_state=seed)
    except ValueError as err:
        rest_part = "the rest (training pool and validation)"
        raise cannot_split(len(y), err, "test", rest_part) from None
    check_rest(y, rest, test=test, val=val, names=names)
    try:
        pool, val_idx = train_test_split(rest, test_size=val, stratify=y[rest], random_state=seed)
    except ValueError as err:
        raise cannot_split(len(y), err, "val", "the training pool") from None
    parts = (
        ("the test set", test_idx, "a larger test"),
        ("validation", val_idx, "a larger val"),
        ("the training pool", pool, "a smaller val"),
    )
    check_parts(y, parts, test=test, val=val, names=names)
    pool = np.random.default_rng(seed).permutation(pool)
    return Split(
        pool=pool.astype(np.int64),
        val=np.sort(val_idx).astype(np.int64),
        test=np.sort(test_idx).astype(np.int64),
        seed=seed,
    )


def make_group_split(
    y: np.ndarray, groups: np.ndarray, *, train_groups: int, seed: int = 0
) -> Split:
    """Hold out whole groups (e.g. speakers): ``train_groups`` groups form the training
    pool, the others are shared between validation (the larger half) and test.

    Groups are assigned in the order of ``numpy.random.default_rng((seed, 3)).permutation``
    of their sorted names; the pool is then put in ``default_rng(seed)`` order as in
    :func:`make_split`.

    Logs a warning when validation or test holds fewer than
    :data:`~nooverfit.data.group_split.MIN_GROUPS` groups (once per message inside
    :func:`~nooverfit.data.group_split.one_warning_each`).

    Raises:
        ValueError: fewer than ``train_groups + 2`` groups, or a class missing from the pool.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    names = np.unique(groups)
    if not 1 <= train_groups <= len(names) - 2:
        raise ValueError(
            f"a group split needs 1 <= train_groups <= groups - 2, got {train_groups} "
            f"training groups of {len(names)}"
        )
    order = np.random.default_rng((seed, 3)).permutation(names)
    rest = order[train_groups:]
    n_val = (len(rest) + 1) // 2
    pool = np.flatnonzero(np.isin(groups, order[:train_groups]))
    missing = sorted(set(np.unique(y).tolist()) - set(y[pool].tolist()))
    if missing:
        raise ValueError(f"classes {missing} have no sample in the training groups")
    where = np.full(len(y), POOL)
    where[np.isin(groups, rest[:n_val])], where[np.isin(groups, rest[n_val:])] = VAL, TEST
    warn_few_groups(where, groups, checked=(VAL, TEST))  # the pool's number was asked for
    return Split(
        pool=np.random.default_rng(seed).permutation(pool).astype(np.int64),
        val=np.flatnonzero(where == VAL).astype(np.int64),
        test=np.flatnonzero(where == TEST).astype(np.int64),
        seed=seed,
    )


def _count(size: float | int, n: int, name: str) -> float:
    """A split's sample count from a fraction of ``n`` or a count."""
    size = check_size(size, name)
    return size * n if isinstance(size, float) else float(size)


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
    groups allow (:mod:`nooverfit.data.group_split`); the pool in ``default_rng(seed)``
    order as in :func:`make_split`, then each group's first sample in that order before
    any group's second (so a training set of ``n`` per class, the first ``n`` of each
    class, holds ``n`` different groups where the class has them, not several mixes of
    one recording).

    Args:
        y: labels, shape ``(N,)``.
        groups: a group name per sample ``(N,)`` (the source recording or speaker).
        test: test fraction of all samples, or a count (default 0.25); met approximately,
            since whole groups move.
        val: validation fraction of what remains after the test split, or a count
            (default 0.2).
        seed: seed of the group order and of the pool order.
        names: the class names, for errors (default: the labels).

    Logs a warning when the training pool, validation or test holds fewer than
    :data:`~nooverfit.data.group_split.MIN_GROUPS` groups (once per message inside
    :func:`~nooverfit.data.group_split.one_warning_each`).

    Raises:
        BadInput: as :func:`make_split`, a class from fewer than three groups, or a
            split that would be empty.
    """
    y, groups = np.asarray(y), np.asarray(groups)
    if len(groups) != len(y):
        raise ValueError(f"need one group per sample ({len(y)}), got {len(groups)}")
    check_classes(y, names)
    n = len(y)
    n_test = _count(test, n, "test")
    n_val = _count(val, round(n - n_test), "val")
    if n - n_test - n_val <= 0:  # (test and val > 0: _count refuses anything else)
        raise BadInput(
            f"test={test!r}, val={val!r} leave no sample of {n} for the training pool; "
            "expected a smaller test or val"
        )
    shares = ((n - n_test - n_val) / n, n_val / n, n_test / n)
    labels = np.unique(y).tolist()
    split_of = assign_groups(
        y, groups, shares=shares, seed=seed, class_names={c: class_name(c, names) for c in labels}
    )
    warn_few_groups(split_of, groups)
    pool = np.random.default_rng(seed).permutation(np.flatnonzero(split_of == POOL))
    return Split(
        pool=_groups_first(pool, groups).astype(np.int64),
        val=np.flatnonzero(split_of == VAL).astype(np.int64),
        test=np.flatnonzero(split_of == TEST).astype(np.int64),
        seed=seed,
        whole_groups=True,
    )


def _groups_first(order: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``order`` rearranged by each sample's rank within its group (stable): the first
    sample of every group, in ``order``, then every group's second, and so on."""
    rank = np.zeros(len(order), dtype=np.int64)
    seen: dict[object, int] = {}
    for k, g in enumerate(groups[order].tolist()):
        rank[k] = seen.get(g, 0)
        seen[g] = rank[k] + 1
    return order[np.argsort(rank, kind="stable")]


def split_dataset(
    dataset: Dataset, *, test: float | int = 0.25, val: float | int = 0.2, seed: int = 0
) -> Split:
    """The split a data set asks for: :func:`make_group_split` when it names
    ``train_groups`` (``test`` and ``val`` then do not apply);
    :func:`make_stratified_group_split` when its loader says
    its groups must not straddle splits (``whole_groups``); else :func:`make_split`."""
    if dataset.train_groups is not None and dataset.groups is not None:
        return make_group_split(
            dataset.y, dataset.groups, train_groups=dataset.train_groups, seed=seed
        )
    if dataset.whole_groups and dataset.groups is not None:
        return make_stratified_group_split(
            dataset.y, dataset.groups, test=test, val=val, seed=seed, names=dataset.classes
        )
    return make_split(dataset.y, test=test, val=val, seed=seed, names=dataset.classes)
