"""Checks of a split's options and classes, before and between the two splits.

:func:`~nooverfit.data.split.make_split` stratifies with scikit-learn's
``train_test_split``, which needs a sample of every class in each part it makes. The
checks here refuse, in the options' own words (``test``, ``val``) and with the class's
name, what scikit-learn would refuse in its words (``test_size``, ``train_size``), and
what it would accept but leave a class absent from test, validation or the training pool
(its rounding can give a rare class none of a part).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from nooverfit._words import counted
from nooverfit.data.labels import looks_measured
from nooverfit.errors import BadInput

if TYPE_CHECKING:
    from collections.abc import Sequence

#: The fewest samples of a class a split can stratify: one each for train, val and test.
MIN_PER_CLASS = 3


def check_size(value: float | int, name: str) -> float | int:
    """``value`` as given when it is a fraction in (0, 1) or a whole count >= 1.

    Raises:
        ValueError: for anything else (0, 1.0, a negative count), naming ``name``.
    """
    if isinstance(value, float) and 0.0 < value < 1.0:
        return value
    if isinstance(value, int) and value >= 1:
        return value
    raise ValueError(f"{name} must be a fraction in (0, 1) or a whole count >= 1, got {value!r}")


def cannot_split(n: int, err: ValueError, part: str, other: str) -> ValueError:
    """scikit-learn's split error in the options' words: its ``test_size`` is the ``part``
    being split off (``test`` or ``val``), its ``train_size`` the ``other`` part."""
    why = str(err).replace("test_size", part).replace("train_size", other)
    return ValueError(f"cannot split {n} samples into train/val/test: {why}")


def class_name(label: int, names: Sequence[str] | None) -> str:
    """A class as errors name it: its name where known (``'yes'``), else its label."""
    return repr(names[label]) if names is not None else repr(label)


def _part(size: float | int, n: int) -> int:
    """The samples scikit-learn's ``train_test_split`` puts in the part it splits off:
    ``ceil(size * n)`` of a fraction, a count as it is."""
    return math.ceil(size * n) if isinstance(size, float) else int(size)


def check_sizes(y: np.ndarray, *, test: float | int, val: float | int) -> None:
    """Refuse ``test``/``val`` that leave a split with fewer samples than classes, in the
    options' words (scikit-learn's stratified split needs one sample per class in each)."""
    n, k = len(y), len(np.unique(y))
    n_test = _part(test, n)
    if n_test >= n:
        raise BadInput(f"test={test!r} asks for {n_test} of {n} samples; expected fewer")
    n_val = _part(val, n - n_test)
    if n_val >= n - n_test:
        raise BadInput(
            f"val={val!r} asks for {n_val} of the {n - n_test} samples left after the test "
            "split; expected fewer"
        )
    parts = (("test", n_test), ("validation", n_val), ("the training pool", n - n_test - n_val))
    for part, size in parts:
        if size < k:
            raise BadInput(
                f"test={test!r}, val={val!r} leave {max(size, 0)} of {n} samples for "
                f"{part}, fewer than the {k} classes; expected test and val small enough for "
                "each of training pool, validation and test to hold a sample of every class"
            )


def check_rest(
    y: np.ndarray,
    rest: np.ndarray,
    *,
    test: float | int,
    val: float | int,
    names: Sequence[str] | None,
) -> None:
    """Splitting validation off the rest stratifies by class: every class needs two
    samples left after the test split (one for validation, one for the training pool)."""
    labels, counts = np.unique(y[rest], return_counts=True)
    left = dict(zip(labels.tolist(), counts.tolist(), strict=True))
    c = min(np.unique(y).tolist(), key=lambda label: left.get(label, 0))
    if left.get(c, 0) < 2:
        raise BadInput(
            f"test={test!r} leaves {len(rest)} of {len(y)} samples for the training pool and "
            f"validation (val={val!r}), {left.get(c, 0)} of class {class_name(int(c), names)}; "
            "expected a smaller test, so that every class keeps 2 samples there"
        )


def check_parts(
    y: np.ndarray,
    parts: Sequence[tuple[str, np.ndarray, str]],
    *,
    test: float | int,
    val: float | int,
    names: Sequence[str] | None,
) -> None:
    """Every class in every part: scikit-learn's stratified split rounds each class's share,
    and a rare class can round to none of a part it accepts. ``parts`` are (part, indices,
    what to change) in the order the splits make them."""
    for part, index, change in parts:
        missing = np.setdiff1d(np.unique(y), y[index])
        if len(missing):
            raise BadInput(
                f"test={test!r}, val={val!r} leave {part} no sample of class "
                f"{class_name(int(missing[0]), names)} ({counted(len(index), 'sample')} in all); "
                f"expected {change}, so that every class has a sample there"
            )


def check_classes(y: np.ndarray, names: Sequence[str] | None = None) -> None:
    """Fewer than two classes, or a class too small for three splits, is bad input."""
    labels, counts = np.unique(y, return_counts=True)
    if len(labels) < 2:
        one = class_name(int(labels[0]), names) if len(labels) else ""
        found = f"one class only ({one})" if len(labels) else "no samples"
        raise BadInput(
            f"the data has {found}; expected at least 2 classes to train and compare networks"
        )
    if counts.min() < MIN_PER_CLASS:
        small = class_name(int(labels[np.argmin(counts)]), names)
        # most labels once each: a measurement (a regression target), not classes
        numeric = (
            f"; {len(labels)} distinct labels in {len(y)} samples: a measured target is "
            "not classes (nooverfit classifies), expected a column of class labels"
            if len(labels) > len(y) // 2 or (names is not None and looks_measured(names))
            else ""
        )
        raise BadInput(
            f"class {small} has only {counted(int(counts.min()), 'sample')}; a train/val/test "
            f"split needs at least {MIN_PER_CLASS} per class (remove or merge it, or add samples)"
            f"{numeric}"
        )


#: The least share of the samples a split given as fractions leaves to train on: less is
#: (almost) no training data, the mark of ``--val`` read as a share of all rather than of
#: what ``--test`` leaves (0.9 and 0.9 leave 1 %).
MIN_TRAIN_SHARE = 0.05


def check_training_share(
    pool: int, n: int, *, test: float | int, val: float | int, unit: str = "samples"
) -> None:
    """Refuse fractions ``test``/``val`` that leave a training pool of ``pool`` of the ``n``
    samples under :data:`MIN_TRAIN_SHARE` of them (counts alone are what the user counted).

    Raises:
        BadInput: naming what is left and the least the pool needs.
    """
    if (isinstance(test, int) and isinstance(val, int)) or pool >= MIN_TRAIN_SHARE * n:
        return
    need = math.ceil(MIN_TRAIN_SHARE * n)
    raise BadInput(
        f"--test {test} and --val {val} leave {pool:,} of the {n:,} {unit} ({pool / n:.1%}) "
        f"to train on; expected at least {MIN_TRAIN_SHARE:.0%} ({need:,}) for training "
        "(--test is a share of all, --val of what --test leaves)"
    )
