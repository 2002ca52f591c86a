"""The plain-language paragraph of a :class:`~nooverfit.diagnosis.Diagnosis`.

One paragraph per verdict, in the numbers the diagnosis reports (the best epoch, the
onset, Prechelt's GL, the gap at the end), so the text and the table agree. Pure: values
in, a string out; :mod:`nooverfit._advice` gathers the values.
"""

from __future__ import annotations

import math

from nooverfit._words import counted, gl_figure, loss_figure
from nooverfit.diagnosis import Gap, Verdict
from nooverfit.history import ONSET_WIDTH


def _best_and_onset(best: int | None, onset: int | None) -> str:
    """What the best epoch and the onset each are, in one clause that names both: the
    best single validation value, and where its moving average (``onset_index``) was
    best, which may come later than a lucky single value but never before it. No onset
    (``None``): validation was lowest among its last evaluations and never turned."""
    if onset is None:
        return (
            f"Validation was lowest at epoch {best}, among its last evaluations (the weights "
            "to keep): it never turned worse, so no onset can be named and the gap is the "
            "evidence"
        )
    if onset == best:
        return (
            f"Validation was best at epoch {best} (the weights to keep), where overfitting sets in"
        )
    return (
        f"Validation was best at epoch {best} as a single value (the weights to keep); "
        f"overfitting sets in around epoch {onset}, where its moving average over "
        f"{ONSET_WIDTH} evaluations was best"
    )


def explain(
    verdict: Verdict,
    onset: int | None,
    best: int | None,
    gl: float,
    gap: Gap,
    reason: str,
    missing: tuple[str, ...],
    n: int,
    stopped: bool = False,
    *,
    run: tuple[int, str] = (0, "0 epochs"),
    trained: bool = True,
    ended_at: tuple[float, float] = (math.nan, math.nan),
    last: int | None = None,
    validated: int | None = None,
    monitor: str = "loss",
    rise: float = math.nan,
    smoothed: int = 0,
    saturated: bool = False,
) -> str:
    """The plain-language paragraph; ``trained``: whether the log holds a training curve
    (without one, nothing is said about training: no gap, no claim it kept improving);
    ``ended_at``: the validation metric decided on (not the loss) at the end and at the
    best epoch, quoted where GL, a loss's, is not defined; ``last``: the last epoch with a
    validation value (a diverging run best there names no other weights to keep);
    ``validated``: how many of the ``n`` rows hold a value of that validation curve
    (default: all); ``monitor``: the curve decided on (``"loss"`` or a metric); ``rise``:
    the smoothed curve's rise at the end over its minimum (a share), which a good fit's
    text quotes beside a GL against a single low value; ``smoothed``: the evaluations
    that smoothing spans (``_curves.window``; 0 where unknown); ``saturated``: a run
    still improving already at 100 % validation accuracy with a tiny loss
    (``_still.at_ceiling``), told it has nothing left to gain but confidence."""
    metric = ""  # the gap in the metric, in the words the loss's gap is in ("0.2 in loss")
    if gap.metric and math.isfinite(gap.metric_at_last):
        metric = (  # points of a share (accuracy); a regression metric's own units
            f"{100 * gap.metric_at_last:.1f} points in {gap.metric}"
            if "acc" in gap.metric.lower()
            else f"{gap.metric_at_last:.3g} in {gap.metric}"
        )
    if verdict is Verdict.DIVERGING:
        kept = "" if best in (None, last) else f" (validation was best at epoch {best})"
        return (
            # (not "the loss is not going down": a run that blew up and fell back from it,
            # or swings, may have gone down somewhere; what failed is the optimization)
            f"Training diverged: {reason}. The optimization failed, so the last weights "
            f"are not usable{kept}; lower the learning rate before anything else."
        )
    if verdict is Verdict.INSUFFICIENT_EVIDENCE:
        judged = counted(n, "evaluation")
        if validated is not None and validated < n:
            # rows without validation are no evaluations ("from 40 evaluations: the log
            # lacks a validation curve" said of a log of training losses alone)
            unit = "logged step" if run[1].startswith("step") else "logged epoch"
            judged = f"{counted(n, unit)}, " + (
                "none validated" if not validated else f"{validated} of them validated"
            )
        return (
            f"Not enough to judge from {judged}: the log lacks "
            f"{' and '.join(missing)}. "
            "Overfitting shows only as a gap between training and validation over time."
        )
    if verdict is Verdict.OVERFITTING:
        # GL and the metric's ends are against the best single value: after an onset
        # clause, "that best" would read as the moving average's best, so name the epoch
        at_best = "its best" if onset in (None, best) else f"its best (epoch {best})"
        that = "that best" if onset in (None, best) else at_best
        if math.isfinite(gl) and gl >= 1:
            ended = f"it ended {gl_figure(gl)}% worse than {that}"
        elif all(map(math.isfinite, ended_at)) and ended_at[0] != ended_at[1]:
            last_value, best_value = ended_at
            ended = (
                f"its {gap.metric} ended at {last_value:.3g} against {best_value:.3g} at {at_best}"
            )
        else:
            ended = f"it stayed near {that}" + (
                " instead of following training" if trained else ""
            )
        gaps = (
            [f"{loss_figure(gap.loss_at_last)} in loss"] if math.isfinite(gap.loss_at_last) else []
        )
        gaps += [metric] if metric else []
        if not (trained or gaps):  # a log of validation curves alone
            return (
                "The network is overfitting: validation got worse after its best. "
                f"{_best_and_onset(best, onset)}; {ended}. The log holds no training curve "
                "to compare with; a validation curve that turns worse as training goes on "
                "usually means the network learns the training samples rather than the "
                "pattern; the remedies below are ranked by the evidence."
            )
        trails = f" At the end validation trails training by {' and '.join(gaps)}." if gaps else ""
        return (
            "The network is overfitting: it kept getting better on the training data while "
            f"validation did not. {_best_and_onset(best, onset)}; {ended}.{trails} It is "
            "learning the training samples rather than the pattern; the remedies below are "
            "ranked by the evidence."
        )
    if verdict is Verdict.UNDERFITTING:
        both = (
            "training and validation losses are both high and close together"
            if trained
            else "validation stays poor (the log holds no training curve to compare with)"
        )
        return (
            f"The network is underfitting: {both}, so the model is too simple or too "
            "constrained to learn the task. Give it more capacity or less regularization "
            "before worrying about overfitting."
        )
    if verdict is Verdict.STILL_IMPROVING:
        improving = (  # (a metric decided on, no validation loss: say which curve)
            "the validation loss is still falling steadily"
            if monitor == "loss"
            else f"the validation {monitor} is still improving steadily"
        )
        if saturated:
            return (
                f"After {run[1]} {improving}, but the validation accuracy is already 100% "
                "and the loss tiny: longer training can only sharpen the confidence of "
                "answers already right. Keep these weights."
            )
        return (
            f"Training stopped too early: after {run[1]} {improving}. Train longer; the "
            "verdict will be clearer once the curve flattens."
        )
    # the text quotes the GL it prints: a rise that early stopping cut off is said so
    drift = "did not drift away from it"
    if math.isfinite(gl) and gl >= 1:
        # GL is against the single lowest value; the rule reads the moving average, which
        # a noisy curve's lucky low does not pull down (s28 i150: "ended 42% above it
        # (GL), a drift too small to count")
        noise = (
            f", while the curve smoothed over {smoothed} evaluations rose "
            f"{gl_figure(100 * rise)}%: noise, not a drift"
            if smoothed > 1 and 100 * rise < gl and gl_figure(100 * rise) != gl_figure(gl)
            else ", a drift too small to count"
        )
        drift = f"ended {gl_figure(gl)}% above it (GL)" + (
            ", where early stopping ended the run" if stopped else noise
        )
    return (
        f"A good fit: validation {monitor} reached its best at epoch {best} and {drift}"
        f"{_good_fit_gaps(gap, metric)}. "
        "Nothing needs fixing; keep the weights from the best epoch."
    )


def _good_fit_gaps(gap: Gap, metric: str) -> str:
    """The gaps at the end in a good fit's sentence (``metric``: the metric's gap as the
    texts quote it, "2.8 points in accuracy"); where validation ends better than training
    in one of them (dropout, a penalty on training), said that way rather than as a
    negative gap (s28 i150: "a gap of -0.00111 in loss")."""
    loss = gap.loss_at_last
    figures = [f"{loss_figure(loss)} in loss"] if math.isfinite(loss) else []
    figures += [metric] if metric else []
    if not figures:
        return ""
    ahead = [float(f.split(" ", 1)[0]) < 0 for f in figures]  # ("-0.0" is no lead)
    if not any(ahead):
        return f", with a gap of {' and '.join(figures)} at the end"
    if all(ahead):
        both = " and ".join(f[1:] for f in figures)
        return f", and validation ended ahead of training by {both}"
    lead, trail = (figures[0], figures[1]) if ahead[0] else (figures[1], figures[0])
    return (
        f", and validation ended ahead of training by {lead[1:]} and behind it by "
        + trail.lstrip("-")
    )
