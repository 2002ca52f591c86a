"""Causes, remedies and the plain-language explanation behind a :class:`Diagnosis`.

Each cause is scored from the curve features in :class:`~nooverfit.diagnose.Evidence`
and the remedies follow the causes' order, so the first remedy treats the likeliest cause.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from nooverfit.history import History
from nooverfit.stopping import generalization_loss

if TYPE_CHECKING:
    from nooverfit.diagnose import Cause, Diagnosis, Evidence, Gap, Remedy, Verdict

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
    from nooverfit.diagnose import Cause, Diagnosis, Remedy, Verdict

    causes: list[Ranked] = []
    best = onset = None
    gl = math.nan
    if ev is not None:
        best, gl = _best_and_gl(history, monitor, ev)
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
                    ),
                    Remedy(
                        "batchnorm",
                        "Batch normalization keeps activations in range, so one bad step does "
                        "less harm.",
                        "--batchnorm",
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
        causes += _overfitting_causes(ev, onset, n)
    elif ev is not None and verdict is Verdict.UNDERFITTING:
        pct = 100 * (1 - ev.learned)
        causes.append(
            (
                1.0,
                Cause(
                    "too_little_capacity",
                    f"The training loss fell only {pct:.0f}% from its first epoch and "
                    "validation tracks it: the model cannot fit even the training set.",
                ),
                [
                    Remedy(
                        "more_capacity",
                        f"The training loss fell only {pct:.0f}%: a wider or deeper network can "
                        "fit more.",
                        "--width 2x --depth +1",
                    ),
                    Remedy(
                        "less_regularization",
                        "Training and validation are equally poor, so any L2 or dropout is "
                        "holding the fit back.",
                        "--l2 10x lower, --dropout lower",
                    ),
                ],
            )
        )
        causes.append(
            (
                0.5,
                Cause("too_few_epochs", "The optimizer may not have reached a minimum yet."),
                [
                    Remedy(
                        "train_longer",
                        f"{n} epochs may not have been enough to reach a minimum.",
                        f"--epochs {2 * n}",
                    )
                ],
            )
        )
    elif ev is not None and verdict is Verdict.STILL_IMPROVING:
        slope = -100 * ev.extra["tail_slope"]
        causes.append(
            (
                1.0,
                Cause(
                    "too_few_epochs",
                    f"The validation loss still fell {slope:.1f}% per epoch over the last epochs.",
                ),
                [
                    Remedy(
                        "train_longer",
                        f"The validation loss was still falling {slope:.1f}% per epoch when the "
                        "run ended.",
                        f"--epochs {max(2 * n, n + 20)}",
                    ),
                    Remedy(
                        "higher_lr",
                        f"At {slope:.1f}% per epoch, a larger step reaches the minimum in fewer "
                        "epochs.",
                        "--lr 3x higher",
                    ),
                ],
            )
        )
    causes.sort(key=lambda item: -item[0])
    remedies = [r for _, _, rs in causes for r in rs]
    diag_gap = gap
    return Diagnosis(
        verdict=verdict,
        onset_epoch=onset,
        best_epoch=best,
        generalization_loss=gl,
        gap=diag_gap,
        causes=tuple(c for _, c, _ in causes),
        remedies=tuple(remedies),
        explanation=_explain(verdict, onset, best, gl, gap, reason, missing, n),
        missing=missing,
        epochs=n,
        monitor=monitor,
    )


def _best_and_gl(history: History, monitor: str, ev: Evidence) -> tuple[int, float]:
    values = np.asarray(
        history.val_loss if monitor == "loss" else history.column(f"val_{monitor}"), dtype=float
    )
    finite = np.flatnonzero(np.isfinite(values))
    if monitor != "loss":
        return ev.epochs[ev.best], math.nan
    best_value, last_value = float(values[ev.best]), float(values[finite[-1]])
    return ev.epochs[ev.best], generalization_loss(last_value, best_value)


def _overfitting_causes(ev: Evidence, onset: int, n: int) -> list[Ranked]:
    from nooverfit.diagnose import Cause, Remedy

    after = n - 1 - ev.onset
    rise = 100 * ev.rise
    train_end, val_end = float(ev.train[-1]), float(ev.val[-1])
    low = int(np.argmin(ev.val))
    val_best, train_best = float(ev.val[low]), float(ev.train[low])
    out = []
    if after >= 2:
        out.append(
            (
                min(1.0, ev.rise) + after / n,
                Cause(
                    "too_many_epochs",
                    f"The validation loss was lowest at epoch {onset} and rose {rise:.0f}% "
                    f"over the {after} epochs after it.",
                ),
                [
                    Remedy(
                        "early_stopping",
                        f"Validation loss was lowest at epoch {onset}; stopping there keeps the "
                        "weights "
                        "that generalized best.",
                        f"--epochs {onset + 1} or --early-stopping patience:10",
                    )
                ],
            )
        )
    if math.isfinite(train_end) and train_end > 0:
        memorized = 1 - min(1.0, train_end / max(float(ev.train[0]), 1e-12))
        ratio = val_end / train_end
        out.append(
            (
                memorized * min(1.0, math.log10(max(ratio, 1.0)) / 2) + 0.01,
                Cause(
                    "complex_network",
                    f"The training loss fell to {train_end:.3g} while the validation loss "
                    f"ended at {val_end:.3g} ({ratio:.0f}x): the network memorizes the "
                    "training set.",
                ),
                [
                    Remedy(
                        "l2",
                        f"The training loss reached {train_end:.3g}, {ratio:.0f}x below "
                        "validation; an L2 "
                        "penalty keeps the weights from fitting the training set that closely.",
                        "--l2 1e-3 (tune over 1e-5..1e-1)",
                    ),
                    Remedy(
                        "dropout",
                        "Dropout stops units co-adapting to the training samples the network "
                        "fits "
                        f"{ratio:.0f}x better than validation.",
                        "--dropout 0.3",
                    ),
                    Remedy(
                        "capacity",
                        f"A training loss of {train_end:.3g} shows spare capacity; a smaller "
                        "network has "
                        "less room to memorize.",
                        "--width 2x lower",
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
                    ),
                    Remedy(
                        "transfer_learning",
                        f"With a {100 * share:.0f}% gap from too few samples, a pretrained "
                        "network needs far "
                        "fewer of them.",
                        "retrain the input and output layers of a pretrained network",
                    ),
                ],
            )
        )
    return out


def _explain(
    verdict: Verdict,
    onset: int | None,
    best: int | None,
    gl: float,
    gap: Gap,
    reason: str,
    missing: tuple[str, ...],
    n: int,
) -> str:
    from nooverfit.diagnose import Verdict

    metric = ""
    if gap.metric and math.isfinite(gap.metric_at_last):
        metric = f" and {gap.metric} {100 * gap.metric_at_last:+.1f} points"
    if verdict is Verdict.DIVERGING:
        return (
            f"Training diverged: {reason}. The loss is not going down, so the weights are "
            "not usable; lower the learning rate before anything else."
        )
    if verdict is Verdict.INSUFFICIENT_EVIDENCE:
        return (
            f"Not enough to judge from {n} epochs: the log lacks {' and '.join(missing)}. "
            "Overfitting shows only as a gap between training and validation over time."
        )
    if verdict is Verdict.OVERFITTING:
        gl_text = f"{gl:.0f}%" if math.isfinite(gl) else "clearly"
        return (
            f"The network is overfitting: it kept getting better on the training data while "
            f"validation stopped improving around epoch {onset} and ended {gl_text} worse "
            f"than its best (epoch {best}). At the end validation trails training by "
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
    return (
        f"A good fit: validation loss reached its best at epoch {best} and did not drift "
        f"away from it, with a gap of {gap.loss_at_last:.3g} in loss{metric} at the end. "
        "Nothing needs fixing; keep the weights from the best epoch."
    )
