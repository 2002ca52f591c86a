import dataclasses
import json

import pytest

from nooverfit.config import RunConfig
from nooverfit.history import History
from nooverfit.models import network_for
from nooverfit.train import Scores, evaluate_test
from nooverfit.tune.report import MIN_TRIALS, tuned_comparison, tuning_summary
from nooverfit.tune.result import TrialSummary, TuneResult


def _result(config: RunConfig, complete: int) -> TuneResult:
    trials = tuple(TrialSummary(i, "COMPLETE", 0.5, None, "") for i in range(complete))
    history = History(
        epoch=(0,), loss=(1.0,), accuracy=(0.5,), val_loss=(1.0,), val_accuracy=(0.5,)
    )
    return TuneResult(
        study_name="s",
        storage="sqlite:///x.db",
        trials=trials,
        best_number=0,
        best_value=0.5,
        config=config,
        history=history,
        val_accuracy=0.5,
        test=Scores(1.0, 0.5),
        importances={"l2": 0.7, "dropout": 0.3},
    )


def test_tuning_summary_warns_when_importances_rest_on_few_trials():
    few = tuning_summary(_result(RunConfig(), 5))
    assert "5 complete trials" in few["importance_warning"]
    assert list(few["importances"]) == ["l2", "dropout"]  # largest first
    assert tuning_summary(_result(RunConfig(), MIN_TRIALS))["importance_warning"] is None


def test_tuning_summary_counts_one_complete_trial_in_the_singular():
    # optuna's fANOVA gives importances from a single complete trial too
    one = tuning_summary(_result(RunConfig(), 1))["importance_warning"]
    assert "rest on 1 complete trial (fewer than 30)" in one


def test_tuned_comparison_never_recommends_a_config_worse_than_the_baseline(data):
    base = RunConfig(width=16, epochs=4, train_per_class=10)
    crushed = base.replace(l2=50.0, label="huge lambda")  # cannot fit anything
    compared = tuned_comparison(_result(crushed, 3), data)
    tuned = compared.combinations[0]
    assert tuned.stage == "tuned" and tuned.config.l2 == 50.0
    assert tuned.score.val_accuracy < compared.baseline.score.val_accuracy
    assert compared.recommended == compared.baseline
    assert compared.test["recommended"] == compared.test["baseline"]
    assert compared.extras["tuning"]["beat_baseline"] is False
    # the saved model (report/best_model.*) is the recommended baseline, not the tuned trial
    assert compared.best_card["name"] == compared.baseline.name
    net = network_for(compared.baseline.config, data)
    net.load_state_dict(compared.best_state)
    scores = evaluate_test(net, data)
    assert scores.loss == pytest.approx(compared.test["baseline"].loss, rel=1e-6)
    assert scores.loss != pytest.approx(compared.test["tuned"].loss, rel=1e-6)


def test_tuning_report_is_titled_for_tuning_and_says_nothing_beat_it(data, tmp_path):
    from nooverfit.report import render
    from nooverfit.report_figures import study_pngs

    base = RunConfig(width=16, epochs=4, train_per_class=10)
    compared = tuned_comparison(_result(base.replace(l2=50.0), 3), data)
    html = render(compared, study_pngs(compared))
    assert "<title>nooverfit tuning" in html and "nooverfit study</h1>" not in html
    assert "No tuned configuration beat the baseline" in html
    assert 'id="importance-warning"' in html
    assert "nooverfit train --data digits" in html and "--l2 50" in html
    # the threads the tuned configuration was retrained with (s31 i168)
    assert f"--threads {compared.extras['threads']}</" in html
    assert "the best of 3 complete trials and its baseline" in html
    json.dumps(compared.to_dict())  # still a valid results.json
    tuning = compared.extras["tuning"]
    one = {**compared.extras, "tuning": {**tuning, "counts": {**tuning["counts"], "COMPLETE": 1}}}
    html = render(dataclasses.replace(compared, extras=one), {})
    assert "the best of 1 complete trial and its baseline" in html


def test_optuna_figures_log_no_warning_for_a_pinned_parameter(tmp_path, capsys):
    import optuna

    from nooverfit.tune.report import optuna_figures

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for i in range(4):
        trial = study.ask()
        trial.suggest_float("l2", 1e-3, 1.0, log=True)
        trial.suggest_float("augment", 0.0, 0.0)  # pinned: one unique value
        study.tell(trial, 0.1 * i)
    optuna_figures(study, {"l2": 0.6, "augment": 0.4})
    assert "unique value length" not in capsys.readouterr().err
    assert optuna.logging.get_verbosity() == optuna.logging.WARNING
