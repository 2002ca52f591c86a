import json
import re
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.studies.store import NOT_RUNS

ARGS = ["study", "--train-per-class", "5", "--width", "8", "--seeds", "2", "--epochs", "2"]


def test_cli_study_prints_stage_lines_paired_figures_json_or_nothing(tmp_path):
    out = tmp_path / "study"
    plain = CliRunner().invoke(app, [*ARGS, "--out", str(out)])
    assert plain.exit_code == 0, plain.output
    # Without a terminal: one plain line per finished stage, no bar.
    lines = [line for line in plain.output.splitlines() if line.startswith("study: ")]
    starts = [line.split("next: ")[1] for line in lines if "next: " in line]
    assert starts == [
        "baseline and remedies",
        "combination",
        "ensembles",
        "learning curve",
        "checks",
        "classic models",
    ]
    # The total is the plan's from the first line, before any run: an estimate till reached.
    assert lines[0].startswith("study: 0/~")
    _assert_honest(lines)
    assert lines[-1].endswith(" s") and " runs in " in lines[-1]
    assert "note: the study trained on" not in plain.output  # --train-per-class was given
    assert "Paired by seed" in plain.output or "recommendation is the baseline" in plain.output
    flat = " ".join(plain.output.split())  # the 80-column table wraps its headers
    assert "interval" in flat and "ranked by the paired difference" in flat
    assert "on the same test images (validation" in flat  # digits: images, not rows
    assert "on the same test images (per seed" in (out / "report.html").read_text()
    results = json.loads((out / "results.json").read_text())
    assert results["extras"]["command"] == "nooverfit " + " ".join(ARGS)  # --out left out
    assert results["extras"]["command"] in (out / "report.html").read_text()

    again = CliRunner().invoke(app, [*ARGS, "--out", str(out), "--json"])  # resumes
    assert again.exit_code == 0, again.output
    summary = json.loads(again.output)  # nothing but the JSON object on stdout
    assert set(summary) - {"evidence", "paths"} <= set(results)
    assert summary["recommended"] == results["recommended"]
    assert summary["evidence"]["test"]["candidate"] == results["test"]["recommended"]["per_seed"]
    assert summary["paths"]["report"].endswith("report.html")

    classic = results["extras"]["classic"]
    assert set(classic["models"]) == {"logistic", "svc", "forest", "boosting"}
    assert f"Classic model best on validation: {classic['best']}, test" in flat
    quiet = CliRunner().invoke(app, [*ARGS, "--out", str(out), "--quiet", "--no-classic"])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert "classic" not in json.loads((out / "results.json").read_text())["extras"]
    verbose = CliRunner().invoke(app, [*ARGS, "--out", str(out), "--verbose"])
    runs = [x for x in verbose.output.splitlines() if x.startswith("study: run ")]
    assert verbose.exit_code == 0 and len(runs) == results["settings"]["runs"]
    _assert_honest(verbose.output.splitlines())
    assert runs[-1].startswith(f"study: run {len(runs)}/{len(runs)} ")  # exact at the end


def _assert_honest(lines):
    """Each "done/total" count printed: done never falls, the total never rises, and a
    total below an earlier one, or above its done, is marked '~' as an estimate."""
    counts = [
        (int(m[1]), m[2] == "~", int(m[3]))
        for m in (re.match(r"(?:study: )?(?:run )?(\d+)/(~?)(\d+)", x) for x in lines)
        if m
    ]
    assert counts
    shown = counts[0][2]
    for (done, estimate, total), (before, _, _) in zip(counts, [counts[0], *counts], strict=False):
        assert done >= before and total <= shown and done <= total
        assert estimate == (done < total), (done, estimate, total)
        shown = total


#: ``(label, done, total)`` as the default digits study reports them (quick budget, three
#: seeds): 120 bounds the combination and the learning curve before they are planned.
REPORTED = [
    ("stage: baseline and remedies", 0, 120),
    *((f"l2 {d}", d, 120) for d in range(1, 76)),
    ("stage: combination", 75, 120),
    *(("dropout=0.1 + label smoothing=0.1", d, 120) for d in range(76, 85)),
    ("stage: ensembles", 84, 114),
    ("stage: learning curve", 84, 114),
    *(("baseline", d, 108) for d in range(85, 109)),
    ("stage: checks", 108, 108),
    ("stage: classic models", 108, 108),
]


@pytest.mark.parametrize("verbose", [False, True])
def test_progress_lines_mark_the_total_an_estimate_until_it_is_reached(monkeypatch, verbose):
    """The lines read 0/120, 75/120, 84/114 then 108/108: a total that shrank, unmarked."""
    from nooverfit.cli import study
    from nooverfit.cli._app import console

    monkeypatch.setattr(study, "_verbose", lambda: verbose)
    with console.capture() as captured, study._Lines() as show:
        for report in REPORTED:
            show(*report)
    lines = captured.get().splitlines()
    _assert_honest(lines)
    assert lines[0] == "study: 0/~120 runs after 0 s; next: baseline and remedies"
    assert "study: 84/~114 runs after 0 s; next: ensembles" in lines
    assert ("study: run 85/~108 baseline" in lines) == verbose
    assert len(lines) == 7 + 108 * verbose  # a line per stage and the last; one per run
    assert lines[-3:] == [
        "study: 108/108 runs after 0 s; next: checks",
        "study: 108/108 runs after 0 s; next: classic models",
        "study: 108 runs in 0 s",
    ]


def test_progress_bar_shows_the_lines_counts_and_the_stage_of_each_run(monkeypatch):
    from rich.console import Console

    from nooverfit.cli import study

    monkeypatch.setattr(study, "_verbose", lambda: False)
    bar, rows = study._Bar(), []
    for report in REPORTED:  # the bar is drawn (entered) only on a terminal
        bar(*report)
        shown = Console(width=200, color_system=None, record=True)
        shown.print(bar.progress.make_tasks_table(bar.progress.tasks))
        rows.append(" ".join(shown.export_text().split()))
    _assert_honest([row.split(" runs ")[0].split()[-1] for row in rows])
    assert "84/~120 runs" in rows[85] and rows[85].endswith(
        "combination: dropout=0.1 + label smoothing=0.1"
    )
    assert "84/~114 runs" in rows[86] and rows[86].endswith(" ensembles")
    assert "108/108 runs" in rows[-1] and bar.progress.tasks[0].percentage == 100


@pytest.mark.parametrize("mine", ["results.json", "plots/loss.png", "best_model.pt"])
def test_cli_study_refuses_an_out_holding_files_no_study_wrote(tmp_path, mine):
    # a project folder: its own results.json would be replaced, its plots pruned
    out = tmp_path / "project"
    (out / "plots").mkdir(parents=True)
    (out / mine).write_text("the user's own file")
    result = CliRunner().invoke(app, [*ARGS, "--out", str(out)])
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line == (
        f"error: --out {out} holds {mine}, which no nooverfit study wrote and the study "
        "would replace or remove; expected a new folder or a study's"
    )
    assert (out / mine).read_text() == "the user's own file"
    assert {p.name for p in out.iterdir()} == {"plots", mine.split("/")[0]}  # nothing new


def test_cli_study_writes_again_over_a_study_whose_runs_were_deleted(tmp_path):
    out = tmp_path / "study"
    assert CliRunner().invoke(app, [*ARGS, "--out", str(out)]).exit_code == 0
    shutil.rmtree(out / "runs")  # what the 'other settings' error advises
    again = CliRunner().invoke(app, [*ARGS, "--epochs", "3", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "results.json").read_text())["settings"]["epochs"] == 3


def test_cli_study_refuses_a_test_share_too_large_in_one_line(tmp_path):
    result = CliRunner().invoke(app, [*ARGS, "--test", "0.99", "--out", str(tmp_path / "s")])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: test=0.99, val=0.2 leave 4 of 1797")
    assert "groups" not in lines[0] and "least populated" not in lines[0]
    assert not (tmp_path / "s").exists()


def test_a_one_seed_study_shows_no_spread_and_no_interval_it_did_not_measure(tmp_path):
    """One seed has no standard deviation and no interval: the table and the report said
    "50.0 ± 0.0" (read as no spread measured), "1 seeds", and "the interval includes 0"
    beside "one seed: no interval"."""
    out = tmp_path / "study"
    one = [*ARGS[:6], "1", "--epochs", "2", "--no-classic", "--out", str(out)]
    result = CliRunner().invoke(app, one)
    assert result.exit_code == 0, result.output
    results = json.loads((out / "results.json").read_text())
    baseline = results["baseline"]["score"]["val_accuracy"]
    row = next(line for line in result.output.splitlines() if line.startswith("│   │ baseline"))
    assert row.split("│")[4].strip() == f"{100 * baseline:.1f}" and "±" not in result.output
    html = (out / "report.html").read_text()
    assert not re.search(r"\d ± \d|± std", html)  # (the techniques' "±10 %" stays)
    assert "1 seeds" not in html and "over 1 seed" not in html and "over seeds" not in html
    assert "1 seed, budget" in html and "on one seed: no standard deviation." in html
    cell = html.split('id="remedies"')[1].split(">baseline</td>")[1].split("</td>")[1]
    assert cell == f"<td>{100 * baseline:.1f}"
    if "Within noise:" in html:
        assert "one seed gives no interval" in html and "the interval includes 0" not in html


def test_the_summary_says_a_difference_is_of_the_unrounded_accuracies(tiny_study):
    """The digits study printed "test accuracy 96.1% vs baseline 93.2%" then "+3.0
    points", and "svc, test 93.5% ...; recommended − svc: +2.7 points": each difference is
    of the unrounded accuracies, which the summary did not say (96.1 − 93.2 gives 2.9)."""
    from _rounding import rounded_apart_study
    from nooverfit.cli._app import console
    from nooverfit.cli.study_summary import print_summary

    shown = rounded_apart_study(tiny_study[0])
    with console.capture() as captured:
        print_summary(shown)
    flat = " ".join(captured.get().split())
    assert "test accuracy 96.1% vs baseline 93.2%" in flat
    assert "+3.0 points" in flat
    assert "differences of the unrounded accuracies: 96.1 − 93.2 as rounded gives 2.9" in flat
    assert "recommended − svc: +2.7 points (differences of the unrounded accuracies: " in flat
    assert "96.1 − 93.5 as rounded gives 2.6)" in flat
    assert "− baseline: of the unrounded accuracies, so it can differ by 0.1" in flat


def test_the_default_subset_of_a_csv_is_said_with_what_it_left_out(tmp_path):
    """Left at its default, --train-per-class trains on 20 rows per class: the summary
    says how many of the training pool that is and how to study all of it."""
    rng = np.random.default_rng(0)
    # coarse features (whole numbers) that both classes share: the ceiling is said too
    rows = ["a,b,label"] + [
        f"{round(rng.normal() + k)},{round(rng.normal())},{'xy'[k]}"
        for k in (0, 1)
        for _ in range(100)
    ]
    result = _small_study(tmp_path, rows)
    pool = len(json.loads((tmp_path / "s" / "results.json").read_text())["splits"][0]["pool"])
    flat = " ".join(result.output.split())
    assert (
        f"note: the study trained on 20 rows per class, 40 of the {pool} rows in the training "
        "pool (the small-data default of --train-per-class); --train-per-class 0 studies the "
        "whole pool"
    ) in flat
    groups: dict[str, list[str]] = {}
    for row in rows[1:]:
        key, _, label = row.rpartition(",")
        groups.setdefault(key, []).append(label)
    best = sum(max(g.count("x"), g.count("y")) for g in groups.values())
    assert f"so no model of these features scores above {best / 2:.1f}% on this data set" in flat


def test_the_summary_prints_the_data_audits_warnings_and_notes(tmp_path):
    """A CSV numbered in class order: its row_id predicts the label, and the audit said
    so, with the missing cells it filled, in the report only; the printed summary gave the
    scores that identifier inflates without a word. It now prints both."""
    rng = np.random.default_rng(0)
    rows = ["row_id,a,label"] + [
        f"{i + 1},{'' if i % 10 == 3 else round(rng.normal(), 3)},{'xy'[i // 60]}"
        for i in range(120)
    ]
    result = _small_study(tmp_path, rows)
    flat = " ".join(result.output.split())
    audit = json.loads((tmp_path / "s" / "results.json").read_text())["extras"]["audit"]
    assert audit["notes"] == [
        "missing cells (of 120 rows): 'a' 12; filled with the median of each split's "
        "training rows and marked in the indicator column 'a (missing)'"
    ]
    assert f"note: {audit['notes'][0]}" in flat
    [warning] = audit["warnings"]
    assert warning.startswith("column 'row_id' looks like a row identifier (whole numbers 1 to")
    assert f"Warning: {warning}" in flat


def _small_study(tmp_path, rows: list[str]):
    """``nooverfit study`` of ``rows`` (a CSV with a ``label`` column) at one seed, two
    epochs and width 8, without the classic models, into ``tmp_path / "s"``."""
    data = tmp_path / "rows.csv"
    data.write_text("\n".join(rows) + "\n")
    args = ["study", "--data", f"csv:{data}", "--target", "label", "--width", "8"]
    args += ["--seeds", "1", "--epochs", "2", "--no-classic", "--out", str(tmp_path / "s")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("flags", [[], ["--json"]], ids=["summary", "json"])
def test_cli_study_computes_the_evidence_once(tiny_study, tmp_path, monkeypatch, flags):
    """The figures, the report and the summary each computed it (five times a run)."""
    import dataclasses

    import nooverfit.studies
    from _evidence_calls import count_evidence

    result = dataclasses.replace(tiny_study[0], extras=dict(tiny_study[0].extras))
    monkeypatch.setattr(nooverfit.studies, "study", lambda *args, **kwargs: result)
    calls = count_evidence(monkeypatch)
    done = CliRunner().invoke(app, [*ARGS, "--out", str(tmp_path / "s"), *flags])
    assert done.exit_code == 0, done.output
    assert len(calls) == 1
    assert (tmp_path / "s" / "report.html").exists()


def test_cli_study_rerun_says_it_is_complete_and_keeps_its_run_files(tmp_path):
    out = tmp_path / "study"
    args = [*ARGS, "--no-classic", "--out", str(out)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "read back" not in first.output  # a new folder: every run trained here
    runs = sorted((out / "runs").iterdir())

    def stamps():
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in runs}

    written, results = stamps(), json.loads((out / "results.json").read_text())
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    flat = " ".join(again.output.split())
    n = results["settings"]["runs"]
    assert f"the study in {out} is already complete: its {n} runs were read back" in flat
    assert stamps() == written  # no run file (nor seconds.json) written again
    rerun = json.loads((out / "results.json").read_text())
    for r in (rerun, results):
        r["settings"].pop("seconds")  # this session's tests and writing
    assert rerun == results

    # One run lost: its batch is trained again whole; the others are read back.
    lost = next(p for p in runs if p.suffix == ".json" and p.name not in NOT_RUNS)
    lost.unlink()
    resumed = CliRunner().invoke(app, args)
    assert resumed.exit_code == 0, resumed.output
    flat = " ".join(resumed.output.split())
    said = re.search(r"resumed the study in \S+: (\d+) of its (\d+) runs read back", flat)
    assert said and 0 < int(said[1]) < int(said[2]) == n, flat
    assert lost.is_file()
