"""The data audit's samples named as the user finds them: a CSV file's rows by the line
of the file they start at (an editor's numbering, which a data set's 0-based index is
not: the header is line 1, and a quoted cell holding a line break moves every row after
it), an image folder's images by their files (``dog/017.png``: the loader's index says
nothing of which file it read), other data sets' samples by their 0-based index, said to
be one."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    class _Paired(DataclassInstance, Protocol):
        """What :func:`located` reads of a pair (the audit's ``Pair``, a dataclass;
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


def located(
    pairs: Iterable[P], lines: np.ndarray | None, paths: np.ndarray | None = None
) -> tuple[P, ...]:
    """``pairs`` (the audit's :class:`~nooverfit.audit.Pair`) with the file line of both
    samples (``line``, ``match_line``) where the data set knows them (``Dataset.lines``,
    CSV files), and with their files (``path``, ``match_path``) where it knows those
    (``Dataset.paths``, image folders); as they are otherwise."""
    out = tuple(pairs)
    if lines is not None:
        out = tuple(
            replace(p, line=int(lines[p.index]), match_line=int(lines[p.match])) for p in out
        )
    if paths is not None:
        out = tuple(
            replace(p, path=str(paths[p.index]), match_path=str(paths[p.match])) for p in out
        )
    return out


def sample_name(split: str, index: int, line: int | None, path: str | None = None) -> str:
    """``"test row at line 144"`` of a CSV file, ``"test file dog/017.png"`` of an image
    folder, else ``"test sample 142 (0-based)"``."""
    noun = _NOUN.get(split, split)
    if line is not None:
        return f"{noun} row at line {line}"
    if path is not None:
        return f"{noun} file {path}"
    return f"{noun} sample {index} (0-based)"
