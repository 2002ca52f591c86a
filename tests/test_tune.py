import dataclasses
import json
import math
import os
import signal
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState
from typer.testing import CliRunner

from _optional import needs
from _postgres import postgres_url  # noqa: F401  (session fixture: a real PostgreSQL)
from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.tune import (
    OverfitGuard,
    Space,
    TuneSpec,
    open_study,
    start_workers,
    suggest_config,
    tune,
)
from nooverfit.tune.storage import storage_url, within_budget

TINY = Space(width=(16, 16), depth=(1, 1))


def tiny_spec(storage: str, **changes) -> TuneSpec:
    """Digits, width 16, a few epochs: a trial takes a fraction of a second."""
    options = {
        "storage": storage,
        "trials": 4,
        "base": RunConfig(epochs=5, train_per_class=10),
        "space": TINY,
        "heartbeat_interval": 1,
        "grace_period": 3,
        "poll": 0.2,
    }
    return TuneSpec(**{**options, **changes})


def slow_trials(storage: str, **changes) -> TuneSpec:
    """Trials of a second or two (full training pool, no stopping): time to kill a worker."""
    space = Space(width=(16, 16), depth=(1, 1), early_stopping=("patience:1000",))
    return tiny_spec(
        storage, base=RunConfig(epochs=15), space=space, pruner="none", guard=None, **changes
    )


def trials_of(spec: TuneSpec) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=spec.study_name, storage=spec.storage).get_trials()


def assert_exact_budget(spec: TuneSpec) -> list[optuna.trial.FrozenTrial]:
    trials = trials_of(spec)
    finished = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(finished) == spec.trials
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    assert len({t.number for t in trials}) == len(trials)
    return trials


def test_space_suggest_config_uses_trial_params():
    params = {
        "l2": 1e-3,
        "dropout": 0.25,
        "batchnorm": True,
        "augment": 0.1,
        "width": 64,
        "depth": 2,
        "early_stopping": "gl:5",
        "lr": 3e-3,
    }
    config = suggest_config(optuna.trial.FixedTrial(params), Space(), RunConfig(epochs=7))
    assert {k: getattr(config, k) for k in params} == params
    assert config.epochs == 7


def test_space_bad_range_is_value_error():
    with pytest.raises(ValueError, match="l2 range"):
        Space(l2=(0.0, 1.0))
    with pytest.raises(ValueError, match="width range"):
        Space(width=(64, 32))


def test_overfit_guard_fires_when_val_rises_while_train_falls():
    guard = OverfitGuard(10.0, start_from_epoch=0)
    val = [1.0, 0.8, 0.85, 0.89]  # GL at epoch 3 = 100 * (0.89 / 0.8 - 1) = 11.25 > 10
    train = [1.0, 0.7, 0.6, 0.5]
    fired = [guard.update(e, v, t) for e, (v, t) in enumerate(zip(val, train, strict=True))]
    assert fired == [False, False, False, True]
    assert guard.fired_epoch == 3


def test_overfit_guard_quiet_when_train_loss_rises_too():
    guard = OverfitGuard(10.0, start_from_epoch=0)
    val = [1.0, 0.8, 0.95, 1.1]  # val worse, but so is train: not overfitting
    train = [1.0, 0.7, 0.8, 0.9]
    assert not any(guard.update(e, v, t) for e, (v, t) in enumerate(zip(val, train, strict=True)))
    assert guard.fired_epoch is None


def test_storage_url_checks_scheme_and_makes_the_sqlite_folder(tmp_path):
    with pytest.raises(ValueError, match="--storage 'redis://x' not understood"):
        storage_url("redis://x")
    assert storage_url(f"sqlite:///{tmp_path}/a/t.db").endswith("a/t.db")
    assert (tmp_path / "a").is_dir()


@needs("psycopg")
def test_storage_url_picks_the_psycopg_driver():
    assert storage_url("postgresql://u@h:5/db") == "postgresql+psycopg://u@h:5/db"


def test_storage_url_without_a_postgresql_driver_names_the_extra(monkeypatch):
    for driver in ("psycopg", "psycopg2"):
        monkeypatch.setitem(sys.modules, driver, None)  # None in sys.modules: ImportError
    with pytest.raises(ImportError, match=r"nooverfit\[postgres\]"):
        storage_url("postgresql://u@h:5/db")


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_within_budget_admits_first_non_failed_trials(tmp_path):
    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=2)
    study = open_study(spec)
    for state in (TrialState.COMPLETE, TrialState.FAIL, TrialState.RUNNING, TrialState.RUNNING):
        trial = study.ask()
        if state is not TrialState.RUNNING:
            study.tell(trial, 0.5 if state is TrialState.COMPLETE else None, state=state)
    # numbers 0 (complete), 1 (failed), 2, 3 (running): 2 is the second non-failed trial
    assert [within_budget(study, n, 2) for n in range(4)] == [True, True, True, False]


def test_tune_sqlite_in_process_finishes_budget_and_tests_best_once(tmp_path):
    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=5)
    result = tune(spec, out=tmp_path / "out")
    assert_exact_budget(spec)
    best = max(
        (t for t in trials_of(spec) if t.state is TrialState.COMPLETE), key=lambda t: t.value
    )
    assert result.best_number == best.number
    # retraining the best config on the same split reproduces its validation accuracy
    assert result.val_accuracy == pytest.approx(best.value)
    assert 0 <= result.test.accuracy <= 1 and math.isfinite(result.test.loss)
    saved = json.loads((tmp_path / "out" / "best.json").read_text())
    assert saved["config"]["l2"] == pytest.approx(best.params["l2"])
    assert saved["best_trial"] == best.number
    assert (tmp_path / "out" / "plots" / "history.png").stat().st_size > 0
    assert (tmp_path / "out" / "best_history.csv").exists()
    # the study's report for the best trial: the tuned config against its baseline
    report = json.loads((tmp_path / "out" / "report" / "results.json").read_text())
    tuned = report["combinations"][0]
    assert tuned["config"]["l2"] == pytest.approx(best.params["l2"])
    assert report["baseline"]["config"]["l2"] == 0.0
    assert report["recommended"] in (tuned, report["baseline"])  # never worse than it
    assert report["test"]["tuned"]["accuracy"] == pytest.approx(result.test.accuracy)
    assert (tmp_path / "out" / "report" / "report.html").stat().st_size > 0


def test_tune_rerun_resumes_the_study(tmp_path):
    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=3)
    tune(spec)
    first = {t.number: t.params for t in trials_of(spec)}
    tune(dataclasses.replace(spec, trials=5))
    after = {t.number: t.params for t in trials_of(spec)}
    assert len([t for t in trials_of(spec) if t.state.is_finished()]) >= 5
    assert {n: after[n] for n in first} == first


def test_tune_out_of_another_study_is_refused_unless_overwrite_and_resumes(tmp_path):
    """tune --out replaced another study's best.json silently; its own study's is updated
    when it resumes."""
    from nooverfit.errors import OutputExists

    out = tmp_path / "out"
    spec = tiny_spec(f"sqlite:///{out}/tune.db", trials=2)
    tune(spec, out=out)
    before = (out / "best.json").read_bytes()
    other = dataclasses.replace(spec, study_name="other")
    with pytest.raises(OutputExists, match=r"best\.json holds another study's results"):
        tune(other, out=out)
    assert (out / "best.json").read_bytes() == before  # nothing lost
    assert "other" not in optuna.get_all_study_names(spec.storage)  # no trial run either
    tune(dataclasses.replace(spec, trials=3), out=out)  # a resume is no overwrite
    counts = json.loads((out / "best.json").read_text())["counts"]
    assert counts["COMPLETE"] + counts["PRUNED"] == 3
    tune(other, out=out, overwrite=True)
    assert json.loads((out / "best.json").read_text())["study_name"] == "other"


def test_cli_tune_out_of_another_study_is_one_line_exit_2(tmp_path):
    (tmp_path / "best.json").write_text('{"study_name": "old", "storage": "sqlite:///x.db"}')
    result = CliRunner().invoke(app, ["tune", "--trials", "1", "--out", str(tmp_path)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "another study's results" in lines[0] and "--overwrite" in lines[0]
    assert "old" in (tmp_path / "best.json").read_text()


def test_open_study_refuses_other_data(tmp_path):
    open_study(tiny_spec(f"sqlite:///{tmp_path}/t.db"))
    with pytest.raises(ValueError, match="use another --study-name"):
        open_study(tiny_spec(f"sqlite:///{tmp_path}/t.db", data="synthetic"))


def run_parallel(spec: TuneSpec, workers: int) -> None:
    processes = start_workers(spec, workers)
    for process in processes:
        process.join(timeout=240)
    assert [p.exitcode for p in processes] == [0] * workers


def kill_mid_trial(spec: TuneSpec, workers: int) -> None:
    """Start workers, SIGKILL the one running the first trial, let the others finish."""
    processes = start_workers(spec, workers)
    pids = {p.pid: p for p in processes}
    deadline, victim = time.monotonic() + 120, None
    while victim is None and time.monotonic() < deadline:
        for trial in trials_of(spec):
            pid = int(str(trial.user_attrs.get("worker", ":0")).rsplit(":", 1)[1])
            if trial.state is TrialState.RUNNING and pid in pids:
                victim = (trial.number, pids[pid])
                break
        time.sleep(0.1)
    assert victim is not None, "no trial started"
    number, process = victim
    os.kill(process.pid, signal.SIGKILL)
    for other in processes:
        other.join(timeout=240)
    assert process.exitcode == -signal.SIGKILL
    assert [p.exitcode for p in processes if p is not process] == [0] * (workers - 1)
    trials = assert_exact_budget(spec)
    killed = next(t for t in trials if t.number == number)
    assert killed.state is TrialState.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == number]
    assert len(retries) == 1
    assert retries[0].state is TrialState.COMPLETE
    assert retries[0].params == killed.params


@pytest.mark.slow
def test_workers_sqlite_two_processes_finish_exact_budget(tmp_path):
    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=6)
    run_parallel(spec, 2)
    trials = assert_exact_budget(spec)
    assert all(t.user_attrs.get("over_budget") for t in trials if t.state is TrialState.FAIL)


@pytest.mark.slow
def test_workers_sqlite_sigkill_trial_failed_and_retried(tmp_path):
    kill_mid_trial(slow_trials(f"sqlite:///{tmp_path}/t.db", trials=3), 2)


@pytest.mark.slow
def test_workers_postgres_three_processes_finish_exact_budget(postgres_url):  # noqa: F811
    spec = tiny_spec(postgres_url, trials=6, study_name="exact-budget")
    run_parallel(spec, 3)
    trials = assert_exact_budget(spec)
    assert len({t.user_attrs["worker"] for t in trials if "worker" in t.user_attrs}) >= 2


@pytest.mark.slow
def test_workers_postgres_sigkill_trial_failed_and_retried(postgres_url):  # noqa: F811
    kill_mid_trial(slow_trials(postgres_url, trials=4, study_name="sigkill"), 3)


@pytest.mark.slow
def test_cli_tune_writes_best_config_and_plots(tmp_path):
    out = tmp_path / "tune"
    args = ["tune", "--trials", "3", "--epochs", "3", "--train-per-class", "5"]
    result = CliRunner().invoke(app, [*args, "--max-width", "16", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "best.json").read_text())
    assert saved["config"]["width"] == 16
    assert saved["counts"]["COMPLETE"] + saved["counts"]["PRUNED"] == 3
    assert (out / "tune.db").exists()


def test_cli_tune_bad_storage_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["tune", "--storage", "redis://x", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "not understood" in result.output
    assert "Traceback" not in result.output


def test_cli_tune_unknown_data_prints_the_error_alone(tmp_path):
    # The "study ... with N worker(s)" banner waits for the study to exist in storage.
    result = CliRunner().invoke(app, ["tune", "--data", "nosuch", "--out", str(tmp_path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown data set 'nosuch'" in lines[0]


def test_open_study_refuses_another_search_space_naming_the_option(tmp_path):
    storage = f"sqlite:///{tmp_path}/t.db"
    open_study(tiny_spec(storage, space=Space(width=(16, 64), depth=(1, 3))))
    with pytest.raises(ValueError, match=r"--max-depth \(searched depth\): \[1, 3\] there"):
        open_study(tiny_spec(storage, space=Space(width=(16, 64), depth=(1, 1))))
    with pytest.raises(ValueError, match=r"--max-width \(searched width\)"):
        open_study(tiny_spec(storage, space=Space(width=(16, 16), depth=(1, 3))))
    open_study(tiny_spec(storage, space=Space(width=(16, 64), depth=(1, 3))))  # same: joins


def test_trial_lines_do_not_reprint_a_resumed_studys_trials(tmp_path):
    from nooverfit.cli._app import console
    from nooverfit.cli.tune import TrialLines

    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=2)
    tune(spec)
    spec = dataclasses.replace(spec, trials=3)
    lines = TrialLines(spec)
    study = optuna.load_study(study_name=spec.study_name, storage=spec.storage)
    assert not lines._started_here(study)  # nothing printed before this run's first trial
    with console.capture() as captured:
        lines._print_new(study)
    assert captured.get().splitlines() == [
        "tune: resuming study 'nooverfit': 2 trials finished before"
    ]
    tune(spec)
    with console.capture() as captured:
        lines._print_new(study)
    new = captured.get().splitlines()
    assert lines._started_here(study) and len(new) == 1
    assert new[0].startswith("tune: trial 2 ") and "3/3 finished" in new[0]


def test_tune_in_one_process_warns_of_few_groups_once(tmp_path, caplog):
    """Review i88 finding 6: ``tune`` loads the data, then its one worker (this process)
    loads it again; the few-groups warning was logged by both. Once per tune run."""
    lines = ["patient,a,b,label"]  # 3 patients: 1 each in training, validation and test
    lines += [f"p{i % 3},{i % 7 / 7:.3f},{i % 5 / 5:.3f},{(i // 3) % 2}" for i in range(60)]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    options = {"target": "label", "group": "patient", "split_by_group": True}
    spec = tiny_spec(
        f"sqlite:///{tmp_path}/s.db",
        trials=1,
        data=f"csv:{tmp_path / 'p.csv'}",
        data_options=options,
        base=RunConfig(epochs=2),
    )
    with caplog.at_level("WARNING", logger="nooverfit"):
        tune(spec)
    warned = [r.getMessage() for r in caplog.records if "keeps groups whole" in r.getMessage()]
    assert len(warned) == 1 and "1 group(s) in training" in warned[0]


def test_tune_report_carries_the_few_groups_warning_as_a_study_report_does(tmp_path):
    """The few-groups warning reached the log only: the tuning report and its
    results.json now carry it, as a study's do (``extras.split_warnings``)."""
    import numpy as np

    from nooverfit.data.group_split import POOL, TEST, VAL, few_groups

    lines = ["patient,a,b,label"]  # 3 patients: 1 each in training, validation and test
    lines += [f"p{i % 3},{i % 7 / 7:.3f},{i % 5 / 5:.3f},{(i // 3) % 2}" for i in range(60)]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    options = {"target": "label", "group": "patient", "split_by_group": True}
    spec = tiny_spec(
        f"sqlite:///{tmp_path}/s.db",
        trials=1,
        data=f"csv:{tmp_path / 'p.csv'}",
        data_options=options,
        base=RunConfig(epochs=2),
    )
    tune(spec, out=tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "report" / "results.json").read_text())
    split = saved["splits"][0]
    groups = np.array([line.split(",")[0] for line in lines[1:]])
    where = np.full(len(groups), -1)
    for part, name in ((POOL, "pool"), (VAL, "val"), (TEST, "test")):
        where[split[name]] = part
    expected = few_groups(where, groups)
    assert expected and saved["extras"]["split_warnings"] == [expected]
    report = (tmp_path / "out" / "report" / "report.html").read_text(encoding="utf-8")
    assert f'id="split-warning-1">Warning: {expected}.</p>' in report


def test_tune_resume_refuses_a_newer_nooverfits_best_json_unless_overwrite(tmp_path):
    """best.json records its format: a resume (the same study and storage) replaced a newer
    nooverfit's file; it is refused in one line, as every reader of nooverfit's own files
    refuses a newer format, before any trial."""
    from nooverfit.errors import NewerFile
    from nooverfit.tune.result import BEST_FORMAT

    out = tmp_path / "out"
    spec = tiny_spec(f"sqlite:///{out}/tune.db", trials=1)
    tune(spec, out=out)
    saved = json.loads((out / "best.json").read_text())
    assert (saved["format"], BEST_FORMAT) == (1, 1) and saved["nooverfit"]
    newer = json.dumps({**saved, "format": 2, "nooverfit": "9.0"})
    (out / "best.json").write_text(newer)
    expected = (
        r"best\.json was made by a newer nooverfit \(9\.0, format 2\); this one \(.+\) reads "
        r"format up to 1: upgrade nooverfit \(pip install -U nooverfit\) to load it; or "
        r"choose another --out or pass --overwrite$"
    )
    with pytest.raises(NewerFile, match=expected):
        tune(dataclasses.replace(spec, trials=2), out=out)
    assert (out / "best.json").read_text() == newer
    assert len(trials_of(spec)) == 1  # no trial run either
    tune(dataclasses.replace(spec, trials=2), out=out, overwrite=True)
    assert json.loads((out / "best.json").read_text())["format"] == 1


def test_cli_tune_summary_says_when_the_report_keeps_the_baseline(tmp_path):
    """The summary gave the tuned configuration's scores only, while its report, where the
    retrained baseline scored at least as well on validation, recommended the baseline:
    the terminal and the report disagreed on the answer. The summary now says so, with the
    report's numbers."""
    from nooverfit.cli._app import console
    from nooverfit.cli.tune import _summary

    out = tmp_path / "out"
    result = tune(tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=1), out=out)
    path = out / "report" / "results.json"
    saved = json.loads(path.read_text())
    for beat in (False, True):
        saved["extras"]["tuning"]["beat_baseline"] = beat
        path.write_text(json.dumps(saved))
        with console.capture() as captured:
            _summary(result, out)
        text = " ".join(captured.get().split())
        assert ("recommends keeping it" in text) == (not beat), text
        if not beat:
            val = 100 * saved["baseline"]["score"]["val_accuracy"]
            test = 100 * saved["test"]["baseline"]["accuracy"]
            assert (
                f"the baseline (no regularization), retrained on the same split, scored "
                f"{val:.1f}% validation accuracy, which the tuned configuration did not beat: "
                f"the report ({out}/report/report.html) recommends keeping it (test accuracy "
                f"{test:.1f}%)"
            ) in text
