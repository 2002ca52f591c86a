"""Identical feature rows across a whole data set, and what they bound.

Rows that share every feature are common in tabular data of few, coarse columns (sex,
class and age of a passenger: 1,000 rows, 308 distinct), and then a test row with an
exact twin in the training set is the data's nature as much as a leak. Where such rows
carry different labels, no model of these features can tell them apart: the best any
answer per distinct row can score is the majority label of each, an accuracy ceiling a
network at 100 % training accuracy has passed by memorizing the labels' noise. Pure:
sample digests and labels in, counts out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Share of distinct rows under which identical rows are the data's nature, and an exact
#: twin across splits is named as such beside the leakage warning.
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
    """

    samples: int
    distinct: int
    repeated: int
    conflicting: int
    ceiling: float

    @property
    def coarse(self) -> bool:
        """Whether identical rows are common: under ``COARSE`` of the rows are distinct."""
        return self.samples > 0 and self.distinct < COARSE * self.samples


def repeats(digests: Sequence[str], labels: np.ndarray) -> Repeats:
    """Count identical rows (equal ``digests``) and their label conflicts."""
    by_row: dict[str, Counter] = defaultdict(Counter)
    for key, label in zip(digests, np.asarray(labels).tolist(), strict=True):
        by_row[key][label] += 1
    sizes = [sum(c.values()) for c in by_row.values()]
    n = sum(sizes)
    return Repeats(
        samples=n,
        distinct=len(by_row),
        repeated=sum(s for s in sizes if s > 1),
        conflicting=sum(s for s, c in zip(sizes, by_row.values(), strict=True) if len(c) > 1),
        ceiling=sum(max(c.values()) for c in by_row.values()) / n if n else 1.0,
    )


def _conflicts(r: Repeats) -> str:
    """The label conflicts, as the audit's warning and the study's summary both begin."""
    return (
        f"{r.conflicting} of the {r.samples} rows share all their features with a row of "
        "another label"
    )


def repeat_warnings(r: Repeats) -> list[str]:
    """The label conflicts as a one-line warning (none without conflicts)."""
    if not r.conflicting:
        return []
    return [
        f"{_conflicts(r)}: no model of these features can score above {r.ceiling:.1%} on this "
        "data set (the majority label of each distinct row), and a network right on more "
        "of its training rows than that is learning the labels' noise"
    ]


def coarse_clause(r: Repeats) -> str:
    """What an exact twin across splits means where identical rows are common, else ""."""
    if not r.coarse:
        return ""
    return (
        f"; only {r.distinct} of the {r.samples} rows are distinct: on features this coarse "
        "a twin is as likely another record with the same values as a copy of one"
    )


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
