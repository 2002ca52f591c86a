"""scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` printed with ``verbose=True``: a
line per iteration (an epoch, a pass over the training set), ``Iteration 3, loss =
0.41234567``, and with ``early_stopping=True`` the score on the held-out validation
fraction after it, ``Validation score: 0.851852``.

The score is no loss: it is the estimator's ``score`` (accuracy for the classifier, R^2
for the regressor), higher is better. The output does not say which estimator printed
it; the scores do where every one is a count of correct answers on one validation set
(k / n for one n, as printed to 6 decimals): the classifier's accuracy. Otherwise they
are read as ``val_score``. The printed loss is the training loss averaged over the
epoch's batches, sklearn's L2 penalty (``alpha``) included.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from nooverfit.history import History, best_index
from nooverfit.logs._table import rows_to_history
from nooverfit.stopping import StopReason

_NUMBER = r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)"
_ITERATION = re.compile(rf"Iteration (\d+), loss = {_NUMBER}")
_VALIDATION = re.compile(rf"Validation score: {_NUMBER}")
#: The stop ``early_stopping`` prints (the weights of the best score are restored).
_STOPPED = re.compile(r"Validation score did not improve more than tol=\S+ for \d+ .*Stopping\.")
#: Iteration lines the output needs to read as an MLP's.
LEAST = 2
#: The largest validation set whose counts are looked for (the classifier's accuracy).
MOST_COUNTED = 10_000
#: Scores needed before they are read as counts: by chance, 5 R^2 values fit one
#: denominator up to :data:`MOST_COUNTED` with a probability of about 2e-7.
FEWEST_COUNTED = 5
#: Half the last printed digit (``%f``), and float round-off.
_PRINTED = 5e-7 + 1e-12


def is_mlp_output(lines: Sequence[str]) -> bool:
    """Whether ``lines`` hold :data:`LEAST` or more of the MLP's iteration lines."""
    return sum(1 for line in lines if _ITERATION.fullmatch(line)) >= LEAST


def counted_on(scores: Sequence[float]) -> int | None:
    """The size ``n`` of the validation set, where every score is a count of it (k / n as
    printed to 6 decimals) for one ``n`` <= :data:`MOST_COUNTED`: the classifier's
    accuracy; None where they are not (R^2), or fewer than :data:`FEWEST_COUNTED`."""
    import numpy as np  # (not at import: the CLI starts without it)

    s = np.asarray(scores, dtype=float)[:200]
    if s.size < FEWEST_COUNTED or not np.isfinite(s).all() or s.min() < 0 or s.max() > 1:
        return None
    n = np.arange(1, MOST_COUNTED + 1)[:, None]  # (N, 1)
    fits = (np.abs(np.round(s * n) / n - s) <= _PRINTED).all(axis=1)  # (N,)
    return int(np.argmax(fits)) + 1 if fits.any() else None


def read_mlp_output(
    lines: Sequence[tuple[int, str]], *, source: str, columns: Mapping[str, str] | None
) -> History:
    """The MLP's printed epochs (``lines``: each with its line number) as a history."""
    rows: list[dict[str, float]] = []
    numbers: list[int] = []
    stopped = False
    for number, line in lines:
        if m := _ITERATION.fullmatch(line):
            rows.append({"epoch": float(m.group(1)), "loss": float(m.group(2))})
            numbers.append(number)
        elif (m := _VALIDATION.fullmatch(line)) and rows:
            rows[-1]["Validation score"] = float(m.group(1))
        stopped = stopped or bool(_STOPPED.fullmatch(line))
    scores = [r["Validation score"] for r in rows if "Validation score" in r]
    n = counted_on(scores)
    name = "val_accuracy" if n is not None else "val_score"
    rows = [{(name if k == "Validation score" else k): v for k, v in r.items()} for r in rows]
    notes = ["read as scikit-learn's MLP printed it (verbose=True): iterations are epochs"]
    if scores:
        notes.append(_score_note(n))
    history = rows_to_history(
        rows, columns=columns, source=source, lines=numbers, notes=tuple(notes)
    )
    if not history.has(name):
        return history
    # early_stopping=True restores the weights of the first best score, stopped or not
    kept = best_index([-v for v in history.column(name)])
    return dataclasses.replace(
        history,
        stop_reason=StopReason.PATIENCE.value if stopped else history.stop_reason,
        kept_epoch=None if kept is None else history.epoch[kept],
    )


def _score_note(counted: int | None) -> str:
    """What the validation score was read as, and what the diagnosis cannot see."""
    if counted is not None:
        return (
            f"'Validation score' read as val_accuracy: every score is a count of {counted} "
            "validation samples (MLPClassifier's accuracy). No validation loss is printed: "
            "the diagnosis decides on the validation accuracy, the training accuracy bounded "
            "from the training log-loss (alpha's L2 penalty in it only lowers the bound)"
        )
    return (
        "'Validation score' read as val_score: the estimator's score (R^2 for MLPRegressor), "
        "higher is better, not a loss. No validation loss is printed: the diagnosis "
        "decides on the score alone; the training loss (alpha's L2 penalty included) is on "
        "another scale, so no train/validation gap is measured and overfitting shows only "
        "as the score falling from its best"
    )
