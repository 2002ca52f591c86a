"""The warnings the library logs while a block runs, kept as text.

A study loads its data once, and the loader says what it read oddly (a label written
``"Yes"`` and ``"yes"``, dates read as categories, numbers with a unit): lines on stderr
that scroll away. The study keeps them (:func:`logged_warnings`) for results.json and its
report, from the log records themselves rather than the printed text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: a record logged with ``extra={AUDITED: True}`` is one the study's data audit also
#: reports in its own words (a column copying the label): not kept, so not said twice
AUDITED = "audited"


class _Keeper(logging.Handler):
    """Keeps the text of each WARNING-or-worse record of one thread, each once."""

    def __init__(self, kept: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.kept = kept
        self.thread = threading.get_ident()  # another thread's warnings are not the block's

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread or getattr(record, AUDITED, False):
            return
        text = record.getMessage()
        if text not in self.kept:
            self.kept.append(text)


@contextmanager
def logged_warnings(name: str = "nooverfit") -> Iterator[list[str]]:
    """Within the block, keep the warnings logged by the logger ``name`` and its children.

    Where that logger is quieter than WARNING (the CLI's ``--quiet``), the block's warnings
    are still kept but not printed: what a study records must not depend on what was shown.

    Args:
        name: the logger whose records are kept (default ``"nooverfit"``: the library's).

    Yields:
        The warnings' text, each once, in the order logged (filled as the block runs).
    """
    kept: list[str] = []
    logger = logging.getLogger(name)
    keeper = _Keeper(kept)
    level, propagate = logger.level, logger.propagate
    if not logger.isEnabledFor(logging.WARNING):
        logger.setLevel(logging.WARNING)
        logger.propagate = False  # kept here, not printed by the root's handlers
    logger.addHandler(keeper)
    try:
        yield kept
    finally:
        logger.removeHandler(keeper)
        logger.setLevel(level)
        logger.propagate = propagate
