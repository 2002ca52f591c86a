import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from conftest import TINY
from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.models import build_model
from nooverfit.studies import study
from nooverfit.studies.select import improves
from nooverfit.train import evaluate


def _without_timing(results: dict) -> dict:
    results = dict(results)
    results["settings"] = {k: v for k, v in results["settings"].items() if k != "seconds"}
    results.pop("costs", None)  # this session's training: a resumed study trains fewer runs
    for run in results["runs"].values():
        run["history"]["extras"].pop("seconds", None)
    return results


def test_study_writes_every_output(tiny_study):
    result, out = tiny_study
    for name in ("results.json", "report.html", "best_model.pt"):
        assert (out / name).is_file()
    assert len(list((out / "histories").glob("*.csv"))) == len(result.runs)
    # review i40 #9: the learning curve's runs are named by their training set, so the
    # study's own baseline is the one "baseline" file per seed
    for seed in result.settings.seeds:
        assert len(list((out / "histories").glob(f"baseline__seed{seed}__*.csv"))) == 1
    assert list((out / "histories").glob("baseline_5_per_class__seed0__*.csv"))
    assert {p.stem for p in (out / "plots").glob("*.png")} >= {
        "curves",
        "validation_weight_decay",
        "validation_dropout",
        "validation_label_smoothing",
        "validation_ensemble_size",
        "learning_curve",
        "remedies",
    }
    data = json.loads((out / "results.json").read_text())
    assert data["schema_version"] == 2
    assert all(run["diagnosis"]["verdict"] for run in data["runs"].values())


def test_the_learning_curve_follows_the_recommendation_and_the_report_says_so(tiny_study):
    from nooverfit.report import doubling, pct

    result, out = tiny_study
    series = list(result.learning.series)
    rec = result.recommended
    scratch = [*result.variants, *result.combinations]
    assert series[0] == "baseline"
    if rec.stage != "ensemble" and rec in scratch:
        assert series[1:] == ([] if rec.name == "baseline" else ["recommended"])
    else:  # an ensemble: its best single network's curve, named as such
        assert series[1:] in ([], ["best single network"])
    said = doubling(result)
    if said is not None:
        assert said["size"] == 20  # twice the study's 10 per class, not the curve's largest
        html = (out / "report.html").read_text()
        text = html.split('id="doubling">')[1].split("</span>")[0]
        assert "(20 per class instead of 10)" in text
        if said["measured"] is not None:  # the curve reaches 20: measured, fit beside it
            # (read between two measured sizes: said so, not "measured")
            how = "<b>measured</b>"
            if len(said["around"]) == 2:
                how = "<b>read between measured points</b>"
            change = f"by {100 * said['measured']:+.1f} points on the learning curve, {how}"
            assert change in text
            # the gain adds up with the two accuracies shown beside it
            shown = float(pct(said["high"])) - float(pct(said["low"]))
            assert f"({pct(said['low'])}% → {pct(said['high'])}%" in text
            assert f"{shown:+.1f}" == f"{100 * said['measured']:+.1f}"
            assert f"power-law fit says {100 * said['gain']:+.1f}" in text
        else:
            assert f"by about {100 * said['gain']:+.1f} points:" in text
            assert "<b>extrapolation</b>" in text


def test_study_records_disjoint_split_indices(tiny_study):
    _, out = tiny_study
    y = load_dataset("digits").y
    for split in json.loads((out / "results.json").read_text())["splits"]:
        train, val, test = (set(split[k]) for k in ("train", "val", "test"))
        assert not (train & val or train & test or val & test)
        assert set(split["train"]) <= set(split["pool"])
        assert np.bincount(y[split["train"]]).tolist() == [10] * 10


def test_study_selects_on_validation_only(tiny_study):
    result, _ = tiny_study
    candidates = [result.baseline, *result.combinations]
    for r in result.remedies:
        candidates.append(r.chosen)
    # from the simplest up: whatever replaced the baseline beat it beyond the seeds' noise
    rec = result.recommended
    assert rec in candidates or rec.stage == "ensemble"
    if rec.name != "baseline":
        assert improves(rec.score, result.baseline.score)
    assert rec.score.val_accuracy >= result.baseline.score.val_accuracy
    assert set(result.test) == {"baseline", "recommended"}


def test_study_test_score_matches_the_saved_best_model(tiny_study):
    result, out = tiny_study
    state = torch.load(out / "best_model.pt", weights_only=True)
    config = result.recommended.config.replace(seed=0)
    dataset = load_dataset("digits")
    model = build_model(config, dataset.in_shape, dataset.num_classes)
    model.load_state_dict(state)
    test = result.splits[0].test
    x = torch.as_tensor(dataset.x[test])
    y = torch.as_tensor(dataset.y[test])
    assert evaluate(model, x, y).accuracy == pytest.approx(result.test["recommended"].per_seed[0])


def test_study_resumes_to_the_same_results(tmp_path, tiny_study):
    _, reference = tiny_study
    calls = []

    def interrupt(label, done, total):
        if label.startswith("stage: "):
            return  # a stage starts; no run finished
        calls.append(done)
        if len(calls) == 7:
            raise KeyboardInterrupt

    kwargs = dict(width=16, train_per_class=10, budget=TINY, seeds=2, engine="sequential")
    with pytest.raises(KeyboardInterrupt):
        study("digits", out=tmp_path, progress=interrupt, **kwargs)
    from nooverfit.studies.store import NOT_RUNS

    stored = [p for p in (tmp_path / "runs").glob("*.json") if p.name not in NOT_RUNS]
    assert len(stored) == 7  # (besides identity.json and threads.json)
    resumed = study("digits", out=tmp_path, **kwargs)
    resumed.save(tmp_path / "results.json")
    a = _without_timing(json.loads((reference / "results.json").read_text()))
    b = _without_timing(json.loads((tmp_path / "results.json").read_text()))
    assert a == b


def test_writing_a_study_removes_the_runs_and_plots_another_study_left(tmp_path, tiny_study):
    import shutil

    from nooverfit.study_files import write_study

    result, out = tiny_study
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    old = copy / "plots" / "validation_old_knob.png"  # a figure this study does not draw
    stray = [copy / "histories" / "baseline__seed0__0123456789ab.csv", old]
    for path in stray:
        path.write_text("from another study")
    (copy / "notes.txt").write_text("the user's")
    write_study(result, copy)
    assert not any(path.exists() for path in stray)
    assert (copy / "notes.txt").read_text() == "the user's"
    assert len(list((copy / "histories").glob("*.csv"))) == len(result.runs)


def test_writing_a_study_again_keeps_the_plots_tune_wrote_in_its_folder(tmp_path, tiny_study):
    """``nooverfit tune --out`` into a study's folder writes plots/history.png and
    importance.png; the study written again removed them with every PNG it had not drawn.
    It removes only its own figures' names; those cover every figure it draws."""
    import fnmatch
    import shutil

    from nooverfit.study_files import write_study

    result, out = tiny_study
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    tunes = [copy / "plots" / "history.png", copy / "plots" / "importance.png"]
    for path in tunes:
        path.write_text("tune's")
    write_study(result, copy)
    assert all(path.read_text() == "tune's" for path in tunes)
    from nooverfit.study_files import STUDY_PLOTS

    drawn = [p.name for p in (out / "plots").glob("*.png")]
    assert len(drawn) >= 3
    assert all(any(fnmatch.fnmatch(name, pattern) for pattern in STUDY_PLOTS) for name in drawn)


def test_cli_study_unknown_data_set_is_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["study", "--data", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown data set" in result.output
    assert "Traceback" not in result.output


def test_cli_study_runs_and_summarizes(tmp_path):
    args = [
        "study",
        "--epochs",
        "2",
        "--seeds",
        "1",
        "--width",
        "8",
        "--train-per-class",
        "5",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Recommended:" in result.output
    assert (tmp_path / "report.html").is_file()


def test_cli_study_passes_classes_and_source_to_the_study(tmp_path):
    from nooverfit.config import RunConfig
    from nooverfit.transfer.pretrain import class_subset, pretrain

    source = pretrain(class_subset(load_dataset("digits"), range(5)), RunConfig(width=8, epochs=1))
    source.save(tmp_path / "source.pt")
    base = ["study", "--epochs", "2", "--seeds", "1", "--width", "8", "--train-per-class", "5"]
    out = tmp_path / "study"
    args = [*base, "--classes", "5-9", "--source", str(tmp_path / "source.pt"), "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text())
    assert saved["settings"]["classes"] == ["5", "6", "7", "8", "9"]
    assert "transfer" in [r["remedy"] for r in saved["remedies"]]
    for bad, expected in (
        (["--classes", "x"], "classes must look like"),
        (["--source", str(tmp_path / "missing.pt")], "does not exist"),
    ):
        result = CliRunner().invoke(app, [*base, *bad, "--out", str(tmp_path / "bad")])
        assert result.exit_code == 2 and expected in result.output


def test_study_compares_transfer_strategies_from_a_source(tmp_path):
    from conftest import TINY as budget
    from nooverfit.config import RunConfig
    from nooverfit.transfer.pretrain import class_subset, pretrain

    source = pretrain(
        class_subset(load_dataset("digits"), range(5)), RunConfig(width=16, epochs=3)
    )
    source.save(tmp_path / "source.pt")
    result = study(
        "digits",
        classes="5-9",
        width=16,
        train_per_class=5,
        budget=budget,
        seeds=1,
        source=str(tmp_path / "source.pt"),
        learning_curves=False,
    )
    (transfer,) = [r for r in result.remedies if r.remedy == "transfer"]
    assert transfer.chosen.name.startswith("transfer:")
    assert result.settings.classes == ("5", "6", "7", "8", "9")
    runs = [r for r in result.runs.values() if r.config.label.startswith("transfer:")]
    assert {r.config.label for r in runs} == {
        "transfer:head",
        "transfer:io",
        "transfer:full",
        "transfer:gradual",
    }
    assert 0.0 <= result.test["recommended"].accuracy <= 1.0


def test_study_reports_the_shortcut_check_on_synthesized_data(tmp_path, tiny_study):
    from nooverfit.data.keywords import keyword_probes
    from nooverfit.study_files import write_study

    data = load_dataset("keywords:leaky", n_per_class=20)
    result = study(data, width=8, train_per_class=5, budget=TINY, seeds=1, learning_curves=False)
    checks = result.extras["shortcut"]
    assert set(checks) == {"baseline", "recommended"}
    # the recommended network's check, redone by hand on the saved weights
    if result.recommended.stage == "ensemble":  # one seed: any gain on validation counts
        from nooverfit.studies.ensemble import Ensemble

        members = [
            build_model(RunConfig.from_dict(c), data.in_shape, data.num_classes, kind="audio")
            for c in result.extras["ensemble"]["configs"]
        ]
        model = Ensemble(members)
    else:
        model = build_model(
            result.recommended.config, data.in_shape, data.num_classes, kind="audio"
        )
    model.load_state_dict(result.best_state)
    model.eval()
    probes = keyword_probes(data, seed=0)
    assert probes is not None
    assert checks["recommended"] == probes.check(model, seed=0).to_dict()
    write_study(result, tmp_path)
    assert (
        "Shortcut check: did the network learn the noise?"
        in (tmp_path / "report.html").read_text()
    )
    assert "shortcut" not in tiny_study[0].extras  # digits is not synthesized


def test_study_runs_a_users_module_factory_on_arrays_from_a_loader():
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from conftest import TINY as budget
    from nooverfit.data import Dataset

    digits = load_dataset("digits")
    loader = DataLoader(
        TensorDataset(torch.as_tensor(digits.x), torch.as_tensor(digits.y)), batch_size=256
    )
    dataset = Dataset.from_loader(loader, name="my digits")
    assert dataset.kind == "image" and len(dataset) == len(digits)
    built = []

    def factory(config):
        built.append(config)
        layers = [nn.Flatten(), nn.Linear(64, config.width), nn.ReLU()]
        if config.dropout:
            layers.append(nn.Dropout(config.dropout))
        return nn.Sequential(*layers, nn.Linear(config.width, 10))

    import dataclasses

    result = study(
        dataset,
        width=32,
        train_per_class=5,
        seeds=1,
        model_factory=factory,
        budget=dataclasses.replace(budget, epochs=100),
        learning_curves=False,
    )
    assert result.settings.model == "custom" and result.settings.engine == "fused"
    assert any(c.dropout == 0.3 for c in built)
    assert {r.engine for r in result.runs.values()} == {"fused"}  # through torch.func
    assert 0.5 < result.test["recommended"].accuracy <= 1.0


@pytest.mark.slow
def test_cli_study_killed_mid_run_resumes_to_the_same_results(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}
    args = [
        "--epochs",
        "3",
        "--seeds",
        "1",
        "--width",
        "8",
        "--train-per-class",
        "5",
        "--engine",
        "sequential",
    ]

    def cli(out):
        return [sys.executable, "-m", "nooverfit", "study", *args, "--out", str(out)]

    subprocess.run(cli(tmp_path / "whole"), env=env, check=True, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        cli(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list((killed / "runs").glob("*.json"))) < 5:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "results.json").exists()
    for path in (killed / "runs").glob("*.json"):  # atomic writes: no torn run files
        json.loads(path.read_text())
    subprocess.run(cli(killed), env=env, check=True, capture_output=True)
    a = _without_timing(json.loads((tmp_path / "whole" / "results.json").read_text()))
    b = _without_timing(json.loads((killed / "results.json").read_text()))
    assert a == b


def test_the_learning_curve_names_the_best_single_network_it_draws(monkeypatch):
    """Review i134: under an ensemble recommendation the learning curve draws "the best
    single network" trained from scratch, which neither the figure nor the report named."""
    import matplotlib.pyplot as plt

    import nooverfit.studies.stages as stages
    from nooverfit.plots.study import plot_learning_curve
    from nooverfit.report import doubling
    from nooverfit.report_captions import captions

    monkeypatch.setattr(stages, "pick_ensemble", lambda scores, choice: 0)  # an ensemble
    result = study("digits", width=16, train_per_class=10, budget=TINY, seeds=2, device="cpu")
    assert result.recommended.stage == "ensemble"
    # the most accurate on validation of the networks trained from scratch, then the
    # lowest validation loss (select.best), by hand
    scratch = [v for v in [*result.variants, *result.combinations] if v.stage != "ensemble"]
    top = max(scratch, key=lambda v: (v.score.val_accuracy, -v.score.val_loss))
    assert list(result.learning.series) == ["baseline", "best single network"]
    assert result.learning.names == {"best single network": top.name}
    assert result.to_dict()["learning"]["names"] == {"best single network": top.name}
    said = doubling(result)
    assert said is not None
    assert said["what"] == f"the best single network trained from scratch ({top.name})"
    assert (
        f"The best single network is {top.name}, the most accurate"
        in (captions(result)["learning_curve"])
    )
    fig = plot_learning_curve(result.learning)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    plt.close(fig)
    assert f"best single network ({top.name}): validation (mean)" in labels
    assert "baseline: validation (mean)" in labels


def test_results_json_holds_the_learning_curves_names_only_where_one_is_needed(tiny_study):
    # a study recommending the baseline draws its curve alone: results.json as before
    result, _ = tiny_study
    assert list(result.learning.series) == ["baseline"] and result.learning.names == {}
    learning = result.to_dict()["learning"]
    assert set(learning) == {"sizes", "series", "train", "fits"}
