"""A trial whose worker stopped between creating it and starting its heartbeat (Ctrl-C of
``nooverfit tune --workers 2``, which terminates the local workers) stayed running
forever: Optuna fails only trials whose heartbeat went stale, and one without any was
never stale, so the resumed study waited for it without end."""

import time

import pytest
from optuna.trial import TrialState

from _tune import tiny_spec, trials_of
from nooverfit.tune import open_study, work
from nooverfit.tune.storage import fail_unstarted_trials


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_fail_unstarted_trials_fails_only_old_trials_no_worker_started(tmp_path):
    study = open_study(tiny_spec(f"sqlite:///{tmp_path}/t.db"))
    ghost, live = study.ask(), study.ask()
    live.set_user_attr("worker", "host:1")  # what the objective records first thing
    assert fail_unstarted_trials(study, grace_period=60) == []  # too recent to tell
    time.sleep(0.1)
    assert fail_unstarted_trials(study, grace_period=0.05) == [ghost.number]
    states = {t.number: t.state for t in study.get_trials()}
    assert states == {ghost.number: TrialState.FAIL, live.number: TrialState.RUNNING}


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_resume_runs_past_a_trial_whose_worker_stopped_before_starting_it(tmp_path):
    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=1, timeout=30)
    open_study(spec).ask()  # created and claimed, never started: no heartbeat, no worker
    start = time.monotonic()
    assert work(spec) == 1  # it waited for the ghost until the timeout, finishing none
    assert time.monotonic() - start < 20  # the grace period is 3 s
    assert [t.state for t in trials_of(spec)] == [TrialState.FAIL, TrialState.COMPLETE]
