"""Text columns of a CSV file that hold dates. Pure.

A column of dates (``2023-01-10``, ``10/01/2023``, ``10 Jan 2023``) is text to the loader:
with at most :data:`~nooverfit.data.columns.MAX_LEVELS` distinct values it is one-hot
encoded, one unordered category per date, and a date no training row had is a category
the saved model never saw; with more it is refused. Neither is wrong, but a user would
want to know: the loader says so (:func:`date_warning`), and the refusal of a column of
many dates says what to write instead.

Dates are said, not parsed into numbers: ``01/02/2023`` is the 1st of February in most
of the world and the 2nd of January in the US, and a guess that reads a file the wrong
way round would order its rows wrongly without a word; a number the user writes (days
since a start, a year column) has one reading.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: English month names and their three-letter abbreviations ("sept" too), lower case
_MONTHS = (
    "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|"
    "june|july|august|september|october|november|december"
)
#: an optional time of day after a date: ``T10:30``, `` 10:30:15.5``, ``Z``, ``+02:00``
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)?"
#: the forms read as dates: year first (ISO 8601), year last (day or month first), and
#: with a month's name; the year has four digits, so no plain number or ratio matches
_DATE = re.compile(
    rf"(?:(?P<y1>\d{{4}})(?P<s1>[-/.])(?P<a1>\d{{1,2}})(?P=s1)(?P<b1>\d{{1,2}})"
    rf"|(?P<a2>\d{{1,2}})(?P<s2>[-/.])(?P<b2>\d{{1,2}})(?P=s2)(?P<y2>\d{{4}})"
    rf"|(?P<y3>\d{{4}})-(?P<m3>\d{{2}})"
    rf"|\d{{1,2}}[ -](?:{_MONTHS})\.?[ -],?\s*\d{{4}}"
    rf"|(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}){_TIME}",
    re.IGNORECASE,
)


def is_date(text: str) -> bool:
    """Whether ``text`` (stripped) is a calendar date, with or without a time of day: a
    year of four digits and a month of 1 to 12 and a day of 1 to 31 (in either order when
    the year comes last), or a month's English name."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return False
    if match["y1"]:  # year, month, day
        return 1 <= int(match["a1"]) <= 12 and 1 <= int(match["b1"]) <= 31
    if match["y2"]:  # day and month either way round
        a, b = int(match["a2"]), int(match["b2"])
        return 1 <= min(a, b) <= 12 and max(a, b) <= 31
    if match["y3"]:  # a year and a month
        return 1 <= int(match["m3"]) <= 12
    return True


def first_date(present: Sequence[str]) -> str | None:
    """The first cell of a column whose every cell of ``present`` (its cells less the
    missing ones) is a date (:func:`is_date`); None for any other column, or none
    present."""
    if not present or not all(is_date(c) for c in present):
        return None
    return present[0].strip()


def date_warning(name: str, where: str, present: Sequence[str]) -> str:
    """The warning for a text column of dates read as categories (``present``: its cells
    less the missing ones; ``where`` follows the column's name, e.g. ``" of data.csv"``);
    ``""`` for any other column, or one of a single date (a constant column, said as
    such)."""
    first = first_date(present)
    levels = len({c.strip() for c in present})
    if first is None or levels < 2:
        return ""
    return (
        f"column {name!r}{where} looks like dates ({first!r}): read as text categories, "
        f"{levels} one-hot columns with no order, and a new date is a category the model "
        "never saw; expected numbers to read them in order (days since a start date, or a "
        f"year and a month column), or --ignore {name} leaves it out"
    )


def date_hint(present: Sequence[str]) -> str:
    """What the refusal of a text column with too many values adds for a column of
    dates (``present``: its cells less the missing ones); ``""`` for any other column."""
    first = first_date(present)
    if first is None:
        return ""
    return (
        f"; its values look like dates ({first!r}): expected numbers to read them in order "
        "(days since a start date, or a year and a month column)"
    )
