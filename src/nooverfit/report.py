"""The study's HTML report: one self-contained file (figures embedded as PNG data URIs)
that opens offline and reads top-down: verdict, recommendation, remedies, curves, and what
each technique does."""

from __future__ import annotations

import base64
import dataclasses
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from nooverfit._io import atomic_write_text
from nooverfit._words import counted, pct, points, rounded_apart
from nooverfit.report_captions import captions
from nooverfit.report_figures import figure_order, study_pngs
from nooverfit.report_reproduce import reproduce
from nooverfit.studies.blend import members_phrase
from nooverfit.studies.evidence import LEVEL, Evidence, evidence, t_quantile
from nooverfit.techniques import data_kind, sample_unit, techniques

if TYPE_CHECKING:
    from nooverfit.studies.result import StageCost, StudyResult, Variant


def png_uri(png: bytes) -> str:
    """PNG bytes as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def doubling(result: StudyResult) -> dict[str, Any] | None:
    """What twice the study's training set gives, for the recommendation's curve (the
    baseline's when it is the recommendation; the best single network's when the
    recommendation is not one network trained from scratch): measured on the learning
    curve where it reaches twice the size (interpolated in log size between measured
    points), and the power-law fit's prediction (an extrapolation where it does not)."""
    curve = result.learning
    if curve is None:
        return None
    if "recommended" in curve.series or result.recommended.name == result.baseline.name:
        name = "recommended" if "recommended" in curve.series else "baseline"
        what = "the recommended configuration"
    elif "best single network" in curve.series:
        name, what = "best single network", "the best single network trained from scratch"
        if name in curve.names:  # which one the study picked
            what += f" ({curve.names[name]})"
    else:
        return None
    size = result.settings.train_per_class or curve.sizes[-1]
    measured = curve.measured_doubling(name, size)
    low, high = curve.measured_at(name, size), curve.measured_at(name, 2 * size)
    # the measured points the gain at 2n reads: itself, or the two around it
    twice, sizes = 2 * size, curve.sizes
    around = []
    if measured is not None and twice not in sizes:
        around = [max(n for n in sizes if n < twice), min(n for n in sizes if n > twice)]
    if measured is not None and low is not None and high is not None:
        # the gain between the two accuracies as shown, so the sentence adds up: "+5.5 points
        # (89.3% → 94.8%)", not the unrounded +5.6 (0.89264 → 0.94826)
        measured = (float(pct(high)) - float(pct(low))) / 100
    return {
        "gain": curve.gain_from_doubling(name, size),  # the power-law fit's
        "measured": measured,  # None: 2n lies beyond the largest size measured
        "low": low,
        "high": high,
        "around": around,
        "largest": curve.sizes[-1],
        "size": 2 * size,
        "what": what,
    }


def saved_model(result: StudyResult) -> dict[str, Any] | None:
    """What ``best_model.pt`` holds, for the report to say beside the mean test accuracy:
    the recommendation's networks of the first seed (``StudyResult.best_state``), so on
    that seed's test split it scores that seed's test accuracy, not the mean over seeds;
    None where the result has no test split of that seed (results without splits)."""
    first = result.settings.seeds[0] if result.settings.seeds else None
    split = next((s for s in result.splits if s.seed == first), None)
    per_seed = result.test["recommended"].per_seed
    if split is None or not per_seed or result.best_card.get("refused"):
        return None  # (a refused card: predict cannot load it here)
    names = result.extras.get("ensemble", {}).get("names", [])
    ensemble = result.recommended.stage == "ensemble" and len(names) > 1
    return {
        "seed": first,
        "rows": len(split.test),
        "accuracy": per_seed[0],
        "what": f"{len(names)} networks" if ensemble else "network",
    }


def tried(result: StudyResult) -> frozenset[str] | None:
    """The remedies and stages a study tried (``results.json``'s ``remedies[].remedy``),
    whose techniques the report explains; None (all) for a tuning report."""
    if result.extras.get("tuning"):
        return None
    names = {o.remedy for o in result.remedies}
    if "copies" in names:  # copies of the choice, averaged: an ensemble
        names.add("ensemble")
    return frozenset(names)


#: how a run ended, in words (a history's ``stop_reason``)
ENDED = {
    "completed": "all epochs",
    "curve": "curve diagnosable",
    "halved": "halved (behind their grid)",
    "patience": "early stop (patience)",
    "generalization_loss": "early stop (GL)",
    "progress_quotient": "early stop (PQ)",
    "up": "early stop (UP)",
    "diverged": "diverged",
}


def ended(counts: dict[str, int]) -> str:
    """How runs ended, in words: ``"38 all epochs, 15 curve diagnosable, 3 halved ..."``."""
    return ", ".join(f"{n} {ENDED.get(reason, word(reason))}" for reason, n in counts.items())


def spent(result: StudyResult) -> list[StageCost]:
    """The stages the cost line and table list: those that trained, and those that took
    time untrained (scoring ensembles of stored runs, fitting the classic models)."""
    return [c for c in result.costs if c.runs or c.seconds >= 0.5 or c.stage == "classic models"]


def cost_line(result: StudyResult) -> str:
    """Where the study's time went, in one line: wall time, runs, steps, the stages that
    took time, and how the runs ended."""
    st = result.settings
    stages = ", ".join(
        f"{c.stage} {c.seconds:.0f} s ({counted(c.runs, 'run')}, {counted(c.steps, 'step')})"
        if c.runs
        else f"{c.stage} {c.seconds:.0f} s"
        for c in spent(result)
    )
    steps = sum(c.steps for c in result.costs)
    flops = sum(c.flops for c in result.costs)
    seconds = sum(c.seconds for c in result.costs if c.runs)
    rate = flops / seconds / 1e9 if seconds > 0 else 0.0
    head = (
        f"Time: {st.seconds:.0f} s, {counted(st.runs, 'run')}, "
        f"{counted(steps, 'optimizer step')}, "
        f"{flops / 1e12:.2f} TFLOP at {rate:.1f} GFLOP/s"
    )
    return f"{head}: {stages}; runs ended: {ended(result.ended())}"


def word(value: object) -> str:
    """An enum or snake_case name in words: ``still_improving`` -> ``still improving``."""
    return str(getattr(value, "value", value)).replace("_", " ")


def row_verdict(result: StudyResult, variant: Variant) -> str:
    """The remedies table's verdict of ``variant`` in words: the one most of its seeds'
    runs got. An average of networks has no training curve to diagnose, so an ensemble's
    is its first network's, said so: the network whose curves the curves figure draws (a
    blend's linear rung, where the variant carries the verdict of the choice it blends)."""
    if variant.stage != "ensemble":
        return word(variant.verdict)
    seeds = len(result.settings.seeds) or variant.score.seeds
    first = [result.runs[k].diagnosis.verdict for k in variant.runs[:seeds] if k in result.runs]
    if not first:  # results without the runs
        return "—"
    return "first network: " + word(Counter(first).most_common(1)[0][0])


def ensemble_epochs(ev: Evidence) -> str:
    """The remedies table's note on an ensemble row's "epochs run", where the table has
    one: the mean over its networks of each network's figure (the study's ensemble stage
    and ``blend.networks_mean``); copies of a network are given that network's figure
    (``copies.copy_candidates``), not their own runs'. "" without an ensemble row."""
    if not ev.ensembles:
        return ""
    copies = any(" copies of " in d.name for d in ev.ensembles)
    said = "; an ensemble's is the mean of that over its networks"
    return said + (" (copies of a network given that network's)" if copies else "")


def kept_weights(result: StudyResult, key: str) -> str:
    """Which weights the baseline's run ``key`` kept, where they are not those of the epoch
    its diagnosis calls best (and "the weights to keep"): a baseline without early
    stopping keeps its last epoch's, as the curves figure's "kept epoch" line shows; ""
    where the two agree."""
    from nooverfit.studies.select import kept_row

    record = result.runs[key]
    history, best = record.history, record.diagnosis.best_epoch
    if not len(history) or best is None:
        return ""
    kept = history.epoch[kept_row(history)]
    if kept == best:
        return ""
    seed = record.config.seed
    drawn = " (the curves figure's kept epoch)" if key == result.baseline.runs[0] else ""
    if record.config.early_stopping is None and kept == history.epoch[-1]:
        return (
            f"Trained without early stopping, seed {seed}'s run kept the weights of its last "
            f"epoch, {kept}{drawn}; those of epoch {best}, where validation was best, are "
            "what early stopping keeps."
        )
    return (
        f"Seed {seed}'s run kept the weights of epoch {kept}{drawn}; validation was best at "
        f"epoch {best}."
    )


def spread(mean: float, std: float, seeds: int) -> str:
    """An accuracy in % with its standard deviation over ``seeds`` seeds (``"97.2 ± 0.4"``);
    one seed has none, so its mean alone (not "± 0.0", which reads as no spread measured)."""
    return f"{pct(mean)} ± {pct(std)}" if seeds > 1 else pct(mean)


def ensemble_note(result: StudyResult) -> str:
    """What the recipe of an ensemble recommendation shows: the first member's code, and
    how each other member's training differs from it (from ``extras["ensemble"]``)."""
    from nooverfit.config import RunConfig
    from nooverfit.studies.recipe import member_changes

    kept = result.extras["ensemble"]
    names = kept["names"]
    head = (
        f"The recommendation averages the predicted probabilities of {members_phrase(kept)}; "
        f"the code above trains the first ({names[0]})."
    )
    weighted = _weighted(kept.get("weights"), len(names))
    configs = [RunConfig.from_dict(c) for c in kept.get("configs", [])]
    if len(configs) != len(names):  # results without the members' configurations
        rest = "; ".join(names[1:])
        return f"{head} The others: {rest}. Average their softmax outputs{weighted}."
    others = [
        f"{i}. {name}: {change}"
        for i, (name, change) in enumerate(zip(names, member_changes(configs), strict=True), 1)
        if i > 1
    ]
    return (
        f"{head} Train each other member with the same code, changed as listed "
        f"({'; '.join(others)}), then average their softmax outputs{weighted} "
        "(nooverfit.load_study_model does). Each member's augmentation is written out below "
        "the first's code; any other change the first's code has no lines for is written "
        "out by nooverfit.studies.recipe.recipe("
        "RunConfig.from_dict(results['extras']['ensemble']['configs'][i]), classes=...)."
    )


def _weighted(weights: list[float] | None, members: int) -> str:
    """How an ensemble's average weighs its members, in their order: ``" weighted 1/2,
    1/6, 1/6, 1/6"`` (``sum(w_i * p_i)``; fractions where a small denominator gives the
    weight to 1e-9, else 4 digits), or "" for equal weights or none kept."""
    from fractions import Fraction

    if weights is None or len(weights) != members or len(set(weights)) <= 1:
        return ""
    total = sum(weights)
    said = []
    for w in weights:
        share = Fraction(w / total).limit_denominator(1000)
        said.append(str(share) if abs(float(share) - w / total) < 1e-9 else f"{w / total:.4g}")
    return " weighted " + ", ".join(said)


def render(result: StudyResult, pngs: Mapping[str, bytes], *, ev: Evidence | None = None) -> str:
    """The report as HTML text, with the figures ``pngs`` (PNG bytes by file stem,
    :func:`study_pngs`). ``ev``: the study's :func:`~nooverfit.studies.evidence.evidence`,
    computed where not given (a caller that drew the figures of it passes it on)."""
    from nooverfit.audit import unrepeated_warnings
    from nooverfit.config import RunConfig
    from nooverfit.groups import with_homogeneous_cause
    from nooverfit.studies.class_scores import majority_subject
    from nooverfit.studies.classic_vs import against
    from nooverfit.studies.evidence_words import (
        passed_over_reason,
        reading,
        recommendation_weakness,
    )
    from nooverfit.studies.passed_over import passed_over
    from nooverfit.studies.recipe import ensemble_recipe, recipe
    from nooverfit.studies.recipe_transfer import study_transfer_recipe
    from nooverfit.studies.select import MARGIN

    if (kept := unrepeated_warnings(result.extras)) is not None:
        result = dataclasses.replace(
            result, extras={**result.extras, "audit": {**result.extras["audit"], "warnings": kept}}
        )
    env = Environment(
        loader=PackageLoader("nooverfit", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    images = {name: png_uri(png) for name, png in pngs.items()}
    classes, kind, data = len(result.settings.classes) or 2, data_kind(result), result.settings
    code = study_transfer_recipe(result, classes=classes, kind=kind) or recipe(
        result.recommended.config, classes=classes, kind=kind, data=str(data.data)
    )
    kept = result.extras.get("ensemble", {})
    names, configs = kept.get("names", []), kept.get("configs", [])
    if result.recommended.stage == "ensemble" and names:
        if len(configs) == len(names):  # each member's augmentation written out too
            members = [RunConfig.from_dict(c) for c in configs]
            code = ensemble_recipe(members, names, classes=classes, kind=kind, data=str(data.data))
        code = dataclasses.replace(code, notes=(ensemble_note(result), *code.notes))
    ev = ev if ev is not None else evidence(result)  # read once: every part below takes it
    # The seed whose diagnosis is put in words: the first with the majority verdict.
    lead_key, lead_seed = next(
        (k, v.seed)
        for k, v in zip(result.baseline.runs, ev.verdicts, strict=True)
        if v.verdict == ev.verdict
    )
    classic = result.extras.get("classic")
    # the 95 % interval's half-width in standard errors: t(0.975, n - 1)
    n = len(ev.seeds)
    t_factor = t_quantile(1 - (1 - LEVEL) / 2, n - 1) if n > 1 else 0.0
    return env.get_template("report.html").render(
        r=result,
        ev=ev,
        classic=classic,
        classic_vs=against(classic, result.test["recommended"].per_seed) if classic else None,
        # with the cause the data audit adds, as results.json's baseline_diagnosis has it
        lead=with_homogeneous_cause(result.runs[lead_key].diagnosis, result.extras.get("audit")),
        lead_seed=lead_seed,
        kept=kept_weights(result, lead_key),
        variants={v.name: v for v in result.variants},
        word=word,
        code=code,
        reproduce=reproduce(result),
        doubling=doubling(result),
        saved=saved_model(result),
        captions=captions(result, ev),
        images=images,
        figures=figure_order(images),
        techniques=techniques(data_kind(result), str(result.settings.data), tried(result)),
        unit=sample_unit(result),
        counted=counted,
        pct=pct,
        majority_subject=majority_subject,
        points=points,
        rounded_apart=rounded_apart,
        spread=spread,
        ensemble_epochs=ensemble_epochs,
        row_verdict=row_verdict,
        ended=ended,
        spent=spent,
        reading=reading,
        weakness=recommendation_weakness(result, sample_unit(result), ev=ev),
        # name -> why a candidate ahead of the recommendation on validation was not chosen
        passed={p.candidate.name: passed_over_reason(p) for p in passed_over(result)},
        margin=f"{MARGIN:g}",
        t_factor=t_factor,
    )


def write_report(result: StudyResult, path: str | Path) -> Path:
    """Render the report and write it atomically to ``path``."""
    ev = evidence(result)  # once, for the remedies figure and the text
    return atomic_write_text(path, render(result, study_pngs(result, ev), ev=ev))
