"""Causes, remedies and the plain-language explanation behind a :class:`Diagnosis`.

Each cause is scored from the curve features in :class:`~nooverfit.diagnosis.Evidence`
and the remedies follow the causes' order, so the first remedy treats the likeliest cause.
Every remedy carries its setting twice: for the command line (``--l2 1e-3``) and for
Python (``RunConfig(l2=1e-3)``), which ``Monitor`` shows.
"""

from __future__ import annotations

import math

import numpy as np

from nooverfit._metrics import decision_curves
from nooverfit._underfit_advice import underfitting_causes
from nooverfit.diagnosis import Cause, Diagnosis, Evidence, Gap, Remedy, Verdict
from nooverfit.history import ONSET_WIDTH, History, best_index
from nooverfit.stopping import generalization_loss

#: A cause with its score and its remedies.
Ranked = tuple[float, Cause, list[Remedy]]


def build(
    verdict: Verdict,
    history: History,
    gap: Gap,
    ev: Evidence | None,
    monitor: str,
    *,
    reason: str = "",
    missing: tuple[str, ...] = (),
) -> Diagnosis:
    """Assemble the :class:`Diagnosis` for ``verdict`` from the evidence."""
    causes: list[Ranked] = []
    best = onset = None
    gl = math.nan
    if ev is not None:
        best, gl = _best_and_gl(history, monitor, ev)
    else:  # diverging or too short to judge: still the weights to keep, where any
        best = _best_epoch(history, monitor)
        if verdict is Verdict.DIVERGING:
            gl = _raw_gl(history, monitor)
    n = len(history)
    if verdict is Verdict.DIVERGING:
        causes.append(
            (
                1.0,
                Cause("unstable_optimization", reason[0].upper() + reason[1:] + "."),
                [
                    Remedy(
                        "lower_lr",
                        f"The loss goes up instead of down ({reason}): smaller steps stop the "
                        "overshoot.",
                        "--lr 10x lower",
                        "RunConfig(lr=config.lr / 10)",
                    ),
                    Remedy(
                        "batchnorm",
                        "Batch normalization keeps activations in range, so one bad step does "
                        "less harm.",
                        "--batchnorm",
                        "RunConfig(batchnorm=True)",
                    ),
                    Remedy(
                        "gradient_clipping",
                        "Clipping bounds each step, which stops the spikes seen in this loss.",
                        "clip_grad_norm_(params, 1.0)",
                    ),
                ],
            )
        )
    elif verdict is Verdict.INSUFFICIENT_EVIDENCE:
        causes.append(
            (
                1.0,
                Cause("missing_evidence", f"The log lacks {' and '.join(missing)}."),
                [
                    Remedy(
                        "log_validation",
                        f"A verdict needs {' and '.join(missing)}, which this log lacks.",
                        "log val_loss every epoch",
                    )
                ],
            )
        )
    elif ev is not None and verdict is Verdict.OVERFITTING:
        onset = ev.epochs[ev.onset]
        causes += _overfitting_causes(ev, onset, best if best is not None else onset)
    elif ev is not None and verdict is Verdict.UNDERFITTING:
        causes += underfitting_causes(ev, n)
    elif ev is not None and verdict is Verdict.STILL_IMPROVING:
        drop = 100 * ev.tail_drop
        causes.append(
            (
                1.0,
                Cause(
                    "too_few_epochs",
                    f"The validation loss still fell {drop:.1f}% over the last third of the run "
                    + (
                        "and was lowest at its end."
                        if best is None or best == ev.epochs[-1]
                        else f"and ended near its lowest (epoch {best})."
                    ),
                ),
                [
                    Remedy(
                        "train_longer",
                        f"The validation loss was still falling ({drop:.1f}% over the last third) "
                        "when the run ended.",
                        f"--epochs {max(2 * n, n + 20)}",
                        f"RunConfig(epochs={max(2 * n, n + 20)})",
                    ),
                    Remedy(
                        "higher_lr",
                        "A larger step reaches the minimum in fewer epochs, if the loss stays "
                        "smooth.",
                        "--lr 3x higher",
                        "RunConfig(lr=3 * config.lr)",
                    ),
                ],
            )
        )
    causes.sort(key=lambda item: -item[0])
    remedies: list[Remedy] = []
    for r in (r for _, _, rs in causes for r in rs):  # one remedy once: its likeliest cause
        if all(r.kind != seen.kind for seen in remedies):
            remedies.append(r)
    diag_gap = gap
    return Diagnosis(
        verdict=verdict,
        onset_epoch=onset,
        best_epoch=best,
        generalization_loss=gl,
        gap=diag_gap,
        causes=tuple(c for _, c, _ in causes),
        remedies=tuple(remedies),
        explanation=_explain(
            verdict, onset, best, gl, gap, reason, missing, n, ev is not None and ev.early_stopped
        ),
        missing=missing,
        epochs=n,
        monitor=monitor,
    )


def _best_and_gl(history: History, monitor: str, ev: Evidence) -> tuple[int, float]:
    """The best epoch and Prechelt's GL of the last validated epoch against it."""
    if monitor != "loss":
        return ev.epochs[ev.best], math.nan
    values = np.asarray(history.val_loss, dtype=float)
    values = values[np.isfinite(values)]
    return ev.epochs[ev.best], generalization_loss(float(values[-1]), float(values[ev.best]))


def _raw_gl(history: History, monitor: str) -> float:
    """Prechelt's GL of the last finite validation loss against the lowest, for a verdict
    reached without the evidence (a diverging run: how far it ended above its best; NaN
    without a validation loss, or with fewer than two finite values)."""
    if monitor != "loss":
        return math.nan
    values = np.asarray(history.val_loss, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return math.nan
    return generalization_loss(float(values[-1]), float(values.min()))


def _best_epoch(history: History, monitor: str) -> int | None:
    """The epoch of the lowest finite validation value of the curve decided on
    (:func:`~nooverfit.history.best_index`, as in the evidence and ``Monitor``), for a
    verdict reached without the evidence; ``None`` without one."""
    _, _, val = decision_curves(history, None if monitor == "loss" else monitor)
    i = best_index(list(val))
    return None if i is None else history.epoch[i]


def _overfitting_causes(ev: Evidence, onset: int, best: int) -> list[Ranked]:
    n = len(ev.val)
    after = n - 1 - ev.onset
    rise = 100 * ev.rise
    train_end, val_end = float(ev.train[-1]), float(ev.val[-1])
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
                        f"The validation loss was lowest at epoch {best}, rose from there on"
                        if onset == best
                        else f"The validation loss was lowest at epoch {best}, its moving "
                        f"average turned up at epoch {onset}"
                    )
                    + f", and ended {rise:.0f}% above its smoothed minimum at epoch {last}.",
                ),
                [
                    Remedy(
                        "early_stopping",
                        f"Validation loss was lowest at epoch {best}; stopping there keeps the "
                        "weights that generalized best.",
                        f"--epochs {best + 1} or --early-stopping patience:10",
                        f"RunConfig(epochs={best + 1}) or RunConfig(early_stopping='patience:10')",
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
                        f"A {100 * ev.metric_gap:.1f}-point gap with a flat validation loss is "
                        "what an L2 penalty or weight decay closes.",
                        "--l2 1e-3 (tune over 1e-5..1e-1)",
                        "RunConfig(l2=1e-3) or torch.optim.AdamW(..., weight_decay=1e-2)",
                    )
                ],
            )
        )
    if math.isfinite(train_end) and math.isfinite(float(ev.train[0])) and ev.train[0] > 0:
        fallen = max(0.0, 1 - train_end / float(ev.train[0]))
        below = max(0.0, (val_end - train_end) / val_end) if val_end > 0 else 0.0
        out.append(
            (
                fallen * below + 0.01,
                Cause(
                    "complex_network",
                    f"The training loss fell {100 * fallen:.0f}% to {train_end:.3g} while the "
                    f"validation loss ended at {val_end:.3g}: the network memorizes the "
                    "training set.",
                ),
                [
                    Remedy(
                        "l2",
                        f"The training loss reached {train_end:.3g} against {val_end:.3g} on "
                        "validation; an L2 penalty keeps the weights from fitting the training "
                        "set that closely.",
                        "--l2 1e-3 (tune over 1e-5..1e-1)",
                        "RunConfig(l2=1e-3) or torch.optim.AdamW(..., weight_decay=1e-2)",
                    ),
                    Remedy(
                        "dropout",
                        "Dropout stops units co-adapting to the training samples the network "
                        "fits better than validation.",
                        "--dropout 0.3",
                        "RunConfig(dropout=0.3) or nooverfit.add_dropout(model, 0.3)",
                    ),
                    Remedy(
                        "capacity",
                        f"A training loss of {train_end:.3g} shows spare capacity; a smaller "
                        "network has less room to memorize.",
                        "--width 2x lower",
                        "RunConfig(width=config.width // 2)",
                    ),
                ],
            )
        )
    if math.isfinite(train_best) and val_best > 0:
        share = max(0.0, (val_best - train_best) / val_best)
        out.append(
            (
                share * 0.9,
                Cause(
                    "too_little_data",
                    f"Even at its best epoch the validation loss was {100 * share:.0f}% "
                    "above training: the training set does not cover what validation "
                    "sees.",
                ),
                [
                    Remedy(
                        "augmentation",
                        f"A {100 * share:.0f}% gap already at the best epoch says the training "
                        "set is too "
                        "narrow; label-preserving transformations widen it.",
                        "--augment 0.5",
                        "RunConfig(augment=0.5)",
                    ),
                    Remedy(
                        "more_data",
                        f"More labelled samples shrink a {100 * share:.0f}% gap most reliably.",
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
                        f"With a {100 * share:.0f}% gap from too few samples, a pretrained "
                        "network needs far "
                        "fewer of them.",
                        "retrain the input and output layers of a pretrained network",
                        "nooverfit.transfer_runs(...)",
                    ),
                ],
            )
        )
    return out


def _best_and_onset(best: int | None, onset: int | None) -> str:
    """What the best epoch and the onset each are, in one clause that names both: the
    lowest validation value, and where its moving average (``onset_index``) turned up,
    which may come later than a lucky low point but never before it."""
    if onset is None or onset == best:
        return (
            f"Validation was best at epoch {best} (the weights to keep), where overfitting sets in"
        )
    return (
        f"Validation was best at epoch {best} (its lowest value: the weights to keep); "
        f"overfitting sets in around epoch {onset}, where its moving average over "
        f"{ONSET_WIDTH} evaluations was lowest"
    )


def _explain(
    verdict: Verdict,
    onset: int | None,
    best: int | None,
    gl: float,
    gap: Gap,
    reason: str,
    missing: tuple[str, ...],
    n: int,
    stopped: bool = False,
) -> str:
    metric = ""
    if gap.metric and math.isfinite(gap.metric_at_last):
        metric = f" and {gap.metric} {100 * gap.metric_at_last:+.1f} points"
    if verdict is Verdict.DIVERGING:
        kept = "" if best is None else f" (validation was best at epoch {best})"
        return (
            f"Training diverged: {reason}. The loss is not going down, so the last weights "
            f"are not usable{kept}; lower the learning rate before anything else."
        )
    if verdict is Verdict.INSUFFICIENT_EVIDENCE:
        return (
            f"Not enough to judge from {n} epochs: the log lacks {' and '.join(missing)}. "
            "Overfitting shows only as a gap between training and validation over time."
        )
    if verdict is Verdict.OVERFITTING:
        if math.isfinite(gl) and gl >= 1:
            ended = f"it ended {gl:.0f}% worse than that best"
        else:
            ended = "it stayed near that best instead of following training"
        return (
            "The network is overfitting: it kept getting better on the training data while "
            f"validation did not. {_best_and_onset(best, onset)}; {ended}. At the end "
            "validation trails training by "
            f"{gap.loss_at_last:.3g} in loss{metric}. It is learning the training samples "
            "rather than the pattern; the remedies below are ranked by the evidence."
        )
    if verdict is Verdict.UNDERFITTING:
        return (
            "The network is underfitting: training and validation losses are both high and "
            "close together, so the model is too simple or too constrained to learn the "
            "task. Give it more capacity or less regularization before worrying about "
            "overfitting."
        )
    if verdict is Verdict.STILL_IMPROVING:
        return (
            f"Training stopped too early: after {n} epochs the validation loss is still "
            "falling steadily. Train longer; the verdict will be clearer once the curve "
            "flattens."
        )
    # the text quotes the GL it prints: a rise that early stopping cut off is said so
    drift = "did not drift away from it"
    if math.isfinite(gl) and gl >= 1:
        drift = f"ended {gl:.0f}% above it (GL)" + (
            ", where early stopping ended the run" if stopped else ", a drift too small to count"
        )
    gaps = [f"{gap.loss_at_last:.3g} in loss"] if math.isfinite(gap.loss_at_last) else []
    gaps += [metric[5:]] if metric else []
    ended = f", with a gap of {' and '.join(gaps)} at the end" if gaps else ""
    return (
        f"A good fit: validation loss reached its best at epoch {best} and {drift}{ended}. "
        "Nothing needs fixing; keep the weights from the best epoch."
    )
