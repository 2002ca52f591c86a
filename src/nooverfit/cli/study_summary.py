"""The summary ``nooverfit study`` prints after its runs: the baseline's verdict, the
remedies table, the recommendation with its seed-paired test difference, the class scores,
the classic models and where the time went (the report's numbers, in short)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from nooverfit._words import counted
from nooverfit.cli._app import console

if TYPE_CHECKING:
    from nooverfit.studies import StudyResult
    from nooverfit.studies.evidence import Evidence


def print_summary(result: StudyResult, ev: Evidence | None = None) -> None:
    """Print the study's summary to the console (``ev``: the study's
    :func:`~nooverfit.studies.evidence.evidence`, computed where not given)."""
    from nooverfit.repeats import ceiling_sentence
    from nooverfit.report import cost_line, pct, points, spread, word
    from nooverfit.studies.classic_vs import against
    from nooverfit.studies.evidence import PairedDifference, evidence
    from nooverfit.studies.evidence_words import reading, recommendation_weakness
    from nooverfit.studies.select import MARGIN
    from nooverfit.techniques import sample_unit

    ev = ev if ev is not None else evidence(result)
    n = len(ev.seeds)
    seeds = ", ".join(
        f"seed {v.seed}: {word(v.verdict)}"
        + (f" from epoch {v.onset_epoch}" if v.onset_epoch is not None else "")
        for v in ev.verdicts
    )
    console.print(f"Baseline verdict: [bold]{word(ev.verdict)}[/] on {ev.share} — {seeds}")

    def interval(d: PairedDifference) -> str:
        i = d.interval
        return f"[{points(i.low)}, {points(i.high)}]" if n > 1 else "—"

    table = Table(
        title="Remedies, ranked by the paired difference "
        f"(validation accuracy %, {counted(n, 'seed')})",
        caption="− baseline: of the unrounded accuracies, so it can differ by 0.1 from the "
        "difference of the rounded ones",
    )
    acc = "val acc ± std" if n > 1 else "val acc"  # one seed: no spread
    for col in ("#", "remedy", "best setting", acc, "− baseline", "95 % interval"):
        table.add_column(col, justify="left" if col in ("remedy", "best setting") else "right")
    table.add_column("reading")
    b = result.baseline
    table.add_row(
        "",
        "baseline",
        "—",
        spread(b.score.val_accuracy, b.score.val_accuracy_std, n),
        "",
        "",
        "",
    )
    variants = {v.name: v for v in (*result.variants, *result.combinations)}
    unit = sample_unit(result)
    # ensembles and combinations follow, unranked: not one remedy alone (as in the report)
    unranked = (*ev.ensembles, *ev.combinations)
    ranks = [*map(str, range(1, len(ev.remedies) + 1)), *[""] * len(unranked)]
    for rank, d in zip(ranks, (*ev.remedies, *unranked), strict=True):
        v = variants[d.name]
        table.add_row(
            rank,
            word(d.role),
            _short(d.name),
            spread(v.score.val_accuracy, v.score.val_accuracy_std, n),
            points(d.interval.mean),
            interval(d),
            reading(d, unit, short=True),
            style="green" if d.interval.reading == "better" else None,
        )
    console.print(table)
    if any(d.selected and d.interval.within_noise for d in (*ev.remedies, *ev.ensembles)):
        rule = (  # the report's words: one seed has no standard error to count in
            f"at a seed-paired validation gain of more than {MARGIN:g} standard errors (SE); "
            "the 95 % interval is wider"
            if n > 1
            else "at any validation gain: one seed has no standard error"
        )
        console.print(f"selected: the study counts a remedy as helping {rule}.", highlight=False)
    t = result.test
    kept = result.recommended.name == result.baseline.name  # no baseline to compare with
    versus = "" if kept else f" vs baseline {pct(t['baseline'].accuracy)}%"
    seeds = f"{'mean' if kept else 'means'} over {n} seeds" if n > 1 else "one seed"
    console.print(
        f"Recommended: [bold green]{result.recommended.name}[/] — test accuracy "
        f"{pct(t['recommended'].accuracy)}%{versus} ({seeds})"
    )
    if kept:
        console.print(
            "No remedy beat the baseline on validation: the recommendation is the baseline itself."
        )
    else:
        per_seed = ", ".join(points(x) for x in ev.test.per_seed)
        rec, base = t["recommended"].accuracy, t["baseline"].accuracy
        console.print(
            f"Paired by seed, recommended − baseline on test: {points(ev.test.interval.mean)} "
            f"points, 95 % interval {interval(ev.test)} (per seed {per_seed}"
            f"{_unrounded(rec, base, ev.test.interval.mean)}): "
            f"[bold]{ev.test.interval.reading}[/]",
            highlight=False,
        )
        why = recommendation_weakness(result, unit, ev=ev)
        if why:
            console.print(f"Weak evidence for the recommendation: {why}.", highlight=False)
    _class_scores(result.extras, unit)
    if ceiling := ceiling_sentence(result.extras.get("audit")):
        console.print(ceiling, highlight=False)
    notes, warnings = audit_lines(result.extras)
    for text in notes:
        console.print(f"note: {escape(text)}", highlight=False)
    for text in warnings:
        console.print(f"[bold red]Warning:[/] {escape(text)}", highlight=False)
    classic = result.extras.get("classic")
    vs = against(classic, t["recommended"].per_seed) if classic else None
    if vs is not None:
        tied = f" (tied there with {', '.join(vs.tied_on_val)})" if vs.tied_on_val else ""
        console.print(
            f"Classic model best on validation: {vs.model}{tied}, test {pct(vs.test)}% on the "
            f"same splits; recommended − {vs.model}: {points(vs.diff)} points"
            f"{_unrounded(t['recommended'].accuracy, vs.test, vs.diff, head=' (', tail=')')}",
            highlight=False,
        )
    elif classic:
        why = "; ".join(f"{k}: {v}" for k, v in classic["skipped"].items())
        console.print(f"Classic models not fitted: {why}", highlight=False)
    if result.costs:
        console.print(cost_line(result), highlight=False)
    for role, check in result.extras.get("shortcut", {}).items():
        verdict = (
            "passed"
            if check["passed"]
            else "[bold red]flagged[/]: " + ", ".join(check["flags"]).replace("_", " ")
        )
        change = round(-100 * check["drop"], 1) + 0.0  # no "-0.0"
        console.print(
            f"Shortcut check ({role}): {verdict} — fires on noise alone "
            f"{pct(check['fire_rate'])}% of the time; training noise mixed in costs "
            f"{100 * check.get('noise_drop', 0.0):.1f} points; held-out noise changes accuracy "
            f"by {change:+.1f} points"
        )


def _unrounded(high: float, low: float, diff: float, *, head: str = "; ", tail: str = "") -> str:
    """Where ``diff`` (of the unrounded accuracies) is not the difference of the two rounded
    accuracies printed beside it (:func:`nooverfit.report.rounded_apart`), a clause saying
    so and what the rounded ones give; "" where they add up."""
    from nooverfit.report import pct, rounded_apart

    if (apart := rounded_apart(high, low, diff)) is None:
        return ""
    return (
        f"{head}differences of the unrounded accuracies: {pct(high)} − {pct(low)} as rounded "
        f"gives {apart}{tail}"
    )


def audit_lines(extras: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The data audit's notes (what reading did to the data: missing cells filled, columns
    of one value) and warnings (a row identifier that predicts the label, leaks across the
    splits, ...) of a study's ``extras``, less the warnings its class scores already give:
    they were in the report only, while the summary printed the scores they question."""
    from nooverfit.audit import unrepeated_warnings

    audit = extras.get("audit")
    if not isinstance(audit, dict):
        return [], []
    kept = unrepeated_warnings(extras)
    warnings = kept if kept is not None else list(audit.get("warnings", ()))
    return list(audit.get("notes", ())), warnings


def _class_scores(extras: dict[str, Any], unit: str) -> None:
    """The accuracy of always answering the largest class, balanced accuracy, and the
    warnings of imbalanced classes and of a model that answers one class."""
    from nooverfit.studies.class_scores import summary_line

    scores = extras.get("class_scores")
    if not scores:
        return
    console.print(summary_line(scores, unit), highlight=False)
    for text in scores["warnings"]:
        console.print(f"[bold red]Warning:[/] {escape(text)}", highlight=False)


def _short(name: str, limit: int = 40) -> str:
    """A table cell's form of a long variant name (an ensemble lists all its members; the
    report shows them whole)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"
