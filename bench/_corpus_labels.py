"""Labels of the log corpus, from each run's regime checked against its test curve.

A run's regime (how it was built: a tiny network under a heavy penalty, a huge one on 40
samples, a step far too large...) is what it was *meant* to show; the test curve, measured
on samples neither training nor the diagnosis ever sees, is what it *did* show. The label
is the regime when the test curve agrees, else what the test curve shows, else none (the
run is left out of the scores). The principles, applied to every run alike:

1. **failed** (``diverging``): the test loss became non-finite, ended 3x above its
   minimum, stayed above the loss of the best constant predictor (its 5-point moving
   average never within 10 % of it) without still falling (nor rising half again above
   its minimum, in a run not built to fail: that is a memorizing network), or never got
   below it while swinging by 20 % back and forth per evaluation (in log space). The
   steady check also asks the test loss to stay above the *uninformed* loss (guessing
   every class alike, ``ln K``; the mean target's loss): a network that got below it
   learned, too little to beat the base rate of imbalanced classes (i45); nor does it read
   a run whose clean training loss shows it memorizing while the test loss rose.
   Accuracy stuck at 96 % is no failure: a converged network's accuracy is stuck too.
2. **overfitting**: the smoothed test loss rose 10 % above its minimum at least two
   evaluations before the end (or, where the generator has the clean training curves, a
   train/test accuracy gap over 10 points with training at 97 %). A run meant as an
   underfit whose test loss rose is left out: a network held down by a heavy penalty
   loses its early fit as the penalty wins, which is neither. Where the generator has the
   clean training curve, a test rise with the training loss ending over ``UNSTABLE``
   above its value at the test minimum is **failed** instead: a network that overfits
   keeps fitting its training set (the definition of overfitting, whatever a diagnosis
   says); one whose training loss climbs with its test loss was thrown around.
3. **still_improving**: the test curve fell more than ``STILL`` (2 %, the rule's own
   threshold) over its last third (least-squares line, as ``diagnose`` measures it), by
   ``SIGNIFICANT`` standard errors of that line (the test curve's own noise, as the rule
   measures the validation curve's), and its smoothed minimum is at the end. A run meant
   as a good fit or an underfit whose test loss is still falling is still improving
   (train longer), whatever its regime.
4. **good_fit**, **underfitting**: the regime, when the test curve is flat (smoothed end
   within 5 % of its minimum: a rise between 5 and 10 % is neither flat nor overfitting,
   and the run is left out) and, where the generator has the clean training curve,
   training fell (good fit) or learned little (underfit). An underfit's smoothed test
   loss must also end above half-way from the best test loss any run of the corpus
   reached on that data set up to the constant predictor's (a network that closed half
   that gap has learned the task; on a data set as noisy as ``diabetes`` a tiny network
   does), and a good fit's below it.

**Principles 2** (i68, the default; ``principles=1`` keeps the ones above): three places
where the text above contradicted issue 15's definitions (quoted in ``bench/README.md``,
"Corpus labelling principles audited"), corrected and nothing else:

- the gap evidence of principle 2 ("A large generalization gap is overfitting evidence
  even when the validation loss does not rise") labels a run of *any* regime
  overfitting when its test loss is not still improving, not only a run built to
  overfit;
- a test rise while the clean training curve shows the network memorizing
  (:func:`_memorizing`; "Training loss falls to 1e-7 while validation loss rises 50 %
  [...]: the textbook case of overfitting"), its training loss ended under ``MEMORIZED``
  of the constant predictor's, is never a failure by the rise checks of
  principle 1 (ended 3x / 10x above its minimum; the looser check of runs built to
  fail), whatever the run was built for; non-finite, saturated and swinging test losses
  still are; the ceiling's validation label reads memorizing from the log's own training
  loss;
- a run built as an underfit whose test loss rose is left out only when the clean
  training curve does not show it memorizing, as above (else it is overfitting).

The labelled onset of an overfitting run is the minimum of the 5-evaluation moving average
of its validation curve, moved forward to the curve's lowest value when that comes later
(the issue's definition: the onset never lies before the best epoch), measured here
independently of the diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from nooverfit._curves import tail_significance

#: Fall over the last third that is still improving: the rule's ``STILL``.
STILL = 0.02
#: Standard errors that fall must clear the test curve's own noise by: the rule's
#: ``SIGNIFICANT``.
SIGNIFICANT = 2.0
#: Rise of the smoothed test loss above its minimum that is overfitting.
TEST_RISE = 0.1
#: Rise of the smoothed test loss above its minimum that a flat curve (good fit, underfit)
#: stays within: between ``FLAT`` and ``TEST_RISE`` the run is neither, and left out.
FLAT = 0.05
#: Rise of the clean training loss from the test minimum to the end (fraction) that makes
#: a test rise a failed run rather than overfitting.
UNSTABLE = 0.1
#: Share of the way from the best run's test loss up to the constant predictor's that an
#: underfit's test loss stays above, and a good fit's below (a network that closed half
#: the gap to what the data allows has learned the task).
UNDERFIT = 0.5
#: Clean training loss at or under this share of the test loss: a memorizing network (the
#: rule's ``MEMORIZED``).
MEMORIZED = 0.3
#: The labelling principles applied by default (1: as before i68's audit; 2: corrected).
PRINCIPLES = 2


def moving_average(x: np.ndarray, width: int = 5) -> np.ndarray:
    """Centered moving average; windows shrink at the edges."""
    half = width // 2
    return np.array([np.mean(x[max(0, i - half) : i + half + 1]) for i in range(len(x))])


def constant_loss(y: np.ndarray, loss: str) -> float:
    """Loss of the best constant predictor on targets ``y``: the entropy of the class
    shares (cross-entropy), the variance (MSE) or the mean distance to the median (MAE)."""
    if loss == "ce":
        p = np.bincount(y.astype(int)) / len(y)
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())
    if loss == "mse":
        return float(np.mean((y - y.mean()) ** 2))
    return float(np.mean(np.abs(y - np.median(y))))


def uninformed_loss(y: np.ndarray, loss: str, classes: int) -> float:
    """Loss of a network that has learned nothing yet, as initial weights leave it: equal
    probabilities for every class (cross-entropy ``ln K``), the mean target (MSE: the
    variance; MAE: the mean distance to the mean, above the median's on skewed targets).
    On imbalanced classes it lies far above the constant predictor's (ln 2 = 0.69 against
    0.17 at 4 % positives): a network between the two has learned, if too little."""
    if loss == "ce":
        return math.log(max(2, classes))
    if loss == "mse":
        return float(np.mean((y - y.mean()) ** 2))
    return float(np.mean(np.abs(y - y.mean())))


def tail_fall(x: np.ndarray) -> float:
    """Relative fall of the least-squares line over the last third (at least 2 points)."""
    n = len(x)
    k = max(2, n // 3 + 1)
    tail = x[n - k :]
    level = float(np.mean(np.abs(tail)))
    if len(tail) < 2 or level <= 0:
        return 0.0
    slope = float(np.polyfit(np.arange(len(tail), dtype=float), tail, 1)[0])
    return -slope * (len(tail) - 1) / level


def _swing(test: np.ndarray) -> float:
    """Back-and-forth change of log(test loss) per evaluation, beyond its net change."""
    logs = np.log(np.maximum(test, 1e-300))
    steps = np.diff(logs)
    return float((np.abs(steps).sum() - abs(logs[-1] - logs[0])) / max(1, len(steps)))


def failed(
    test: np.ndarray,
    constant: float,
    *,
    meant: bool = False,
    uninformed: float = 0.0,
    memorizing: bool = False,
    memorized: bool = False,
) -> str:
    """Why the test curve shows a failed run, or ``""``. ``meant``: the run was built to
    fail, and the looser check of principle 1 applies (a failure confirmed); otherwise
    only a clear failure relabels a run meant as something else. ``uninformed``: the loss
    of a network that learned nothing (:func:`uninformed_loss`; 0 when unknown): a test
    loss that stays above the constant predictor's without swinging is a failure only
    when it also stays above that level (a network that got below it learned, too little:
    a weak or memorizing network, not a failed one). ``memorizing``: the clean training
    curve shows a network memorizing its training set while the test loss rose
    (:func:`_memorizing`): a test loss above the constant predictor's is then its
    confident mistakes, overfitting by principle 2, not a failure. ``memorized``
    (principles 2): memorizing, and the clean training loss ended far below the constant
    predictor's (under ``MEMORIZED`` of it): the test rise is not a failure by the rise
    checks either (ended far above its minimum; the looser check of a run built to fail),
    only a non-finite, saturated or swinging test loss is."""
    if not np.isfinite(test).all():
        return "non-finite test loss"
    smooth = moving_average(test)
    low = float(smooth.min())
    if low > 10 * constant:
        return "test loss stayed 10x above a constant predictor's: saturated outputs"
    rise_counts = not memorized
    if low > 0 and smooth[-1] > (3 if meant else 10) * low and rise_counts:
        return "test loss ended far above its minimum"
    steady = 1.1 * max(constant, uninformed)
    quiet = tail_fall(test) <= STILL and not memorizing
    if low > steady and quiet and (meant or smooth[-1] < 1.5 * low):
        # (a test loss that rose half again above its minimum, in a run not built to
        # fail, is a memorizing network's confident mistakes: the rise is overfitting)
        return "test loss stayed above a constant predictor's"
    swing = _swing(test)
    if meant and rise_counts and low > 0.9 * constant and (swing > 0.1 or smooth[-1] > 1.1 * low):
        return "test loss swung or rose, never clearly below a constant predictor's"
    if low > constant and swing > 0.2:
        return "test loss swung and never got below a constant predictor's"
    return ""


def label(
    regime: str,
    test: Sequence[float],
    val: Sequence[float],
    val_epochs: Sequence[int],
    constant: float,
    clean: dict[str, Any] | None = None,
    reference: float = 0.0,
    uninformed: float = 0.0,
    principles: int = PRINCIPLES,
) -> tuple[str | None, int | None, str]:
    """The label (``None``: left out), the labelled onset epoch, and why.

    Args:
        regime: what the run was built to show.
        test: test loss at each validated epoch.
        val: validation loss at the same epochs (for the onset).
        val_epochs: the epoch of each value.
        constant: :func:`constant_loss` of the test targets.
        clean: the generator's clean training curves (``train_eval``, ``train_acc``,
            ``test_acc``, ``loss``), when it has them; without them (relabelling a stored
            manifest) the checks that need them are taken as the generator passed them.
        reference: the lowest smoothed test loss any run of the corpus reached on the same
            data set and loss (:func:`references`; 0 when unknown, as while generating).
        uninformed: :func:`uninformed_loss` of the test targets (0 when unknown).
        principles: 2 (the default) or 1, the principles before i68's audit.
    """
    t = np.asarray([math.nan if v is None else v for v in test], dtype=float)
    if len(t) < 3:
        return None, None, "fewer than 3 evaluations"
    memorizing = _memorizing(t, clean, principles)
    # the memorization: "Training loss falls to 1e-7 while validation loss rises";
    # a training loss left near a constant predictor's is no such fit (its test loss far
    # above that level is the "outputs saturated: training diverged")
    memorized = principles >= 2 and memorizing and _train_end(clean) < MEMORIZED * constant
    meant = regime == "diverging"
    why = failed(
        t,
        constant,
        meant=meant,
        uninformed=uninformed,
        memorizing=memorizing and (memorized or not meant),
        memorized=memorized,
    )
    if why:
        return "diverging", None, why
    smooth = moving_average(t)
    low = int(np.argmin(smooth))
    n = len(t)
    rises = smooth[-1] > (1 + TEST_RISE) * smooth[low] and low <= n - 3
    fall = tail_fall(t)
    improving = fall > STILL and low >= n - 2 and tail_significance(t) >= SIGNIFICANT
    rose = rises  # the test loss itself rose (not the gap evidence)
    if regime == "overfitting" and not rises and clean is not None:
        rises = _gap(t, smooth, low, clean)
    elif regime == "overfitting" and not improving:
        rises = True  # confirmed by the generator (its clean curves are not stored)
    elif principles >= 2 and not rises and not improving and clean is not None:
        # the issue: "A large generalization gap is overfitting evidence even when the
        # validation loss does not rise", whatever the run was built for
        rises = _gap(t, smooth, low, clean)
    evidence = "test loss rose" if rose else "train/test gap" if clean else "by construction"
    if rose and regime == "underfitting" and not memorized:
        # a network held down by a heavy penalty loses its early fit as the penalty wins
        # (the training loss rises with it): neither overfitting nor a flat underfit
        return None, None, "an underfit whose test loss rose"
    if rises and clean is not None and not clean.get("logged") and _training_rose(clean, low):
        # (a logged training loss, ``logged``, is no clean curve: a running mean over the
        # epoch, with dropout on and any penalty in it)
        return "diverging", None, "test and clean training loss rose together"
    if rises:
        raw = np.asarray(val, dtype=float)
        if len(raw) == n and np.isfinite(raw).all():
            # the definition: validation cannot start to worsen before its best
            onset = max(int(np.argmin(moving_average(raw))), int(np.argmin(raw)))
        else:
            onset = low
        if onset > n - 2:
            return None, None, "overfitting onset at the last evaluation"
        return "overfitting", int(val_epochs[onset]), evidence
    if improving:
        return "still_improving", None, f"test fell {fall:.3f} over the last third"
    if regime not in ("good_fit", "underfitting"):
        return None, None, f"test curve does not show {regime}"
    if smooth[-1] > (1 + FLAT) * smooth[low] and low <= n - 3:
        return None, None, "test loss rose by 5 to 10 %: neither flat nor overfitting"
    # half-way from the constant predictor's test loss to the best any run reached
    halfway = reference + UNDERFIT * (constant - reference)
    if regime == "underfitting" and smooth[-1] < halfway:
        return None, None, "the test loss got over half-way to the best run's"
    if regime == "good_fit" and smooth[-1] > halfway:
        return None, None, "the test loss stayed under half-way to the best run's"
    if clean is not None and not clean.get("logged"):
        train = np.asarray(clean["train_eval"], dtype=float)
        if regime == "good_fit" and not train[-1] < 0.7 * train[0]:
            return None, None, "training did not fall"
        learned_little = train[-1] > 0.4 * train[0] or (
            clean["loss"] == "ce" and clean["train_acc"][-1] < 0.8
        )
        if regime == "underfitting" and not learned_little:
            return None, None, "learned too much for an underfit"
    return regime, None, "test curve flat"


def validation_label(
    record: dict[str, Any],
    val_loss: Sequence[float],
    reference: float,
    constant: float | None = None,
    log_clean: dict[str, Any] | None = None,
    principles: int = PRINCIPLES,
) -> str | None:
    """The label these principles give the *validation* curve of a stored run, in place of
    its test curve: what a reader of the log alone could know. ``val_loss`` is the curve as
    ``read_log`` reads it (epochs without validation are NaN); a validation loss that
    became non-finite (a failed run) is dropped by the reader, so the missing evaluations
    at the end count as non-finite, as the test curve records them. ``constant``: the
    constant predictor's loss on the *validation* targets (the test set's, the record's,
    when not given: on a regression set the two variances differ by up to 20 %, enough to
    read an underfit's validation loss as above the constant predictor's). ``log_clean``:
    the log's own training curves at the validated epochs (``train_eval``, ``train_acc``,
    ``test_acc`` read from the validation accuracy), for a run built to overfit: without
    them its label is confirmed by construction whenever validation is not still falling,
    which the log alone cannot know (a flat validation curve with no accuracy gap shows no
    overfitting). Under ``principles`` 2 they are read for every regime (the gap evidence
    is the curves', not the construction's); being logged, they never stand in for the
    clean curve's memorizing, training-rose, fell and learned-little checks."""
    val = [v for v in val_loss if math.isfinite(v)]
    val += [math.nan] * (len(record["test"]) - len(val))
    own = record["constant"] if constant is None else constant
    clean = log_clean if record["regime"] == "overfitting" or principles >= 2 else None
    lab, _, _ = label(
        record["regime"],
        val,
        val,
        record["val_epochs"],
        own,
        clean,
        reference=reference,
        uninformed=record.get("uninformed", 0.0),
        principles=principles,
    )
    return lab


def _training_rose(clean: dict[str, Any], low: int) -> bool:
    """Whether the clean training loss ended ``UNSTABLE`` above its value at position
    ``low`` (the smoothed test minimum); False without a finite clean curve."""
    train = np.asarray([math.nan if v is None else v for v in clean["train_eval"]], dtype=float)
    if not np.isfinite(train).all() or train[low] <= 0:
        return False
    return bool(train[-1] > (1 + UNSTABLE) * train[low])


def _memorizing(t: np.ndarray, clean: dict[str, Any] | None, principles: int = PRINCIPLES) -> bool:
    """Whether the generator's clean training loss (a logged one too under ``principles``
    2: it lies above the clean loss, so it can only miss a memorizing network) shows a network
    memorizing its training set while the test loss rose: the smoothed test loss ended
    ``TEST_RISE`` above its minimum (two evaluations or more before the end), and the
    clean training loss ended below its value at that minimum (it kept fitting, principle
    2) and under ``MEMORIZED`` of the test loss."""
    if clean is None or (clean.get("logged") and principles < 2) or not np.isfinite(t).all():
        return False
    train = np.asarray([math.nan if v is None else v for v in clean["train_eval"]], dtype=float)
    if len(train) != len(t) or not np.isfinite(train).all():
        return False
    smooth = moving_average(t)
    low = int(np.argmin(smooth))
    rose = smooth[-1] > (1 + TEST_RISE) * smooth[low] and low <= len(t) - 3
    return bool(rose and train[-1] < train[low] and train[-1] < MEMORIZED * t[-1])


def _train_end(clean: dict[str, Any] | None) -> float:
    """The training loss's last value in ``clean`` (NaN when there is none)."""
    train = _floats(clean["train_eval"]) if clean else np.array([])
    return float(train[-1]) if len(train) else math.nan


def _gap(t: np.ndarray, smooth: np.ndarray, low: int, clean: dict[str, Any]) -> bool:
    """The generator's gap evidence of overfitting, from the clean training curves."""
    if clean["loss"] == "ce":
        train_acc, test_acc = _floats(clean["train_acc"]), _floats(clean["test_acc"])
        return bool(train_acc[-1] - test_acc[-1] > 0.1 and train_acc[-1] > 0.97)
    train = _floats(clean["train_eval"])
    return bool(train[-1] < 0.3 * t[-1] and smooth[-1] > 1.03 * smooth[low])


def _floats(values: Sequence[float | None]) -> np.ndarray:
    """A stored curve as floats (``None``, a non-finite value in JSON, as NaN)."""
    return np.asarray([math.nan if v is None else v for v in values], dtype=float)


def references(records: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """The lowest 5-point moving average of the test loss that any run reached, per data
    set and loss: what the data allows, for :func:`label`'s ``reference``."""
    best: dict[tuple[str, str], float] = {}
    for r in records:
        t = np.asarray([math.nan if v is None else v for v in r["test"]], dtype=float)
        if len(t) and np.isfinite(t).all():
            key = (r["data"], r["spec"]["loss"])
            best[key] = min(best.get(key, math.inf), float(moving_average(t).min()))
    return best
