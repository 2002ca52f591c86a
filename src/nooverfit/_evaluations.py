"""Epochs as a diagnosis names them where a log's rows are evaluations, several an epoch.

A Hugging Face Trainer run with ``eval_steps`` shorter than an epoch is read one row per
evaluation (:attr:`~nooverfit.history.History.epochs_done` holds the epochs done at each):
the rows are numbered 0, 1, 2, ..., which are no epochs. The texts name them
"evaluation 24 (epoch 2.4)" and count the run in the epochs it trained (a 3-epoch run
evaluated 30 times was "30 epochs", told ``--epochs 60``). Pure: values in, text out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from nooverfit._words import counted

#: "the last epoch (29)" and "epoch 24", as the texts name a row (one pass: a name
#: written, "epoch 2.4", is not read again).
_NAMED = re.compile(r"\blast epoch \((\d+)\)|\bepoch (\d+)\b(?!\.\d)")


def done_text(done: float) -> str:
    """Epochs done as the texts write them: two decimals at most (``2.4``, ``3``)."""
    return f"{round(done, 2):g}"


def epoch_name(epoch: int, done: Sequence[float]) -> str:
    """How the texts name row ``epoch``: "epoch 24", or where the rows are evaluations
    (``done``, the epochs done at each, not empty) "evaluation 24 (epoch 2.4)"."""
    if not done:
        return f"epoch {epoch}"
    at = done[epoch] if 0 <= epoch < len(done) else math.nan
    return f"evaluation {epoch}" + (f" (epoch {done_text(at)})" if math.isfinite(at) else "")


def in_epochs(text: str, done: Sequence[float]) -> str:
    """``text`` with each row it names as an epoch ("epoch 24", "the last epoch (29)")
    named by :func:`epoch_name`; unchanged where ``done`` is empty (rows are epochs)."""
    if not done:
        return text

    def name(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return f"last {epoch_name(int(m.group(1)), done)}"
        return epoch_name(int(m.group(2)), done)

    return _NAMED.sub(name, text)


def epochs_trained(done: Sequence[float]) -> int:
    """The epochs a run evaluated at ``done`` trained, started ones counted: the last
    finite value rounded up (2.91 is 3; the Trainer writes 3.0000000001 for 3); 0
    without one."""
    finite = [d for d in done if math.isfinite(d)]
    return max(0, math.ceil(round(finite[-1], 6))) if finite else 0


def counted_evaluations(n: int, epochs: int) -> str:
    """A run of ``n`` evaluations over ``epochs`` epochs, as the texts say its length:
    "3 epochs (30 evaluations)"."""
    return f"{counted(epochs, 'epoch')} ({counted(n, 'evaluation')})"
