import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nooverfit._rules import MIN_EPOCHS, diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.monitor import Monitor
from nooverfit.stopping import generalization_loss

CURVES = Path(__file__).parent / "fixtures" / "curves"


def u_shaped(n=40, low=12, seed=0):
    """Train loss decays to ~0; val loss falls to a minimum at `low`, then rises."""
    rng = np.random.default_rng(seed)
    e = np.arange(n)
    loss = 2.0 * np.exp(-e / 4) + 1e-3
    val = 0.3 + 2.0 * np.exp(-e / 4) + 0.002 * np.maximum(0, e - low) ** 2
    val = val + rng.normal(0, 0.005, n)
    acc = 1 - loss / 2.5
    return History.from_columns(
        {"loss": loss, "val_loss": val, "accuracy": acc, "val_accuracy": acc - 0.1}
    )


def test_diagnose_overfitting_onset_is_smoothed_minimum():
    h = u_shaped()
    d = diagnose(h)
    assert d.verdict is Verdict.OVERFITTING
    val = np.asarray(h.val_loss)
    smooth = [val[max(0, i - 2) : i + 3].mean() for i in range(len(val))]  # by hand
    assert d.onset_epoch == int(np.argmin(smooth))
    assert d.best_epoch == int(np.argmin(val))
    assert d.generalization_loss == pytest.approx(generalization_loss(val[-1], val.min()))
    assert d.gap.loss_at_last == pytest.approx(h.val_loss[-1] - h.loss[-1])
    assert d.gap.metric == "accuracy"
    assert d.gap.metric_at_best == pytest.approx(0.1)
    kinds = [c.kind for c in d.causes]
    assert "too_many_epochs" in kinds and "complex_network" in kinds
    stop = next(r for r in d.remedies if r.kind == "early_stopping")
    assert f"epoch {d.onset_epoch}" in stop.reason
    assert all(c.reason.endswith(".") for c in d.causes)


def test_diagnose_underfitting_flat_high_losses():
    e = np.arange(30)
    loss = 2.30 - 0.05 * (1 - np.exp(-e / 3))
    h = History.from_columns({"loss": loss, "val_loss": loss + 0.01})
    d = diagnose(h)
    assert d.verdict is Verdict.UNDERFITTING
    assert d.remedies[0].kind == "more_capacity"


def test_diagnose_good_fit_converged_small_gap():
    e = np.arange(40)
    loss = 0.05 + 2 * np.exp(-e / 3)
    h = History.from_columns({"loss": loss, "val_loss": loss * 1.2 + 0.02})
    assert diagnose(h).verdict is Verdict.GOOD_FIT


def test_diagnose_still_improving_when_cut_early():
    loss = [2.30, 2.20, 2.10, 2.00, 1.90, 1.80]
    h = History.from_columns({"loss": loss, "val_loss": [v + 0.02 for v in loss]})
    d = diagnose(h)
    assert d.verdict is Verdict.STILL_IMPROVING
    assert d.remedies[0].kind == "train_longer"


@pytest.mark.parametrize(
    "loss",
    [
        [2.0, 1.5, 1.2, math.inf, math.nan],
        [2.0, 1.5, 1.2, 1.0, math.nan],
        [2.0, 1.0, 2.0, 1.0, 2.5, 1.1, 2.4, 1.0, 2.6, 1.2, 2.5, 1.1],
        [1.0, 0.8, 0.7, 0.9, 1.5, 3.0, 8.0, 20.0],
        [900.0, 2.0, 0.7, 0.8, 0.75, 0.9, 0.7, 0.8, 0.72, 0.7],
    ],
)
def test_diagnose_diverging(loss):
    val = [v * 1.1 if math.isfinite(v) else math.nan for v in loss]
    if loss[0] == 900.0:  # evaluation blown up while training goes nowhere
        val = [3000.0 + 10 * i for i in range(len(loss))]
    d = diagnose(History.from_columns({"loss": loss, "val_loss": val}))
    assert d.verdict is Verdict.DIVERGING
    assert d.remedies[0].kind == "lower_lr"


def _overfit_curves(n: int = 40) -> dict[str, np.ndarray]:
    """A textbook overfit: training falls to near 0, validation lowest at epoch 12, then
    climbing (a hand-made reference)."""
    e = np.arange(n, dtype=float)
    return {"loss": 1.5 * np.exp(-e / 6) + 0.01, "val_loss": 0.6 + 0.002 * (e - 12) ** 2}


@pytest.mark.parametrize(("column", "at"), [("val_loss", [15]), ("loss", [15, 20])])
def test_an_infinite_value_the_run_recovered_from_is_left_out(column, at):
    """One epoch mean that overflowed among finite ones (half-precision evaluation) is
    no divergence: the verdict and epochs of the finite curves, the epochs named."""
    clean = _overfit_curves()
    bad = {k: v.copy() for k, v in clean.items()}
    bad[column][at] = math.inf
    before, after = diagnose(History.from_columns(clean)), diagnose(History.from_columns(bad))
    assert before.verdict is after.verdict is Verdict.OVERFITTING
    assert (after.best_epoch, after.onset_epoch) == (before.best_epoch, before.onset_epoch)
    assert after.best_epoch == History.from_columns(bad).best_epoch == 12
    named = ", ".join(str(a) for a in at)
    assert after.explanation.startswith(before.explanation)
    assert f"left out ({column} at epoch{'s' * (len(at) > 1)} {named})" in after.explanation


def test_a_loss_that_became_infinite_and_stayed_so_is_diverging():
    curves = _overfit_curves()
    curves["val_loss"][30:] = math.inf
    d = diagnose(History.from_columns(curves))
    assert d.verdict is Verdict.DIVERGING
    assert "the validation loss became infinite at epoch 30" in d.explanation


def test_noise_around_a_near_zero_training_loss_is_not_divergence():
    # a real run (the default study's batch-norm remedy: 200 training images, batches of
    # 32): the training loss falls from 2.1 to ~0.001, then jitters up to 0.006, over
    # 100 % above its minimum but far below 1 % of its early value
    h = History.load(Path(__file__).parent / "fixtures" / "batchnorm_small_batches.csv")
    assert min(h.loss) < 0.002 and max(h.loss[-30:]) > 2 * min(h.loss)
    assert diagnose(h).verdict is Verdict.OVERFITTING
    # the same rise at the scale of its early loss is divergence
    loss = np.array(h.loss)
    loss[70:] = loss[70:] * 300
    jumped = History.from_columns({"loss": loss, "val_loss": h.val_loss})
    assert diagnose(jumped).verdict is Verdict.DIVERGING


def test_diagnose_stop_reason_diverged():
    h = History.from_columns({"loss": [1.0, 0.9], "val_loss": [1.0, 0.9]})
    h = History(**{**h.__dict__, "stop_reason": "diverged"})
    assert diagnose(h).verdict is Verdict.DIVERGING


def test_diagnose_insufficient_without_val_or_epochs():
    no_val = diagnose(History.from_columns({"loss": [2.0, 1.5, 1.0, 0.8, 0.6]}))
    assert no_val.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert any("validation" in m for m in no_val.missing)
    short = diagnose(History.from_columns({"loss": [2.0, 1.5], "val_loss": [2.1, 1.6]}))
    assert short.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert any(str(MIN_EPOCHS) in m for m in short.missing)
    empty = diagnose(History.from_columns({}))
    assert empty.verdict is Verdict.INSUFFICIENT_EVIDENCE


@pytest.mark.parametrize(
    ("loss", "val", "verdict", "best"),
    [
        # falls to 0.77 at epoch 2, then blows up to NaN: keep epoch 2's weights
        (
            [1.0, 0.8, 0.7, 0.9, 1.5, 3.0, 8.0, 20.0],
            [1.1, 0.88, 0.77, 0.99, 1.65, 3.3, math.nan, math.nan],
            Verdict.DIVERGING,
            2,
        ),
        ([2.0, 1.5], [2.1, 1.6], Verdict.INSUFFICIENT_EVIDENCE, 1),  # too short to judge
        ([2.0, 1.5, 1.0], [math.nan] * 3, Verdict.INSUFFICIENT_EVIDENCE, None),  # no val
    ],
)
def test_diagnose_best_epoch_is_the_lowest_val_loss_for_every_verdict(loss, val, verdict, best):
    d = diagnose(History.from_columns({"loss": loss, "val_loss": val}))
    assert d.verdict is verdict
    assert d.best_epoch == best  # hand-computed: the lowest finite val_loss
    assert d.onset_epoch is None  # no overfitting: no onset
    if verdict is Verdict.DIVERGING:  # the text says which weights are still usable
        assert f"last weights are not usable (validation was best at epoch {best})" in (
            d.explanation
        )
    # Monitor names the same epoch at every step of the run (the weights to keep)
    monitor = Monitor()
    for epoch, (t, v) in enumerate(zip(loss, val, strict=True)):
        status = monitor.update(epoch, t, None if math.isnan(v) else v)
        assert status.diagnosis.best_epoch == status.best_epoch, epoch


def test_diagnose_higher_is_better_metric_without_loss():
    h = u_shaped()
    acc_only = History.from_columns(
        {"auc": [1 - v / 3 for v in h.loss], "val_auc": [1 - v / 3 for v in h.val_loss]}
    )
    d = diagnose(acc_only, metric="auc")
    assert d.verdict is Verdict.OVERFITTING
    assert d.monitor == "auc"
    assert d.onset_epoch == diagnose(h).onset_epoch
    assert d.gap.metric_at_last > 0  # positive: worse on validation


def test_an_r2_score_falling_below_0_is_overfitting_not_a_blow_up():
    """s33 i174: a regressor's validation R^2 (scikit-learn's MLPRegressor's score, no
    validation loss printed) rising to 0.66 and falling to -0.28 as it overfit was read
    against its own top, 0.66: 0.013 at best, 0.95 at the end, "diverging" (a 70x blow-up).
    Against R^2's ceiling, 1 (1 - R^2: the squared error relative to the targets'
    variance), it rises from 0.34 to 1.28."""
    e = np.arange(60)
    val = np.where(e < 10, -5 + 5.66 * (1 - np.exp(-e / 2)) / (1 - np.exp(-4.5)), 0.0)
    val[10:] = 0.66 - 0.94 * (1 - np.exp(-(e[10:] - 10) / 15))
    h = History.from_columns({"loss": 1 / (1 + e), "val_score": val})
    d = diagnose(h)
    assert d.monitor == "score"
    assert d.verdict is Verdict.OVERFITTING
    assert d.best_epoch == int(np.argmax(val))  # the first of the two 0.66


def test_diagnose_missing_epochs_are_interpolated():
    h = u_shaped()
    val = list(h.val_loss)
    for i in (3, 4, 20, 31):
        val[i] = math.nan
    gappy = History.from_columns({"loss": h.loss, "val_loss": val})
    d = diagnose(gappy)
    assert d.verdict is Verdict.OVERFITTING
    assert abs(d.onset_epoch - diagnose(h).onset_epoch) <= 1


def test_diagnose_early_stopped_run_is_good_fit():
    e = np.arange(30)
    loss = 0.2 + 2 * np.exp(-e / 3)
    val = 0.3 + 2 * np.exp(-e / 3) + 0.004 * np.maximum(0, e - 19) ** 2
    h = History.from_columns({"loss": loss, "val_loss": val})
    assert diagnose(h).verdict is Verdict.OVERFITTING
    stopped = History(**{**h.__dict__, "stop_reason": "patience", "kept_epoch": 19})
    assert diagnose(stopped).verdict is Verdict.GOOD_FIT


def test_diagnose_unknown_metric_names_columns():
    with pytest.raises(ValueError, match="columns found: epoch, loss, val_loss"):
        diagnose(History.from_columns({"loss": [1.0] * 5, "val_loss": [1.0] * 5}), metric="f1")


def test_diagnosis_to_dict_is_json():
    d = diagnose(u_shaped())
    data = json.loads(json.dumps(d.to_dict()))
    assert data["verdict"] == "overfitting"
    assert data["causes"][0]["reason"] == d.causes[0].reason


def test_diagnose_labelled_suite_accuracy():
    manifest = json.loads((CURVES / "manifest.json").read_text())
    right = sum(
        diagnose(History.load(CURVES / run["file"])).verdict.value == run["regime"]
        for run in manifest
    )
    assert len(manifest) >= 50
    assert right / len(manifest) >= 0.95


finite = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)
value = st.one_of(finite, st.just(math.nan), st.just(math.inf), st.just(0.0))


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 60).flatmap(
        lambda n: st.tuples(
            st.lists(value, min_size=n, max_size=n), st.lists(value, min_size=n, max_size=n)
        )
    ),
    st.sampled_from(["", "patience", "diverged", "completed"]),
)
def test_diagnose_never_crashes(curves, stop_reason):
    loss, val = curves
    h = History.from_columns({"loss": loss, "val_loss": val} if loss else {})
    h = History(**{**h.__dict__, "stop_reason": stop_reason})
    d = diagnose(h)
    assert isinstance(d.verdict, Verdict)
    text = json.dumps(d.to_dict())
    assert text == json.dumps(diagnose(h).to_dict())  # deterministic


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 40).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(0, 1), min_size=n, max_size=n),
            st.lists(st.one_of(st.floats(0, 1), st.just(math.nan)), min_size=n, max_size=n),
        )
    ),
    st.booleans(),
)
def test_diagnose_never_crashes_on_metric_only_logs(curves, higher):
    train, val = curves
    name = "accuracy" if higher else "mae"
    h = History.from_columns({name: train, f"val_{name}": val} if train else {})
    d = diagnose(h, metric=name if train else None)
    assert isinstance(d.verdict, Verdict)
    assert d.monitor in ("loss", name)


def test_diagnose_divergence_from_a_minimum_near_zero_without_overflow():
    """A rise from 1e-300 to 1e300 overflows the percentage: the message says so in
    words, and no RuntimeWarning escapes."""
    import warnings

    train = [1.0] + [1e-300] * 4 + [1e300] * 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = diagnose(History.from_columns({"loss": train, "val_loss": [1.0] * len(train)}))
    assert d.verdict is Verdict.DIVERGING
    assert "rose many times above its minimum at epoch 2" in d.explanation


def test_tail_clearance_keeps_its_size_when_every_second_point_is_dropped():
    """A line falling 1 across its run plus independent noise: the t statistic of the
    last third shrinks by about sqrt(2) when every second point is dropped, the fall in
    residual standard deviations does not (averaged over seeds, against the formula
    fall / sd = (1 / 3) / 0.02 for the third of the run)."""
    from nooverfit._curves import tail_clearance, tail_significance

    full, half, t_full, t_half = [], [], [], []
    for seed in range(200):
        rng = np.random.default_rng(seed)
        x = 2.0 - np.linspace(0, 1, 91) + rng.normal(0, 0.02, 91)
        full.append(tail_clearance(x))
        half.append(tail_clearance(x[::2]))
        t_full.append(tail_significance(x))
        t_half.append(tail_significance(x[::2]))
    assert np.median(full) == pytest.approx((1 / 3) / 0.02, rel=0.1)
    assert np.median(half) == pytest.approx(np.median(full), rel=0.1)
    assert np.median(t_half) < 0.8 * np.median(t_full)


def test_still_improving_needs_its_minimum_in_the_last_share_of_the_run():
    """The minimum three logged points before the end: still improving on a 100-point run
    only if those points lie within the last 5 % of it (not at 20 points: beyond its
    last ``LAST_POINTS`` evaluations, and 5 % of it is one)."""
    for n, expected in ((100, Verdict.STILL_IMPROVING), (20, Verdict.GOOD_FIT)):
        e = np.linspace(0, 1, n)
        val = 1.0 - 0.5 * e
        val[-3:] = val[-4] + 0.001 * np.array([1.0, 2.0, 3.0])  # a flat step after the minimum
        h = History.from_columns({"loss": 0.8 * val, "val_loss": val})
        assert diagnose(h).verdict is expected


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ("training.csv", "read_log('training.csv')"),
        (Path("training.csv"), "read_log('training.csv')"),
        ({"loss": [1.0], "val_loss": [1.0]}, "History.from_columns"),
        (None, "read_log(path)"),
    ],
)
def test_diagnose_refuses_what_is_not_a_history_naming_it(given, hint):
    with pytest.raises(TypeError, match="expects a History, got") as err:
        diagnose(given)
    assert hint in str(err.value)


def test_diagnose_refuses_a_dataframe_with_the_conversion_that_works():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"loss": [1.0, 0.5], "val_loss": [1.0, 0.6]})
    with pytest.raises(TypeError, match="got DataFrame") as err:
        diagnose(df)
    assert "History.from_columns(df.to_dict('list'))" in str(err.value)
    converted = History.from_columns(df.to_dict("list"))  # the call the message gives
    assert diagnose(converted).verdict is Verdict.INSUFFICIENT_EVIDENCE
