"""The study report's sections: the seed-paired evidence and verdicts, the headline, the
likely causes, the audit's leakage line, a whole-group split and what each stage cost."""

import dataclasses
import re

from nooverfit.report import points
from nooverfit.studies.evidence import evidence


def test_points_keeps_the_sign_of_small_negatives():
    assert points(0.0123) == "+1.2"
    assert points(-0.0001) == "-0.0"
    assert points(float("nan")) == "n/a"


def test_report_shows_paired_differences_verdicts_code_and_command(tiny_study):
    result, out = tiny_study
    html = (out / "report.html").read_text()
    ev = evidence(result)
    for section in (
        "seed-verdicts",
        "measured-advice",
        "paired-test",
        "code-pytorch",
        "code-keras",
        "reproduce-command",
    ):
        assert f'id="{section}"' in html
    # Every seed's verdict, in the table.
    table = html.split('id="seed-verdicts"')[1].split("</table>")[0]
    assert len(re.findall(r"<tr><td>\d+</td>", table)) == len(ev.seeds)
    # The remedies table lists the remedies in the evidence's order.
    remedies = html.split('id="remedies"')[1].split("</table>")[0]
    positions = [remedies.index(f">{d.name}<") for d in ev.remedies]
    assert positions == sorted(positions)
    assert "95 % interval" in remedies and "std over" in html


def test_a_recommendation_on_weak_evidence_says_so_in_the_headline(tiny_study):
    """The folder study's headline said "Train batchnorm" although its validation
    interval against the baseline, [-27.0, +43.6], was within noise."""
    import dataclasses

    from nooverfit.report import render
    from nooverfit.studies.evidence_words import weakness

    result, _ = tiny_study
    chosen = next(o.chosen for o in result.remedies if o.chosen.stage != "ensemble")
    html = render(dataclasses.replace(result, recommended=chosen), {})
    why = weakness(evidence(dataclasses.replace(result, recommended=chosen)).validation, "images")
    assert why is not None  # a 2-seed tiny study: no remedy clears the 95 % interval
    headline = html.split('id="headline"')[1].split("</p>")[0]
    assert "Weak evidence:" in headline and why in headline
    assert "Weak evidence" not in render(result, {}).split('id="headline"')[1].split("</p>")[0]


def test_the_reports_causes_hold_the_audits_cause_as_results_json_does(tiny_study):
    import dataclasses

    import numpy as np

    from nooverfit.groups import group_gap, homogeneous_cause
    from nooverfit.report import render

    result, _ = tiny_study
    y = np.zeros(8, int)
    pred = np.array([0, 0, 0, 0, 0, 1, 1, 1])  # heard voices 4/4 right, unheard 1/4
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    gap = group_gap(pred, y, groups, heard={"a", "b"})
    audit = {**result.extras["audit"], "groups": dataclasses.asdict(gap)}
    heard = dataclasses.replace(result, extras={**result.extras, "audit": audit})
    cause = homogeneous_cause(gap, chance=0.1)
    assert cause is not None
    first = f"<b>Likely causes:</b></p><ul><li>{cause.reason[:40]}"
    assert first in render(heard, {}).replace("&#39;", "'")
    assert cause.reason[:40] not in render(result, {})


def test_the_leakage_line_says_which_split_a_duplicate_repeats(tiny_study):
    """Two test rows twinned with validation rows were reported as validation/test rows
    duplicating "a training one"."""

    from nooverfit.report import render

    result, _ = tiny_study
    audit = result.extras["audit"]

    def leak(index, match_split):
        return {
            "index": index,
            "split": "test",
            "match": 1,
            "match_split": match_split,
            "distance": 0.0,
            "exact": True,
        }

    def line(leaks):
        dups = {**audit["duplicates"], "leaks": leaks}
        extras = {**result.extras, "audit": {**audit, "duplicates": dups}}
        html = render(dataclasses.replace(result, extras=extras), {})
        found = re.search(r'<li id="audit-leaks">(.*?)</li>', html, re.S)
        assert found is not None
        return " ".join(found.group(1).split())

    both = line([leak(3, "val"), leak(4, "val"), leak(5, "train")])
    assert both.startswith("Leakage: 1 validation/test ")
    assert ", 2 test " in both and "a validation one" in both
    assert "a validation one" not in line([leak(5, "train")])


def test_a_split_by_whole_groups_is_said_in_the_report(tiny_study):
    from nooverfit.report import render

    result, _ = tiny_study
    assert 'id="whole-groups"' not in render(result, {})
    grouped = [dataclasses.replace(sp, whole_groups=True) for sp in result.splits]
    html = render(dataclasses.replace(result, splits=grouped), {})
    assert 'id="whole-groups"' in html and "never heard in training" in html


def test_the_cost_line_and_table_list_every_stage_that_took_time(tiny_study):
    from nooverfit.report import cost_line, render
    from nooverfit.studies.result import StageCost

    result, _ = tiny_study
    costs = (
        StageCost("baseline and remedies", 6, 600, 60, 40.0, {"completed": 6}, 10**12),
        StageCost("ensembles", 0, 0, 0, 12.4, {}),  # scores stored runs: time, no runs
        StageCost("checks", 0, 0, 0, 0.1, {}),  # a tenth of a second: left out
        StageCost("classic models", 0, 0, 0, 0.2, {}),
        StageCost("combination", 1, 1, 1, 3.0, {"completed": 1}, 75 * 10**9),  # "1 run"
    )
    shown = dataclasses.replace(result, costs=costs)
    line = cost_line(shown)
    assert "baseline and remedies 40 s (6 runs, 600 steps), ensembles 12 s, classic models" in line
    assert "combination 3 s (1 run, 1 step)" in line and "601 optimizer steps" in line
    assert "checks" not in line
    assert "25.0 GFLOP/s" in line  # training stages' FLOPs over their own seconds
    table = render(shown, {}).split('id="costs"')[1].split("</table>")[0]
    assert [row.split("</td>")[0] for row in table.split("<tr><td>")[1:]] == [
        "baseline and remedies",
        "ensembles",
        "classic models",
        "combination",
    ]


def test_the_classic_sentence_and_an_untrained_stages_rates_read_right(tiny_study):
    """The report read "beats it by 0.1 points(seed by seed" (the template's line end
    trimmed), and its cost table gave the classic models, which train no network, "0"
    steps/s and "0.0" GFLOP/s as if they had computed nothing: "—" now, as for no rate."""
    from nooverfit.report import render
    from nooverfit.studies.result import StageCost

    result, _ = tiny_study
    costs = (
        StageCost("baseline and remedies", 6, 600, 60, 40.0, {"completed": 6}, 10**12),
        StageCost("classic models", 0, 0, 0, 2.5, {}),
    )
    html = render(dataclasses.replace(result, costs=costs), {})
    verdict = re.search(r'<p id="classic-verdict">(.*?)</p>', html, re.S)
    assert verdict is not None
    text = re.sub(r"<[^>]+>", "", verdict.group(1))
    assert re.search(
        r"(beats it by|is ahead of it by|trails it by) \d+\.\d points \(seed by seed|ties it \(",
        text,
    )
    table = html.split('id="costs"')[1].split("</table>")[0]
    rows = {r.split("</td>")[0]: r for r in table.split("<tr><td>")[1:]}
    assert "<td>40.0</td><td>15</td><td>25.0</td>" in rows["baseline and remedies"]
    assert "<td>2.5</td><td>—</td><td>—</td>" in rows["classic models"]


def test_the_same_test_accuracy_on_every_seed_reads_no_change_not_within_noise(tiny_study):
    """A wine study's recommendation scored the baseline's test accuracy on all 3 seeds
    (+0.0, interval [+0.0, +0.0]): the terminal said "no change", the report "Within
    noise: ... more seeds (--seeds) narrow it", of an interval no seed count narrows."""
    from nooverfit.report import render
    from nooverfit.studies.result import TestScore

    result, _ = tiny_study
    chosen = next(o.chosen for o in result.remedies if o.chosen.stage != "ensemble")
    base = result.test["baseline"]
    same = dataclasses.replace(
        result,
        recommended=chosen,
        test={"baseline": base, "recommended": TestScore(**dataclasses.asdict(base))},
    )
    assert evidence(same).test.interval.reading == "no change"
    paired = render(same, {}).split('id="paired-test"')[1].split("</p>")[0]
    assert "<b>No change:</b> the same test accuracy as the baseline on every seed" in paired
    assert "Within noise" not in paired and "narrow it" not in paired


def test_a_difference_beside_rounded_accuracies_says_it_is_of_the_unrounded_ones(tiny_study):
    """A digits study's report read "test accuracy 96.1% vs the baseline's 93.2%" then
    "+3.0 points", and "svc scores 93.5% ... beats it by 2.7 points" under the network's
    96.1%: each difference is of the unrounded accuracies (96.148 - 93.185), which the
    report did not say, so a reader subtracting the figures shown found 2.9 and 2.6."""
    from _rounding import rounded_apart_study
    from nooverfit.report import render, rounded_apart

    assert rounded_apart(0.96148, 0.93185, 0.02963) == "2.9"
    assert rounded_apart(0.961, 0.932, 0.029) is None  # they add up: nothing to say
    shown = rounded_apart_study(tiny_study[0])
    html = render(shown, {})
    paired = re.sub(r"<[^>]+>", "", html.split('id="paired-test"')[1].split("</p>")[0])
    assert "+3.0 points" in paired
    assert "differences of the unrounded accuracies: 96.1 − 93.2 as rounded above gives 2.9" in (
        " ".join(paired.split())
    )
    verdict = re.sub(r"<[^>]+>", "", html.split('id="classic-verdict"')[1].split("</p>")[0])
    # ahead, not "beats": review i114, the seeds' interval includes 0
    assert "is ahead of it by 2.7 points" in verdict and "beats" not in verdict
    assert (
        "the 95 % interval of that difference, -1.6 to +6.9 points, includes 0: within noise"
        in (" ".join(verdict.split()))
    )
    assert "unrounded accuracies: 96.1 − 93.5 as rounded below gives 2.6" in verdict
    note = html.split('id="remedies"')[1].split("</p>")[0]
    assert "of the unrounded accuracies (so it can differ by 0.1" in note


def test_the_remedies_table_says_its_epochs_are_the_epochs_run(tiny_study):
    # the column "epochs" (the mean epochs trained: 79 of runs stopped at 60, 76 and 100)
    # stood under a note saying the figures are "at the epoch each run kept"
    from nooverfit.report import render
    from nooverfit.report_figures import study_pngs

    result, _ = tiny_study
    html = render(result, study_pngs(result))
    assert "<th>epochs run</th>" in html
    assert '"Epochs run" is the mean over seeds of the epochs each run trained' in html
    # "±" (numpy's std: divided by n) is not the deviation the t intervals use (n - 1)
    assert '"±" is the standard deviation over 2 seeds (of the 2 values, divided by 2;' in html


def test_a_study_under_half_a_second_is_not_said_to_take_0_s(tiny_study):
    """Review i114: a tuning report said "2 runs ... in 0 s" (0.49 s rounded down)."""
    import dataclasses

    from nooverfit.report import render

    result, _ = tiny_study
    quick = dataclasses.replace(
        result, settings=dataclasses.replace(result.settings, seconds=0.49)
    )
    text = " ".join(re.sub(r"<[^>]+>", "", render(quick, {})).split())
    assert " in under 1 s." in text and " in 0 s." not in text
    slow = dataclasses.replace(result, settings=dataclasses.replace(result.settings, seconds=7.6))
    assert " in 8 s." in " ".join(re.sub(r"<[^>]+>", "", render(slow, {})).split())


def test_the_report_embeds_the_figures_its_plot_files_hold(tiny_study):
    """The report's images are its plot files, byte for byte: one drawing of each figure
    serves both (it was drawn once for the file and again for the report)."""
    import base64
    import re

    _, out = tiny_study
    html = (out / "report.html").read_text(encoding="utf-8")
    embedded = {
        base64.b64decode(b) for b in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    }
    files = sorted((out / "plots").glob("*.png"))
    assert len(files) >= 4
    assert {f.read_bytes() for f in files} <= embedded


def test_the_selection_rule_reads_more_than_2_standard_errors_as_it_decides(tiny_study):
    """The remedies table's note said a remedy is selected at a seed-paired gain of "at
    least 2 standard errors", beside digits' weight decay=0.3 row (+0.7, +0.0, +0.7 points:
    exactly 2 standard errors) that was not selected; the rule asks for more than 2."""
    from nooverfit.report import render
    from nooverfit.report_captions import captions
    from nooverfit.studies.select import Score, improves

    # gains 1/128, 0, 1/128: mean 1/192, sd 1/(128 sqrt 3), se 1/384: exactly 2.0 SE
    base = Score(0.5, 0.0, 1.0, 1.0, 0.0, 0.0, 0.5, 10, 3, (0.5, 0.5, 0.5))
    at_two = dataclasses.replace(base, val_per_seed=(0.5 + 1 / 128, 0.5, 0.5 + 1 / 128))
    assert not improves(at_two, base)  # a gain of exactly 2 standard errors is not selected
    result, _ = tiny_study
    html = render(result, {})
    note = html.split('id="remedies"')[1].split("</table>")[1].split("</p>")[0]
    assert "more than 2 standard errors" in note and "at least 2" not in note
    size = captions(result)["validation_ensemble_size"]
    assert "by more than 2 standard errors" in size


def test_the_remedies_note_says_an_ensembles_epochs_run_are_its_networks_mean(tiny_study):
    """Review i134: an ensemble row's "epochs run" is the mean over its networks of each
    one's mean over seeds, where the note described a mean over seeds alone."""
    import html

    from nooverfit.report import ensemble_epochs, render

    result, _ = tiny_study
    ev = evidence(result)
    assert ev.ensembles  # the tiny study's ensemble row
    page = html.unescape(render(result, {}))
    note = page.split('id="remedies"')[1].split("</table>")[1].split("</p>")[0]
    said = "the epochs each run trained (where it stopped, not the epoch it kept); an "
    said += "ensemble's is the mean of that over its networks."
    assert said in note
    alone = dataclasses.replace(ev, ensembles=())
    assert ensemble_epochs(alone) == ""
    copies = dataclasses.replace(ev.ensembles[0], name="ensemble of 3 copies of dropout=0.3")
    assert ensemble_epochs(dataclasses.replace(ev, ensembles=(copies,))) == (
        "; an ensemble's is the mean of that over its networks (copies of a network given "
        "that network's)"
    )


def test_the_baselines_words_say_which_weights_its_run_kept(tiny_study):
    """Review i134: the digits report read "Validation was best at epoch 29 (the weights
    to keep)" beside a curves figure marking "kept epoch 59": the baseline, without early
    stopping, kept its last weights, which the report did not say."""
    import html

    from nooverfit.report import kept_weights, render

    result, _ = tiny_study
    first, second = result.baseline.runs
    assert kept_weights(result, first) == ""  # its 4 epochs' best is the last, kept
    runs = dict(result.runs)

    def best_at(key, epoch, **changes):
        record = runs[key]
        diagnosis = dataclasses.replace(record.diagnosis, best_epoch=epoch)
        history = dataclasses.replace(record.history, **changes)
        return dataclasses.replace(record, diagnosis=diagnosis, history=history)

    runs[first] = best_at(first, 1)  # epochs 0-3, the last kept
    runs[second] = best_at(second, 1, kept_epoch=2)
    stopped = runs[second].config.replace(early_stopping="patience:2")
    runs[second] = dataclasses.replace(runs[second], config=stopped)
    shown = dataclasses.replace(result, runs=runs)
    seeds = [runs[k].config.seed for k in (first, second)]
    assert kept_weights(shown, first) == (
        f"Trained without early stopping, seed {seeds[0]}'s run kept the weights of its last "
        "epoch, 3 (the curves figure's kept epoch); those of epoch 1, where validation was "
        "best, are what early stopping keeps."
    )
    assert kept_weights(shown, second) == (
        f"Seed {seeds[1]}'s run kept the weights of epoch 2; validation was best at epoch 1."
    )
    page = html.unescape(render(shown, {}))
    said = page.split('id="kept-weights">')[1].split("</span>")[0]
    assert said in (kept_weights(shown, first), kept_weights(shown, second))
    assert 'id="kept-weights"' not in render(result, {})


def test_a_render_and_a_written_study_compute_the_evidence_once(tiny_study, tmp_path, monkeypatch):
    """The remedies figure, its caption, the report's text and its weak-evidence line each
    computed it again (three times a written study)."""
    from _evidence_calls import count_evidence
    from nooverfit.report import render, write_report
    from nooverfit.study_files import write_study

    result, _ = tiny_study
    calls = count_evidence(monkeypatch)
    write_study(result, tmp_path / "study")
    assert len(calls) == 1
    write_report(result, tmp_path / "report.html")
    assert len(calls) == 2
    html = render(result, {})
    assert len(calls) == 3
    given = render(result, {}, ev=evidence(result))  # (this module's evidence: uncounted)
    assert len(calls) == 3 and given == html  # the caller's: not computed again
