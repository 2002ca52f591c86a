"""The outputs of one tiny study, and the figures recomputed from ``results.json``, that
the agreement tests (``test_report_agreement*.py``) compare: each number rounded as the
outputs round it (one decimal of %, signed points), recomputed from the raw per-seed
values (means, t intervals with scipy)."""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from dataclasses import dataclass
from typing import Any

from pytest import MonkeyPatch
from rich.console import Console
from scipy import stats

from _page import Page

#: the three forms of the study: recommended per-seed and baseline per-seed test accuracy
#: (None: as the study scored them)
FORMS = {
    "as run": None,
    "remedy recommended": ((0.9700, 0.95296), (0.9400, 0.9237)),
    "remedy worse on test": ((0.9011, 0.9100), (0.9400, 0.9537)),
}


def pct(v: float) -> str:
    return f"{round(100 * v, 1) + 0.0:.1f}"


def pts(v: float) -> str:
    return f"{100 * (0.0 if abs(v) < 1e-9 else v):+.1f}"


def spread(values: list[float]) -> str:
    if len(values) < 2:
        return pct(values[0])
    return f"{pct(statistics.fmean(values))} ± {pct(statistics.pstdev(values))}"


def words(value: str) -> str:
    return value.replace("_", " ")


@dataclass(frozen=True)
class T:
    """A seed-paired difference recomputed: mean, 95 % t interval, per seed."""

    mean: float
    low: float
    high: float
    per_seed: tuple[float, ...]

    @classmethod
    def of(cls, a: list[float], b: list[float]) -> T:
        d = [x - y for x, y in zip(a, b, strict=True)]
        mean, n = statistics.fmean(d), len(d)
        half = stats.t.ppf(0.975, n - 1) * statistics.stdev(d) / math.sqrt(n)
        return cls(mean, max(mean - half, -1.0), min(mean + half, 1.0), tuple(d))

    @property
    def shown(self) -> str:
        return f"[{pts(self.low)}, {pts(self.high)}]"

    @property
    def reading(self) -> str:
        if all(abs(x) < 1e-12 for x in self.per_seed):
            return "no change"
        if max(self.per_seed) - min(self.per_seed) < 1e-9:
            return "the same difference on every seed"
        if self.low <= 0 <= self.high:
            return "within noise"
        return "better" if self.mean > 0 else "worse"


def apart(high: float, low: float, diff: float) -> str | None:
    """What the two accuracies as printed subtract to, where that is not ``diff`` printed."""
    shown = round(float(pct(high)) - float(pct(low)), 1) + 0.0
    return None if f"{shown:+.1f}" == pts(diff) else f"{shown:.1f}"


@dataclass(frozen=True)
class Outputs:
    """A study's three outputs: ``results.json`` read, the report parsed, the summary's
    lines (printed 400 columns wide, so no line or table cell wraps)."""

    data: dict[str, Any]
    page: Page
    cli: list[str]

    @property
    def flat(self) -> str:
        """The summary's text, its runs of white space made one space."""
        return " ".join(" ".join(self.cli).split())

    def cli_row(self, remedy: str, name: str) -> list[str]:
        """The cells of the summary table's row of ``remedy`` whose setting is ``name``
        (which the table shortens to 40 characters)."""
        for line in self.cli:
            cells = [c.strip() for c in line.split("│")[1:-1]]
            if len(cells) > 3 and cells[1] == remedy and name.startswith(cells[2].rstrip("…")):
                return cells
        raise AssertionError(f"no summary row of {remedy}, {name}")


def agrees(text: str, t: T) -> bool:
    """Whether a row's reading (the report's or the summary's shorter one) says what
    the recomputed interval ``t`` shows."""
    if t.reading == "within noise" and text.startswith("selected"):
        return "includes 0" in text  # selected on the 2-standard-error rule
    if t.reading == "the same difference on every seed":
        return t.reading in text
    return (
        text == t.reading
        or text.startswith(f"{t.reading};")
        or text.startswith(f"{t.reading}, though not selected")
    )


def variant_rows(d: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(role, variant) of every row the remedies table compares with the baseline."""
    remedies = [(o["remedy"], o["chosen"]) for o in d["remedies"]]
    return remedies + [(c["stage"], c) for c in d["combinations"]]


def study_outputs(tiny_study: Any, form: str, tmp_path_factory: Any) -> Outputs:
    """The three outputs of conftest's ``tiny_study`` in the ``form`` of :data:`FORMS`."""
    from nooverfit.cli import study_summary
    from nooverfit.report import render
    from nooverfit.studies.evidence import evidence
    from nooverfit.studies.result import TestScore

    result, out = tiny_study
    scores = FORMS[form]
    if scores is not None:
        best = evidence(result).remedies[0].name
        chosen = next(o.chosen for o in result.remedies if o.chosen.name == best)
        test = {
            role: TestScore(statistics.fmean(s), statistics.pstdev(s), 0.2, s)
            for role, s in zip(("recommended", "baseline"), scores, strict=True)
        }
        result = dataclasses.replace(result, recommended=chosen, test=test)
        out = tmp_path_factory.mktemp("agreement")
        result.save(out / "results.json")
        html = render(result, {})
    else:
        html = (out / "report.html").read_text(encoding="utf-8")
    wide = Console(width=400, color_system=None)
    with MonkeyPatch.context() as mp:
        mp.setattr(study_summary, "console", wide)
        with wide.capture() as captured:
            study_summary.print_summary(result)
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return Outputs(data, Page(html), captured.get().splitlines())
