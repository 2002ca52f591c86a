"""The text of the "too many epochs" cause quotes the numbers the diagnosis reports."""

from nooverfit import diagnose
from nooverfit.history import History

VAL = [1.0, 0.7, 0.5, 0.38, 0.5, 0.42, 0.41, 0.43, 0.5, 0.58, 0.66, 0.74, 0.82, 0.95]
LOSS = [1.0 / (e + 1) for e in range(len(VAL))]


def _by_hand() -> tuple[int, int, float]:
    """Best epoch (lowest raw value, first on ties), onset (the lowest centered 5-point
    moving average, shrunk at the edges, never before the best) and Prechelt's GL."""
    best = VAL.index(min(VAL))
    windows = [VAL[max(0, i - 2) : i + 3] for i in range(len(VAL))]
    average = [sum(w) / len(w) for w in windows]
    onset = max(best, average.index(min(average)))
    return best, onset, 100 * (VAL[-1] / VAL[best] - 1)


def test_too_many_epochs_cause_quotes_the_best_epoch_onset_and_gl_of_the_diagnosis():
    """It said "ended N % above its smoothed minimum", a third minimum (of a median-then-
    mean smoothing) beside the raw best and the moving average's onset, and a percentage
    that disagreed with the GL in the table and the explanation."""
    best, onset, gl = _by_hand()
    assert (best, onset, round(gl)) == (3, 5, 150)  # averages 0.5, 0.442, 0.428, 0.452 at 3-6
    d = diagnose(History.from_columns({"loss": LOSS, "val_loss": VAL}))
    assert (d.verdict.value, d.best_epoch, d.onset_epoch) == ("overfitting", best, onset)
    assert round(d.generalization_loss) == 150
    cause = next(c for c in d.causes if c.kind == "too_many_epochs")
    assert cause.reason == (
        "The validation loss was lowest at epoch 3, its moving average turned worse at "
        "epoch 5, and at the last epoch (13) the validation loss was 150% above that lowest "
        "value."
    )
    assert "it ended 150% worse than that best" in d.explanation
