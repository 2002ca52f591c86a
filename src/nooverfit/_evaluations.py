"""Rows as a diagnosis names them where a log's rows are no epochs.

A Hugging Face Trainer run with ``eval_steps`` shorter than an epoch is read one row per
evaluation, and so is a TensorBoard or MLflow log without an epoch scalar whose
validation is logged at other steps than training
(:attr:`~nooverfit.history.History.evaluated_at` holds the epochs done, or the step, at
each): the rows are numbered 0, 1, 2, ..., which are no epochs. The texts name them
"evaluation 24 (epoch 2.4)" or "evaluation 1 (step 9)" (a run validated every 5 epochs
read "best epoch 1" for step 9), and a log whose steps are shown as epochs names them
"step 2900". A run evaluated several times an epoch is counted in the epochs it
trained (a 3-epoch run evaluated 30 times was "30 epochs", told ``--epochs 60``).
Pure: values in, text out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from nooverfit._words import counted

#: "the last epoch (29)" and "epoch 24", as the texts name a row (one pass: a name
#: written, "epoch 2.4", is not read again).
_NAMED = re.compile(r"\blast epoch \((\d+)\)|\bepoch (\d+)\b(?!\.\d)")


def at_text(at: float) -> str:
    """Epochs done (or a step) as the texts write them: two decimals at most (``2.4``,
    ``3``, ``215``)."""
    return f"{round(at, 2):g}"


def epoch_name(epoch: int, at: Sequence[float], unit: str = "epoch") -> str:
    """How the texts name row ``epoch``: "epoch 24"; where the rows are evaluations
    (``at``, the epochs done or the step at each, in ``unit``, not empty) "evaluation 24
    (epoch 2.4)"; where the log's steps number the rows (``unit`` "step") "step 2900"."""
    if not at:
        return f"{unit} {epoch}"
    value = at[epoch] if 0 <= epoch < len(at) else math.nan
    return f"evaluation {epoch}" + (f" ({unit} {at_text(value)})" if math.isfinite(value) else "")


def in_epochs(text: str, at: Sequence[float], unit: str = "epoch") -> str:
    """``text`` with each row it names as an epoch ("epoch 24", "the last epoch (29)")
    named by :func:`epoch_name`; unchanged where rows are epochs (``at`` empty, ``unit``
    "epoch")."""
    if not at and unit == "epoch":
        return text

    def name(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return f"last {epoch_name(int(m.group(1)), at, unit)}"
        return epoch_name(int(m.group(2)), at, unit)

    return _NAMED.sub(name, text)


def epochs_trained(done: Sequence[float]) -> int:
    """The epochs a run evaluated at ``done`` (epochs done) trained, started ones counted:
    the last finite value rounded up (2.91 is 3; the Trainer writes 3.0000000001 for 3);
    0 without one."""
    finite = [d for d in done if math.isfinite(d)]
    return max(0, math.ceil(round(finite[-1], 6))) if finite else 0


def counted_evaluations(n: int, epochs: int) -> str:
    """A run of ``n`` evaluations over ``epochs`` epochs, as the texts say its length:
    "3 epochs (30 evaluations)"."""
    return f"{counted(epochs, 'epoch')} ({counted(n, 'evaluation')})"
