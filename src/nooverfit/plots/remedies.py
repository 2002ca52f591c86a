"""The remedies figure of a study: validation accuracy of each remedy's best setting and
its seed-paired difference from the baseline with the t interval; its data function
(:func:`remedy_rows`) is apart from the drawing."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

if TYPE_CHECKING:
    from nooverfit.studies.evidence import Evidence, PairedDifference
    from nooverfit.studies.result import StudyResult

TRAIN, VAL, BEST, GREY = "#1f77b4", "#d62728", "#2ca02c", "#999999"

__all__ = ["RemedyRow", "plot_remedies", "remedy_rows"]


@dataclass(frozen=True)
class RemedyRow:
    """One row of the remedies figure: validation accuracy and the paired difference."""

    label: str
    kind: str  # "baseline", "helped", "selected", "no gain", "recommended"
    val: float
    val_std: float
    diff: float
    low: float
    high: float


def _kind(d: PairedDifference) -> str:
    """ "helped" where the drawn interval lies above 0; "selected" where it does not but
    the selection counted the remedy as helping (its 2-standard-error rule, narrower than
    the 95 % interval); else "no gain". The report's table and the CLI say the same."""
    if d.interval.reading == "better":
        return "helped"
    return "selected" if d.selected else "no gain"


def remedy_rows(result: StudyResult, ev: Evidence) -> tuple[RemedyRow, ...]:
    """The remedies figure's rows: baseline, the remedies ranked by the evidence, the
    ensembles, the combinations (or a tuned configuration) and the recommendation, in %.
    The recommendation is drawn once, in its own last row: not again at its rank among the
    remedies, ensembles or combinations (the remedies table has one row of it)."""
    outcomes = {o.remedy: o for o in result.remedies}
    b = result.baseline.score
    rows = [
        RemedyRow("baseline", "baseline", 100 * b.val_accuracy, 100 * b.val_accuracy_std, 0, 0, 0)
    ]
    for d in (*ev.remedies, *ev.ensembles):  # the ensembles after the remedies alone
        if d.name == result.recommended.name:
            continue  # the recommendation has its own row (it was drawn twice)
        o = outcomes[d.role]
        i = d.interval
        rows.append(
            RemedyRow(
                _label(d.role.replace("_", " "), d.name),
                _kind(d),
                100 * o.chosen.score.val_accuracy,
                100 * o.chosen.score.val_accuracy_std,
                100 * i.mean,
                100 * i.low,
                100 * i.high,
            )
        )
    variants = {v.name: v for v in result.combinations}
    for d in ev.combinations:  # the recommendation has its own row
        if d.name != result.recommended.name:
            i, v = d.interval, variants[d.name]
            rows.append(
                RemedyRow(
                    _label(d.role, d.name),
                    _kind(d),
                    100 * v.score.val_accuracy,
                    100 * v.score.val_accuracy_std,
                    100 * i.mean,
                    100 * i.low,
                    100 * i.high,
                )
            )
    r, i = result.recommended.score, ev.validation.interval
    rows.append(
        RemedyRow(
            _label("recommended", result.recommended.name),
            "recommended",
            100 * r.val_accuracy,
            100 * r.val_accuracy_std,
            100 * i.mean,
            100 * i.low,
            100 * i.high,
        )
    )
    return tuple(rows)


#: the most lines a row's label takes: the rows are evenly spaced, so a longer one (an
#: ensemble of three 8-remedy combinations took 14) ran over its neighbours' labels; the
#: remedies table names each row in full
LABEL_LINES = 4


def _label(role: str, name: str) -> str:
    """A row label: the setting, with its remedy when the setting does not name it, in at
    most :data:`LABEL_LINES` lines of 30 characters (cut with "…")."""
    text = name if name.startswith(role.split()[0]) else f"{role}: {name}"
    return textwrap.fill(text, 30, max_lines=LABEL_LINES, placeholder=" …")


_KIND_COLORS = {
    "baseline": VAL,
    "helped": BEST,
    "selected": "#98df8a",
    "no gain": GREY,
    "recommended": TRAIN,
}
#: the legend's words for each kind
_KIND_LABELS = {
    "helped": "helped (interval above 0)",
    "selected": "selected by the selection's steps, interval includes 0",
    # the table reads these "within noise", "worse", "no change": none reads "no gain"
    "no gain": "not better beyond noise",
}
#: ... with one seed, which has no interval and no noise estimate (the table reads its rows
#: "one seed: no noise estimate", and the selection counts any validation gain)
_ONE_SEED_LABELS = {
    "selected": "selected (one seed: any validation gain)",
    "no gain": "not selected (one seed: no noise estimate)",
}


def plot_remedies(result: StudyResult, ev: Evidence, *, size: float = 9.0) -> Figure:
    """Left: validation accuracy (%, axis from 0, bars with ± std over seeds). Right: the
    seed-paired difference from the baseline in points, with its t interval."""
    rows = remedy_rows(result, ev)
    lines = sum(r.label.count("\n") + 1 for r in rows)
    fig = Figure(figsize=(size, 0.3 * lines + 0.2 * len(rows) + 1.8), layout="constrained")
    left, right = fig.subplots(1, 2, sharey=True, width_ratios=(1.1, 1))
    y = np.arange(len(rows))[::-1]
    colors = [_KIND_COLORS[r.kind] for r in rows]
    left.barh(y, [r.val for r in rows], xerr=[r.val_std for r in rows], color=colors, alpha=0.85)
    left.set_xlim(0, 100)
    left.set_yticks(y, [r.label for r in rows], fontsize=8)
    one = len(ev.seeds) == 1
    left.set_xlabel(
        "validation accuracy (%)\n" + ("one seed" if one else "bars: mean ± std over seeds")
    )
    for yi, r, c in zip(y, rows, colors, strict=True):
        if r.kind == "baseline":
            continue
        err = [[r.diff - r.low], [r.high - r.diff]] if math.isfinite(r.low) else None
        right.errorbar(r.diff, yi, xerr=err, fmt="o", color=c, capsize=3)
    right.axvline(0, color="black", lw=1)
    right.set_xlabel(
        "minus the baseline (points)\n"
        + (
            "on that seed: no interval"
            if one
            else f"seed-paired mean, {100 * ev.level:.0f} % t interval"
        )
    )
    kinds = [k for k in _KIND_COLORS if any(r.kind == k for r in rows)]
    words = {**_KIND_LABELS, **_ONE_SEED_LABELS} if one else _KIND_LABELS
    fig.legend(
        handles=[Patch(color=_KIND_COLORS[k], label=words.get(k, k)) for k in kinds],
        loc="outside lower center",
        ncols=min(len(kinds), 3),  # all five kinds in one row ran past the figure's edges
        fontsize=8,
    )
    fig.suptitle("Against the baseline, ranked by the seed-paired difference")
    return fig
