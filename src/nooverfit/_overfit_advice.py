"""Causes and remedies of an overfit (for :mod:`nooverfit._advice`): too many epochs,
a generalization gap, a network that memorizes its training set, too little data; each
scored from the curve features in :class:`~nooverfit.diagnosis.Evidence`."""

from __future__ import annotations

import math

from nooverfit._words import gl_figure
from nooverfit.diagnosis import Cause, Evidence, Knob, Remedy

#: A cause with its score and its remedies.
Ranked = tuple[float, Cause, list[Remedy]]

#: The early-stopping remedy's patience, in evaluations.
PATIENCE = 10
#: The L2 remedy's knob: nooverfit's coupled penalty (``loss += l2 / 2 * sum(||W||^2)``),
#: a start and the range to tune over.
_L2 = (Knob("l2", value=1e-3, low=1e-5, high=1e-1),)


def lowest_words(monitor: str) -> str:
    """How the best value of the curve decided on reads: "loss was lowest", or for a
    metric "accuracy was best"."""
    return "loss was lowest" if monitor == "loss" else f"{monitor} was best"


def _fell(first: float, last: float) -> str:
    """How a training loss fell from ``first`` to ``last``: "fell 93% to 0.0714", or, where
    the share rounds to 100 % ("fell 100% to 2.72e-05" reads as a loss of 0), "fell from
    0.31 to 2.72e-05"."""
    share = 100 * max(0.0, 1 - last / first) if first > 0 else 0.0
    if round(share) >= 100:
        return f"fell from {first:.3g} to {last:.3g}"
    return f"fell {share:.0f}% to {last:.3g}"


def _memorizing_words(
    curve: str, ends: tuple[float, float, float], smoothed: tuple[float, float, float]
) -> tuple[str, str, str]:
    """The complex-network cause's sentence and its L2 and capacity reasons. They quote
    ``ends``, the curve decided on as logged (first training value, training and
    validation at the last validated epoch), as the table's gap and the explanation do;
    without them, the loss's ``smoothed`` ends (the scores' inputs), said to be smoothed,
    and for a metric no number (its smoothed curve is an error, not the metric)."""
    first, train, val = ends
    if all(map(math.isfinite, ends)):
        fell = _fell(first, train) if curve == "loss" and first > 0 else f"reached {train:.3g}"
        return (
            f"The training {curve} {fell} while the validation {curve} ended at {val:.3g}",
            f"The training {curve} reached {train:.3g} against {val:.3g} on validation",
            f"A training {curve} of {train:.3g} shows spare capacity",
        )
    first, train, val = smoothed
    if curve == "loss":
        return (
            f"The smoothed training loss {_fell(first, train)} while the smoothed validation "
            f"loss ended at {val:.3g}",
            f"The smoothed training loss reached {train:.3g} against {val:.3g} on validation",
            f"A smoothed training loss of {train:.3g} shows spare capacity",
        )
    return (
        f"The training {curve} ended far closer to a perfect fit than validation's",
        f"The training {curve} ended far better than validation's",
        f"A training {curve} that close to a perfect fit shows spare capacity",
    )


def _stopping_settings(epochs: int | None) -> tuple[str, str, tuple[Knob, ...]]:
    """The early-stopping remedy's setting, code and knob: train ``epochs`` epochs (the run
    up to its best epoch), or stop on patience; patience alone where the epochs are not
    known."""
    patience = ("--early-stopping patience:10", "RunConfig(early_stopping='patience:10')")
    knobs = (Knob("early_stopping", value=PATIENCE, epochs=epochs),)
    if epochs is None:
        return (*patience, knobs)
    return (
        f"--epochs {epochs} or {patience[0]}",
        f"RunConfig(epochs={epochs}) or {patience[1]}",
        knobs,
    )


def overfitting_causes(
    ev: Evidence,
    onset: int,
    best: int,
    lowest: str,
    *,
    epochs_to_best: int | None = None,
    gl: float = math.nan,
    curve: str = "loss",
    ends: tuple[float, float, float] = (math.nan, math.nan, math.nan),
    at_best: tuple[float, float] = (math.nan, math.nan),
) -> list[Ranked]:
    """Ranked (weight, cause, remedies) of an overfitting run: too many epochs (a rise
    after the best epoch), a generalization gap, a memorizing network, too little data.
    ``lowest``: :func:`lowest_words` of the curve decided on; ``epochs_to_best``: the
    epochs a run trains to end at the best epoch (``best + 1`` in a log counting from 0,
    ``best`` in one counting from 1; None, the default, where the log shows steps, whose
    epochs are not known), for the early-stopping setting; ``gl``: the diagnosis's
    Prechelt GL in percent (the last validation loss over the lowest, raw values), which
    the text quotes so that it agrees with the explanation and the table; ``curve``: the
    curve decided on (``"loss"`` or a metric); ``ends``: that curve as logged, its first
    training value and the training and validation values at the last validated epoch
    (NaN where not logged), which the complex-network text quotes; ``at_best``: that
    curve as logged at the best epoch (training, validation), whose gap the too-little-data
    text quotes as the table shows it (the smoothed curves where not logged)."""
    n = len(ev.val)
    after = n - 1 - ev.onset
    train_end, val_end = float(ev.train[-1]), float(ev.val[-1])
    train_best, val_best = at_best
    if not (math.isfinite(train_best) and math.isfinite(val_best)):
        val_best, train_best = float(ev.val[ev.best]), float(ev.train[ev.best])
    last = ev.epochs[-1]
    out: list[Ranked] = []
    if ev.signal == "rise" and after >= 1:
        out.append(
            (
                min(1.0, ev.rise) + after / n,
                Cause(
                    "too_many_epochs",
                    (
                        f"The validation {lowest} at epoch {best}, turned worse from there on"
                        if onset == best
                        else f"The validation {lowest} at epoch {best}, its moving "
                        f"average turned worse at epoch {onset}"
                    )
                    + (
                        # Prechelt's GL over raw values, as the table and the explanation
                        # (the epoch quoted is the last one: the minimum's is given above)
                        f", and at the last epoch ({last}) the validation loss was "
                        f"{gl_figure(gl)}% above that lowest value."
                        if math.isfinite(gl) and gl >= 1
                        else "."
                    ),
                ),
                [
                    Remedy(
                        "early_stopping",
                        f"Validation {lowest} at epoch {best}; stopping there keeps the "
                        "weights that generalized best.",
                        *_stopping_settings(epochs_to_best),
                    )
                ],
            )
        )
    if ev.signal == "gap":
        # without a logged training accuracy the gap is a lower bound from the loss
        least = "at least " if ev.extra.get("accuracy_bound") else ""
        out.append(
            (
                1.0,
                Cause(
                    "generalization_gap",
                    f"Training accuracy ends {least}{100 * ev.metric_gap:.1f} points above "
                    "validation while validation no longer improves: the network fits samples "
                    "it cannot generalize from.",
                ),
                [
                    Remedy(
                        "l2",
                        f"A {100 * ev.metric_gap:.1f}-point gap with a flat validation "
                        f"{'loss' if curve == 'loss' else 'curve'} is what an L2 penalty "
                        "or weight decay closes.",
                        "--l2 1e-3 (tune over 1e-5..1e-1)",
                        "RunConfig(l2=1e-3) or torch.optim.AdamW(..., weight_decay=1e-2)",
                        _L2,
                    )
                ],
            )
        )
    if math.isfinite(train_end) and math.isfinite(float(ev.train[0])) and ev.train[0] > 0:
        fallen = max(0.0, 1 - train_end / float(ev.train[0]))
        below = max(0.0, (val_end - train_end) / val_end) if val_end > 0 else 0.0
        memorizes, l2_reason, spare = _memorizing_words(
            curve, ends, (float(ev.train[0]), train_end, val_end)
        )
        out.append(
            (
                fallen * below + 0.01,
                Cause("complex_network", f"{memorizes}: the network memorizes the training set."),
                [
                    Remedy(
                        "l2",
                        f"{l2_reason}; an L2 penalty keeps the weights from fitting the training "
                        "set that closely.",
                        "--l2 1e-3 (tune over 1e-5..1e-1)",
                        "RunConfig(l2=1e-3) or torch.optim.AdamW(..., weight_decay=1e-2)",
                        _L2,
                    ),
                    Remedy(
                        "dropout",
                        "Dropout stops units co-adapting to the training samples the network "
                        "fits better than validation.",
                        "--dropout 0.3",
                        "RunConfig(dropout=0.3) or nooverfit.add_dropout(model, 0.3)",
                        (Knob("dropout", value=0.3),),
                    ),
                    Remedy(
                        "capacity",
                        f"{spare}; a smaller network has less room to memorize.",
                        "--width 2x lower",
                        "RunConfig(width=config.width // 2)",
                        (Knob("width", factor=0.5),),
                    ),
                ],
            )
        )
    share = (val_best - train_best) / val_best if val_best > 0 else math.nan
    # the gap quoted as the table shows it: the loss's as a share of validation, a metric's
    # in its own units (an accuracy in points); no cause where validation is no higher than
    # training at its best epoch to the figure quoted, rather than "0% above"
    words = _gap_words(curve, val_best - train_best, share)
    if words:
        gap_is, a_gap = words
        out.append(
            (
                share * 0.9 if math.isfinite(share) else 0.0,
                Cause(
                    "too_little_data",
                    f"Even at its best epoch {gap_is}: the training set does not cover what "
                    "validation sees.",
                ),
                [
                    Remedy(
                        "augmentation",
                        f"{a_gap[0].upper()}{a_gap[1:]} already at the best epoch says the "
                        "training set is too narrow; label-preserving transformations widen it.",
                        "--augment 0.5",
                        "RunConfig(augment=0.5)",
                        (Knob("augment", value=0.5),),
                    ),
                    Remedy(
                        "more_data",
                        f"More labelled samples shrink {a_gap} most reliably.",
                        "collect or label more data",
                    ),
                    Remedy(
                        "synthesis",
                        "Synthesized samples (e.g. background noise mixed in at a chosen SNR) "
                        "add the "
                        "variety the training set lacks.",
                        "nooverfit synthesize",
                        "nooverfit.synthesize_folder(...)",
                    ),
                    Remedy(
                        "transfer_learning",
                        f"With {a_gap} from too few samples, a pretrained network needs far "
                        "fewer of them.",
                        "retrain the input and output layers of a pretrained network",
                        "nooverfit.transfer_runs(...)",
                    ),
                ],
            )
        )
    return out


def _gap_words(curve: str, diff: float, share: float) -> tuple[str, str] | None:
    """How the too-little-data texts quote the gap at the best epoch, as the table does:
    for the loss ``share``, training's shortfall below validation as a share of validation
    ("the training loss was 50% below validation", "a 50% gap": 0.4 against 0.8); for a
    metric ``diff``, validation's shortfall in the metric's units, an accuracy's in points
    ("the validation accuracy trailed training by 5.0 points", "a gap of 5.0 points").
    ``None`` where the figure quoted rounds to no gap at all."""
    if curve == "loss":
        if not (math.isfinite(share) and round(100 * share) >= 1):
            return None
        return f"the training loss was {100 * share:.0f}% below validation", (
            f"a {100 * share:.0f}% gap"
        )
    if not math.isfinite(diff):
        return None
    if curve == "accuracy" and abs(diff) <= 1:  # a share of samples, as the table says it
        if round(1000 * diff) < 1:
            return None
        quoted = f"{100 * diff:.1f} points"
    elif float(f"{diff:.3g}") <= 0:
        return None
    else:
        quoted = f"{diff:.3g}"
    return f"the validation {curve} trailed training by {quoted}", f"a gap of {quoted}"
