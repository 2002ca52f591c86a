"""The text of the "too many epochs" cause quotes the numbers the diagnosis reports."""

import math

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
        "epoch 5, and at the last epoch (13) the validation loss was 150.0% above that lowest "
        "value."
    )
    assert "it ended 150.0% worse than its best (epoch 3)" in d.explanation


def test_complex_network_cause_quotes_the_logged_ends_the_table_quotes():
    """It quoted the smoothed ends (training 0.0733, validation 0.907 here) beside the
    table's gap at the end, 0.95 - 1/14 = 0.879 from the values as logged."""
    d = diagnose(History.from_columns({"loss": LOSS, "val_loss": VAL}))
    assert round(d.gap.loss_at_last, 4) == round(VAL[-1] - LOSS[-1], 4)
    fell = round(100 * (1 - LOSS[-1] / LOSS[0]))  # 93 %, from the first logged value
    cause = next(c for c in d.causes if c.kind == "complex_network")
    assert cause.reason == (
        f"The training loss fell {fell}% to 0.0714 while the validation loss ended at 0.95: "
        "the network memorizes the training set."
    )
    reasons = {r.kind: r.reason for r in d.remedies}
    assert reasons["l2"].startswith("The training loss reached 0.0714 against 0.95 on valid")
    assert reasons["capacity"].startswith("A training loss of 0.0714 shows spare capacity;")


def test_complex_network_cause_of_an_accuracy_log_quotes_accuracy_not_an_error():
    """Decided on accuracy (no validation loss), the rules read 1 - accuracy; the text
    quoted those errors as a "training loss"."""
    acc = [0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0]
    val_acc = [0.5, 0.6, 0.66, 0.7, 0.72, 0.7, 0.69, 0.67, 0.66, 0.65, 0.64, 0.63, 0.62, 0.6]
    d = diagnose(History.from_columns({"accuracy": acc, "val_accuracy": val_acc}))
    cause = next((c for c in d.causes if c.kind == "complex_network"), None)
    assert cause is not None, d
    assert cause.reason == (
        "The training accuracy reached 1 while the validation accuracy ended at 0.6: the "
        "network memorizes the training set."
    )


def test_complex_network_cause_quotes_the_last_validated_row_as_the_gap_does():
    """Training logged one epoch past the last validation: the quoted ends are those of
    the last validated epoch, the row of the table's gap at the end."""
    d = diagnose(History.from_columns({"loss": [*LOSS, 0.01], "val_loss": [*VAL, math.nan]}))
    assert round(d.gap.loss_at_last, 4) == round(VAL[-1] - LOSS[-1], 4)
    cause = next(c for c in d.causes if c.kind == "complex_network")
    assert "to 0.0714 while the validation loss ended at 0.95:" in cause.reason


def test_early_stopping_setting_trains_to_the_best_epoch_as_the_log_counts_epochs():
    """The setting was ``--epochs best + 1`` whatever the log's numbering: a log counting
    from 1 (best epoch 4, the 4th epoch) was told ``--epochs 5``, and a log of steps
    (best "epoch" 400, a step) ``--epochs 401``."""

    def setting(epoch, **kw):
        h = History.from_columns({"loss": LOSS, "val_loss": VAL}, epoch=epoch, **kw)
        d = diagnose(h)
        assert d.verdict.value == "overfitting" and d.best_epoch == epoch[3]
        return next(r for r in d.remedies if r.kind == "early_stopping")

    n = len(VAL)
    assert setting(list(range(n))).setting == "--epochs 4 or --early-stopping patience:10"
    assert setting(list(range(1, n + 1))).setting == "--epochs 4 or --early-stopping patience:10"
    # validated every second epoch, 0-based (Keras's validation_freq=2): epoch 7 is the 8th
    assert setting(list(range(1, 2 * n, 2))).setting == (
        "--epochs 8 or --early-stopping patience:10"
    )
    steps = setting([100 * (e + 1) for e in range(n)], steps_as_epochs=True)
    assert steps.setting == "--early-stopping patience:10"
    assert steps.code == "RunConfig(early_stopping='patience:10')"
