"""The penalty-free error curves of a regression log, for the underfitting test.

Keras adds its L2 penalty to both logged losses (``loss`` and ``val_loss``): a network
held down by a heavy penalty shows a loss that falls for many epochs as the weights
shrink, while its error stands still. An error metric logged beside the loss (``mae``
beside an MSE loss, ``mse`` beside MAE, ``rmse``) holds no penalty: whether the network
learned is read there, as a classifier's is read on its accuracy. Pure.
"""

from __future__ import annotations

import numpy as np

from nooverfit import _curves as cv
from nooverfit.history import History

#: Error metrics, by preference, that a log may carry beside its loss.
_ERRORS = ("mae", "mse", "rmse", "mean_absolute_error", "mean_squared_error")


def error_history(history: History) -> History | None:
    """``history`` with its losses replaced by an error metric logged for both sets
    (``None`` without one, or when the loss already is that error: a metric that equals
    the loss at every epoch adds nothing)."""
    for name in _ERRORS:
        train, val = cv.column(history, name), cv.column(history, f"val_{name}")
        if not (np.isfinite(train).any() and np.isfinite(val).any()):
            continue
        loss = cv.column(history, "loss")
        both = np.isfinite(loss) & np.isfinite(train)
        if both.any() and np.allclose(loss[both], train[both], rtol=1e-6):
            return None
        return History.from_columns(
            {"loss": list(train), "val_loss": list(val)},
            epoch=history.epoch,
            stop_reason=history.stop_reason,
        )
    return None
