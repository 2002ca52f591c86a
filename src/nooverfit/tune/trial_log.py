"""What of Optuna's log of failed trials reaches the user of ``nooverfit tune``: trials
refused as over the budget are no failures, a trial stopped by Ctrl-C is the command's to
tell, and a trial's error is told once, by the command (split from
:mod:`nooverfit.tune.workers`)."""

from __future__ import annotations

import logging
import re


class OverBudget(Exception):
    """A trial was asked after the budget was already claimed by other workers."""


class QuietTrialLog(logging.Filter):
    """Drop Optuna's failure warnings for trials refused as over budget (not errors), and
    for a trial stopped by Ctrl-C: its warning carried the KeyboardInterrupt's traceback,
    where the command says in one line what the interrupt kept. A trial that fails of an
    error keeps its warning, without the traceback: the error is raised again to the
    caller of :func:`nooverfit.tune.workers.work`, which tells it (a bug's traceback was
    printed twice)."""

    def __init__(self) -> None:
        super().__init__()
        self.numbers: set[int] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info is not None and isinstance(record.exc_info[1], KeyboardInterrupt):
            # and Optuna's next line of it, "Trial N failed with value None."
            if number := re.match(r"Trial (\d+) failed", message):
                self.numbers.add(int(number.group(1)))
            return False
        if record.exc_info is not None and " because of the following error" in message:
            record.exc_info = record.exc_text = None
        return not any(message.startswith(f"Trial {n} failed") for n in self.numbers)
