"""The data audit's samples named as the user finds them: a CSV file's rows by the line
of the file they start at (an editor's numbering, which a data set's 0-based index is
not: the header is line 1, and a quoted cell holding a line break moves every row after
it), other data sets' samples by their 0-based index, said to be one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    class _Paired(DataclassInstance, Protocol):
        """What :func:`with_lines` reads of a pair (the audit's ``Pair``, a dataclass;
        named by shape so that this module does not import the audit, which imports it)."""

        @property
        def index(self) -> int: ...

        @property
        def match(self) -> int: ...

    P = TypeVar("P", bound=_Paired)
else:
    P = TypeVar("P")

#: How each split's sample is called in the audit's text.
_NOUN = {"train": "training", "val": "validation", "test": "test"}


def with_lines(pairs: Iterable[P], lines: np.ndarray | None) -> tuple[P, ...]:
    """``pairs`` (the audit's :class:`~nooverfit.audit.Pair`) with the file line of both
    samples (``line``, ``match_line``) where the data set knows them (``Dataset.lines``,
    CSV files); as they are otherwise."""
    if lines is None:
        return tuple(pairs)
    return tuple(
        replace(p, line=int(lines[p.index]), match_line=int(lines[p.match])) for p in pairs
    )


def sample_name(split: str, index: int, line: int | None) -> str:
    """``"test row at line 144"`` of a CSV file, else ``"test sample 142 (0-based)"``."""
    noun = _NOUN.get(split, split)
    if line is not None:
        return f"{noun} row at line {line}"
    return f"{noun} sample {index} (0-based)"
