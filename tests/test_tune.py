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
from _tune import tiny_spec, trials_of
from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.tune import (
    CRITERIA,
    OverfitGuard,
    Space,
    TuneSpec,
    open_study,
    start_workers,
    suggest_config,
    tune,
    work,
)
from nooverfit.tune.storage import storage_url, within_budget


def slow_trials(storage: str, **changes) -> TuneSpec:
    """Trials of a second or two (full training pool, no stopping): time to kill a worker."""
    space = Space(width=(16, 16), depth=(1, 1), early_stopping=("patience:1000",))
    return tiny_spec(
        storage, base=RunConfig(epochs=15), space=space, pruner="none", guard=None, **changes
    )


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


@pytest.mark.parametrize("name", ["runs?b", "a%20b", "my dir #1", "x%3Fy?z=1"])
def test_default_storage_is_the_tune_db_inside_out_whatever_its_name(tmp_path, name):
    """``--out "runs?b"`` put the study in a file ``runs`` beside the folder (a URL's query
    starts at ``?``), shared by every ``--out "runs?..."``; ``--out "a%20b"`` could not be
    opened (SQLAlchemy decoded it to "a b", a folder that did not exist)."""
    from nooverfit.tune import default_storage, open_storage
    from nooverfit.tune.storage import sqlite_file

    out = tmp_path / name
    url = default_storage(out)
    assert sqlite_file(url) == out.resolve() / "tune.db"
    open_storage(url).engine.dispose()
    assert (out / "tune.db").is_file() and sorted(p.name for p in tmp_path.iterdir()) == [name]


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


def test_open_study_refuses_other_data(tmp_path):
    open_study(tiny_spec(f"sqlite:///{tmp_path}/t.db"))
    with pytest.raises(
        ValueError, match="to start a new study, use another --study-name and --out"
    ):
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


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("note.txt/tune.db", "note.txt is a file, not a folder"),
        ("folder", "folder is a folder; expected a file path"),
    ],
)
def test_cli_tune_sqlite_storage_where_no_file_can_be_is_one_line_exit_2(tmp_path, where, said):
    # i165: a database under a file raised FileExistsError in the worker (a traceback)
    (tmp_path / "note.txt").write_text("keep")
    (tmp_path / "folder").mkdir()
    storage = f"sqlite:///{tmp_path / where}"
    args = ["tune", "--storage", storage, "--trials", "1", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("error: --storage ")
    assert said in result.output
    assert (tmp_path / "note.txt").read_text() == "keep"


@pytest.mark.parametrize("found", ["results.json", "runs/identity.json"])
def test_cli_tune_refuses_a_study_folder_whatever_overwrite(tmp_path, found):
    # i165: tune wrote best.json, plots/history.png and report/ among a study's files,
    # after which the study's own rerun refused its folder (exit 0, then exit 2 there)
    (tmp_path / found).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / found).write_text("{}")
    for extra in ([], ["--overwrite"]):
        args = ["tune", "--trials", "1", "--out", str(tmp_path), *extra]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"error: --out {tmp_path} holds a nooverfit study ({found}); expected a new "
            "folder or an earlier tuning's (one command's results to a folder)\n"
        )
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted({*found.split("/")})


def test_cli_tune_refuses_a_train_runs_folder_whatever_overwrite(tmp_path):
    """s31 i168: tune --out into a train run's folder was accepted: best.json, plots/ and
    report/ (a study's best_model.pt) beside the run's model.pt. Refused as a study's
    folder is, before anything is written."""
    from nooverfit._io import TRAIN_MARKS
    from nooverfit.train_run import FILES

    assert set(TRAIN_MARKS) <= set(FILES)  # the run's own files
    out = tmp_path / "run"
    args = ["train", "--train-per-class", "5", "--epochs", "1", "--width", "8", "--out", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    for extra in ([], ["--overwrite"]):
        args = ["tune", "--trials", "1", "--out", str(out), *extra]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"error: --out {out} holds a nooverfit train run (model.pt, metrics.json); expected "
            "a new folder or an earlier tuning's (one command's results to a folder)\n"
        )
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


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


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_work_logs_no_traceback_for_a_trial_stopped_by_ctrl_c(tmp_path, monkeypatch):
    """Ctrl-C of `nooverfit tune` printed Optuna's 'Trial N failed ... KeyboardInterrupt()'
    with its traceback above the command's one line on what the interrupt kept."""
    import logging

    from nooverfit.tune.objective import Objective

    def stopped(self, trial):
        raise stop()

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    monkeypatch.setattr(Objective, "__call__", stopped)
    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=1)
    logging.getLogger("optuna").addHandler(handler)
    try:
        for stop in (KeyboardInterrupt, RuntimeError):  # a real error is still told
            with pytest.raises(stop):
                work(spec)
    finally:
        logging.getLogger("optuna").removeHandler(handler)
    failed = [r.getMessage() for r in records if " failed " in r.getMessage()]
    assert len(failed) == 2 and all(m.startswith("Trial 1 failed") for m in failed), failed
    assert [t.state for t in trials_of(spec)] == [TrialState.FAIL, TrialState.FAIL]


def test_cli_tune_model_the_data_cannot_feed_is_one_line_exit_2_and_makes_no_study(tmp_path):
    """Review i130: ``--model cnn`` on a CSV's rows failed in the first trial, printing
    Optuna's traceback, and left a study made with ``cnn`` in --out's tune.db, which then
    refused the corrected command ("made with other settings (base model: cnn there, mlp
    now)"). It is refused before the study is made."""
    rows = [f"{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(60)]
    (tmp_path / "t.csv").write_text("a,b,y\n" + "".join(rows))
    out = tmp_path / "tune"
    args = ["tune", "--data", f"csv:{tmp_path / 't.csv'}", "--target", "y", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--model", "cnn", "--epochs", "2"])
    assert result.exit_code == 2, result.output
    assert result.output == "error: cnn needs image inputs (C, H, W), got shape (2,)\n"
    assert not out.exists()


def test_space_offers_only_the_stopping_criteria_that_can_fire_within_the_epochs():
    # Review i134: over 5 epochs a trial could pick patience:10 (first stop after 11
    # epochs), up:3 (20) or pq:0.5 (5, the last: nothing saved), which only keep the best
    # epoch's weights as gl:5 does, and tune listed the importance of that choice
    space = Space()
    assert space.stopping_within(100) == CRITERIA
    assert space.stopping_within(12) == ("patience:10", "gl:5", "pq:0.5")
    assert space.stopping_within(6) == ("gl:5", "pq:0.5")
    assert space.stopping_within(5) == ("gl:5",)
    assert space.stopping_within(1) == ("gl:5",)  # none can: the first to fire, pinned
    assert Space(early_stopping=("up:3", "patience:10")).stopping_within(3) == ("patience:10",)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(8):
        config = suggest_config(study.ask(), space, RunConfig(epochs=6))
        assert config.early_stopping in ("gl:5", "pq:0.5")


@pytest.mark.slow  # a trial and the report's two runs: ~28 s on 2 shared cores
def test_cli_tune_ignore_leaves_out_the_column_its_error_names(tmp_path):
    """s33 i175: a CSV's identifier column was refused with "--ignore code leaves it out",
    but tune had no --ignore ("No such option"), so such a CSV could not be tuned at all.
    tune takes --ignore (and --groups, --split-by-group) as train and study do."""
    rows = [f"c{i},{i % 7},{(i * 3) % 5},{i % 2}\n" for i in range(80)]
    (tmp_path / "t.csv").write_text("code,a,b,y\n" + "".join(rows))
    out = tmp_path / "tune"
    args = ["tune", "--data", f"csv:{tmp_path / 't.csv'}", "--target", "y", "--out", str(out)]
    small = ["--trials", "1", "--epochs", "2", "--max-width", "16", "--max-depth", "1"]
    refused = CliRunner().invoke(app, [*args, *small])
    assert refused.exit_code == 2 and "--ignore code leaves it out" in refused.output
    result = CliRunner().invoke(app, [*args, *small, "--ignore", "code"])
    assert result.exit_code == 0, result.output
    card = json.loads((out / "report" / "best_model.json").read_text())
    assert [f["name"] for f in card["columns"]["features"]] == ["a", "b"]
    identity = optuna.load_study(study_name="nooverfit", storage=f"sqlite:///{out}/tune.db")
    assert identity.user_attrs["identity"]["data options"] == {"ignore": "code", "target": "y"}
