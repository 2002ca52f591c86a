"""The numbers a user compares agree across a study's three outputs: ``results.json``, the
HTML report and the CLI summary; here the test accuracies, the seed-paired differences and
their intervals, each remedy's validation figures and the baseline's verdicts (the tables
of classic models, learning curve, time, audit and class scores: ``..._tables.py``). Each
figure is recomputed from ``results.json``'s raw values and looked up in the report by
element id and in the summary by its words (:mod:`_agreement`).

One tiny study (conftest's ``tiny_study``, two seeds) in three forms: as it ran (the
baseline recommended), with its best remedy recommended and test scores whose rounded
figures do not subtract to the differences printed, and with that remedy worse than the
baseline on test beyond the noise."""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter

import pytest

from _agreement import (
    FORMS,
    Outputs,
    T,
    agrees,
    apart,
    pct,
    pts,
    spread,
    study_outputs,
    variant_rows,
    words,
)
from _page import Page


@pytest.fixture(scope="module", params=list(FORMS))
def outputs(tiny_study, tmp_path_factory, request) -> Outputs:
    return study_outputs(tiny_study, request.param, tmp_path_factory)


def test_the_test_accuracies_agree(outputs):
    d, page, n = outputs.data, outputs.page, len(outputs.data["settings"]["seeds"])
    rec, base = d["test"]["recommended"], d["test"]["baseline"]
    for s in (rec, base):
        assert s["accuracy"] == pytest.approx(statistics.fmean(s["per_seed"]), abs=1e-12)
        assert s["accuracy_std"] == pytest.approx(statistics.pstdev(s["per_seed"]), abs=1e-12)
    assert page.text("test-recommended") == f"{pct(rec['accuracy'])}%"
    if d["recommended"]["name"] == d["baseline"]["name"]:  # the report's "Keep the baseline"
        assert "test-baseline" not in page
        said = f"Recommended: baseline — test accuracy {pct(rec['accuracy'])}% (mean over {n} "
    else:
        assert page.text("test-baseline") == f"{pct(base['accuracy'])}%"
        said = f"test accuracy {pct(rec['accuracy'])}% vs baseline {pct(base['accuracy'])}% ("
    assert said in outputs.flat
    network = page.rows("classic-models")[1]
    assert network[:4] == [
        "recommended network",
        pct(d["recommended"]["score"]["val_accuracy"]),
        spread(rec["per_seed"]) if n > 1 else pct(rec["accuracy"]),
        " ".join(pct(x) for x in rec["per_seed"]),
    ]
    balanced = {row[0]: row[1] for row in page.rows("balanced")[1:]}
    assert balanced == {"recommended": pct(rec["accuracy"]), "baseline": pct(base["accuracy"])}


def test_the_paired_test_difference_agrees(outputs):
    d, page = outputs.data, outputs.page
    rec, base = d["test"]["recommended"], d["test"]["baseline"]
    said = page.text("paired-test")
    if d["recommended"]["name"] == d["baseline"]["name"]:
        assert rec["per_seed"] == base["per_seed"]
        same = "No remedy beat the baseline on validation: the recommendation is the baseline"
        assert said.startswith(same) and same in outputs.flat
        return
    t = T.of(rec["per_seed"], base["per_seed"])
    per_seed = ", ".join(pts(x) for x in t.per_seed)
    assert f"recommended − baseline on test: {pts(t.mean)} points" in said
    assert f"(95 % t interval over {len(t.per_seed)} seeds: {t.shown});" in said
    assert f"per seed {per_seed}." in said
    gap = apart(rec["accuracy"], base["accuracy"], t.mean)
    rounded = f"{pct(rec['accuracy'])} − {pct(base['accuracy'])} as rounded"
    assert ("as rounded" in said) == (gap is not None)
    if gap is not None:
        assert (
            f"These are differences of the unrounded accuracies: {rounded} above gives {gap}."
            in said
        )
    unrounded = f"; differences of the unrounded accuracies: {rounded} gives {gap}" if gap else ""
    assert (
        f"recommended − baseline on test: {pts(t.mean)} points, 95 % interval {t.shown} "
        f"(per seed {per_seed}{unrounded}): {t.reading}"
    ) in outputs.flat
    ends = {
        "within noise": "Within noise: the interval includes 0",
        "better": "The gain is larger than the seed-to-seed noise.",
        "worse": "The drop is larger than the seed-to-seed noise",
    }
    for reading, sentence in ends.items():
        assert (sentence in said) == (reading == t.reading), said


def test_the_validation_figures_of_each_remedy_agree(outputs):
    d, page = outputs.data, outputs.page
    base = d["baseline"]["score"]
    table = {}
    for tr in page.row_elements("remedies")[1:]:
        cells = [c.text() for c in tr.children if not isinstance(c, str)]
        table[cells[2]] = (cells, tr.attrs.get("class", ""))
    cells, _ = table["none"]
    assert cells[1:4] == ["baseline", "none", spread(base["val_per_seed"])]
    assert cells[8] == pct(base["gap"])
    advice = page.text("measured-advice") + " " + page.text("measured-ensemble")
    for role, v in variant_rows(d):
        s = v["score"]
        assert s["val_accuracy"] == pytest.approx(statistics.fmean(s["val_per_seed"]), abs=1e-12)
        t = T.of(s["val_per_seed"], base["val_per_seed"])
        cells, shade = table[v["name"]]
        per_seed = " ".join(pts(x) for x in t.per_seed)
        assert cells[3:7] == [spread(s["val_per_seed"]), pts(t.mean), t.shown, per_seed]
        # the caption's promise: within 0.1 of the difference of the rounded columns
        shown = float(pct(s["val_accuracy"])) - float(pct(base["val_accuracy"]))
        assert abs(shown - float(pts(t.mean))) < 0.1 + 1e-9
        reading = cells[7].removeprefix("recommended; ")
        assert agrees(reading, t), (v["name"], reading)
        assert ("helped" in shade.split()) == (t.reading == "better")
        if role != "combination":  # (combinations are not in the measured advice)
            said = f"({v['name']}): {pts(t.mean)} points, 95 % interval {t.shown} — "
            assert said + reading.split("; not chosen")[0] in advice
        row = outputs.cli_row(words(role), v["name"])  # (combinations too, unranked)
        assert row[3:6] == [spread(s["val_per_seed"]), pts(t.mean), t.shown]
        assert agrees(row[6], t), (v["name"], row[6])
    # numbered: the remedies alone, best mean difference first, in both outputs
    alone = [v for _, v in variant_rows(d) if v["stage"] not in ("ensemble", "combination")]
    means = [T.of(v["score"]["val_per_seed"], base["val_per_seed"]).mean for v in alone]
    numbered = [cells for cells, _ in table.values() if cells[0]]
    assert [float(c[4]) for c in numbered] == sorted(float(pts(m)) for m in means)[::-1]
    cells = [[c.strip() for c in line.split("│")[1:3]] for line in outputs.cli if "│" in line]
    assert [c[1] for c in cells if c[0].isdigit()] == [c[1] for c in numbered]


def test_the_recommendations_validation_difference_agrees(outputs):
    d, page = outputs.data, outputs.page
    rec, base = d["recommended"]["score"], d["baseline"]["score"]
    rows = {r[2]: r for r in page.rows("remedies")[1:]}
    name = (
        "none" if d["recommended"]["name"] == d["baseline"]["name"] else d["recommended"]["name"]
    )
    assert rows[name][7].startswith("recommended")
    assert [r[2] for r in rows.values() if r[7].startswith("recommended")] == [name]
    if name == "none":
        assert "paired-validation" not in page
        return
    t = T.of(rec["val_per_seed"], base["val_per_seed"])
    assert page.text("paired-validation").startswith(
        "On validation, where it was selected (so this figure is optimistic): "
        f"{pts(t.mean)} points, 95 % interval {t.shown}."
    )
    assert rows[name][4:6] == [pts(t.mean), t.shown]


def test_the_candidates_passed_over_agree(outputs):
    d, page = outputs.data, outputs.page
    rows = {r[2]: r for r in page.rows("remedies")[1:]}
    rec = d["recommended"]["score"]["val_accuracy"]
    passed = {v["name"]: v for _, v in variant_rows(d) if "not chosen" in rows[v["name"]][7]}
    assert ("passed-over" in page) == bool(passed)
    for name, v in passed.items():
        assert v["score"]["val_accuracy"] > rec
        assert f"{name} ({pct(v['score']['val_accuracy'])}%)" in page.text("passed-over")


def test_the_baselines_verdicts_agree(outputs):
    d, page = outputs.data, outputs.page
    runs = [d["runs"][k] for k in d["baseline"]["runs"]]
    seeds = [r["config"]["seed"] for r in runs]
    assert seeds == d["settings"]["seeds"]
    verdicts = [r["diagnosis"]["verdict"] for r in runs]
    onsets = [r["diagnosis"]["onset_epoch"] for r in runs]
    base = d["baseline"]["score"]
    assert page.rows("seed-verdicts")[1:] == [
        [str(s), words(v), "—" if o is None else str(o), pct(x)]
        for s, v, o, x in zip(seeds, verdicts, onsets, base["val_per_seed"], strict=True)
    ]
    said = [
        f"seed {s}: {words(v)}" + ("" if o is None else f" from epoch {o}")
        for s, v, o in zip(seeds, verdicts, onsets, strict=True)
    ]
    counts = Counter(verdicts)
    top = next(v for v in verdicts if counts[v] == max(counts.values()))
    assert f"Baseline verdict: {words(top)} on " in outputs.flat
    assert " — " + ", ".join(said) in outputs.flat
    head = page.text("baseline-verdict")
    assert head.startswith(f"Verdict: {words(top)} on ")
    assert d["baseline"]["verdict"] == top  # the remedies table's baseline row
    assert page.rows("remedies")[1][10] == words(top)
    lead = seeds[verdicts.index(top)]
    assert d["baseline_diagnosis"]["verdict"] == top
    assert f"Seed {lead}, in words: {d['baseline_diagnosis']['explanation']}" in page.root.text()
    train, val, gap = base["accuracy"], base["val_accuracy"], base["gap"]
    assert gap == pytest.approx(train - val, abs=1e-12)
    figures = f"Train accuracy {pct(train)}% vs validation {pct(val)}% (gap {pct(gap)} points"
    assert figures in head
    off = apart(train, val, gap)
    assert ("as rounded" in head) == (off is not None)
    if off is not None:
        assert (
            f"of the unrounded accuracies: {pct(train)} − {pct(val)} as rounded gives {off}"
            in head
        )


def test_a_gap_the_rounded_accuracies_do_not_give_says_so(tiny_study):
    """The baseline's "Train accuracy 99.9% vs validation 92.9% (gap 7.1 points" would not
    subtract: the gap is of the unrounded means (0.99949 - 0.92851 = 0.07098)."""
    from nooverfit.report import render

    result, _ = tiny_study
    score = dataclasses.replace(
        result.baseline.score, accuracy=0.99949, val_accuracy=0.92851, gap=0.07098
    )
    shifted = dataclasses.replace(
        result, baseline=dataclasses.replace(result.baseline, score=score)
    )
    head = Page(render(shifted, {})).text("baseline-verdict")
    assert "Train accuracy 99.9% vs validation 92.9% (gap 7.1 points, of the unrounded " in head
    assert "accuracies: 99.9 − 92.9 as rounded gives 7.0; means over 2 seeds" in head
    assert "as rounded" not in Page(render(result, {})).text("baseline-verdict")


def test_the_summary_table_shows_the_combination_rows_the_report_shows(tiny_study):
    """The report's remedies table lists combinations, unranked, under the remedies; the
    CLI table left them out (i144). A combination put into the tiny study's result (its
    best remedy's variant, relabelled) is a row of both, with the same figures."""
    from rich.console import Console

    from nooverfit.cli import study_summary
    from nooverfit.report import render
    from nooverfit.studies.evidence import evidence

    result, _ = tiny_study
    chosen = result.remedies[0].chosen
    combo = dataclasses.replace(chosen, name=f"{chosen.name} + again", stage="combination")
    result = dataclasses.replace(result, combinations=(combo,))
    [d] = evidence(result).combinations
    wide = Console(width=400, color_system=None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(study_summary, "console", wide)
        with wide.capture() as captured:
            study_summary.print_summary(result)
    [line] = [x for x in captured.get().splitlines() if f"{chosen.name} + again" in x]
    cells = [c.strip() for c in line.split("│")[1:-1]]
    assert cells[:2] == ["", "combination"]  # unranked
    assert cells[4] == pts(d.interval.mean)
    rows = {r[2]: r for r in Page(render(result, {})).rows("remedies")[1:]}
    assert rows[combo.name][4] == cells[4]
