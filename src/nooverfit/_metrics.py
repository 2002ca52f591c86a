"""Which curves :func:`nooverfit.diagnose` decides on: the metric to compare (accuracy
where logged, else a validation error or score when no validation loss is), the
lower-is-better curves made from it, and the train/validation gap it reports. Pure."""

from __future__ import annotations

import numpy as np

from nooverfit import _curves as cv
from nooverfit.diagnosis import Gap
from nooverfit.history import History, best_index


def pick_metric(history: History, metric: str | None) -> str | None:
    """The metric named, else accuracy where logged, else (without a validation loss)
    the validation metric to decide on: an error first (``val_mse``, ``val_mae``: a
    regression's loss under another name), then a score (``val_auc``)."""
    if metric is None:
        if history.has("accuracy") or history.has("val_accuracy"):
            return "accuracy"
        if history.has("val_loss"):
            return None
        logged = [c[4:] for c in history.columns() if c.startswith("val_") and history.has(c)]
        errors = [m for m in logged if cv.lower_is_better(m)]
        picks = errors or [m for m in logged if cv.higher_is_better(m)]
        if logged and not picks and not history.has("loss"):
            _refuse_unknown_curves(history, logged)
        return picks[0] if picks else None
    if not (history.has(metric) or history.has(f"val_{metric}")):
        names = ", ".join(history.columns())
        if {metric, f"val_{metric}"} & set(history.columns()):
            # (a column of cells that are no numbers: a metric logged per class, "[0.9, 0.8]")
            raise ValueError(
                f"metric {metric!r} holds no numbers in the log (expected one value per "
                f"epoch, e.g. 0.87); columns found: {names}"
            )
        raise ValueError(f"metric {metric!r} not in the log; columns found: {names}")
    return metric


def _refuse_unknown_curves(history: History, logged: list[str]) -> None:
    """Refuse a log whose only curves are metrics named in no way nooverfit reads
    (``perte``/``val_perte``, ``foo``/``val_foo``): with no loss and no direction to read
    them by, the rules saw no finite loss and called the run diverged from its first epoch.

    Raises:
        BadInput: naming the curves and the flags that read them.
    """
    from nooverfit.errors import BadInput

    names = ", ".join(c for c in history.columns()[1:] if history.has(c))
    raise BadInput(
        f"no loss or accuracy logged, and no curve named as an error or a score (columns "
        f"with numbers: {names}); expected --train-col NAME --val-col NAME naming the loss "
        f"columns, or --metric {logged[0]} to decide on val_{logged[0]} as an error (lower "
        "is better)"
    )


def decision_curves(history: History, metric: str | None) -> tuple[str, np.ndarray, np.ndarray]:
    """The (train, val) curves to decide on, as errors: lower is better."""
    train, val = cv.column(history, "loss"), cv.column(history, "val_loss")
    if np.isfinite(val).any() or metric is None:
        return "loss", train, val
    train, val = cv.column(history, metric), cv.column(history, f"val_{metric}")
    if cv.higher_is_better(metric):
        both = np.concatenate([train, val])
        finite = both[np.isfinite(both)]
        # a score at most 1 that reaches above 0 is read against its ceiling, 1: accuracy,
        # AUC, and R^2 (or kappa, MCC) below 0 at times. Against its own top (0.66), an
        # R^2 falling to -0.28 as a regressor overfit read as a 70x blow-up: "diverging"
        if finite.size and finite.max() <= 1 and (finite.min() >= 0 or finite.max() > 0):
            return metric, 1 - train, 1 - val
        top = float(finite.max()) if finite.size else 0.0
        return metric, top + abs(top) * 0.01 + 1e-12 - train, top + abs(top) * 0.01 + 1e-12 - val
    return metric, train, val


def gap(history: History, metric: str | None, train: np.ndarray, val: np.ndarray) -> Gap:
    """Validation minus training loss (and training minus validation metric, for a score)
    at the best and the last validated epoch; NaN where a curve has no value there."""
    best = best_index(list(val))
    if best is None:
        return Gap(metric=metric)
    last = int(np.flatnonzero(np.isfinite(val))[-1])
    # training logged every few steps (the Trainer's ``logging_steps``) leaves epochs
    # without a value; the gap reads the curve the rules read there (interpolated), not a
    # NaN that hid the best epoch's gap while the end's was quoted
    loss_t = cv.fill_missing(cv.column(history, "loss"))
    loss_v = cv.column(history, "val_loss")
    values: dict[str, float] = {
        "loss_at_best": float(loss_v[best] - loss_t[best]),
        "loss_at_last": float(loss_v[last] - loss_t[last]),
    }
    if metric is not None:
        m_t, m_v = cv.column(history, metric), cv.column(history, f"val_{metric}")
        sign = 1.0 if cv.higher_is_better(metric) else -1.0
        values["metric_at_best"] = float(sign * (m_t[best] - m_v[best]))
        values["metric_at_last"] = float(sign * (m_t[last] - m_v[last]))
    return Gap(metric=metric, **values)
