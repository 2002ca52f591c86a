"""A study's cost follows the information: runs that follow their validation curve,
successive halving of a grid, epochs by the data's size, and the record of where the time
went (issue 21)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs
from nooverfit.engine.follow import Follow, Policy, Tracker
from nooverfit.studies import plan
from nooverfit.studies.halving import Halving, stage_halving


def test_follow_waits_for_factor_times_the_best_and_the_minimum():
    follow = Follow(factor=2.0, min_epochs=10, min_steps=100)
    assert follow.least(batches=4) == 25  # 100 steps of 4 batches
    assert follow.least(batches=50) == 10
    assert not follow.enough(epochs=24, best_epoch=2, batches=4)
    assert follow.enough(epochs=25, best_epoch=2, batches=4)
    assert not follow.enough(epochs=39, best_epoch=19, batches=50)  # best at the 20th epoch
    assert follow.enough(epochs=40, best_epoch=19, batches=50)
    with pytest.raises(ValueError, match="factor"):
        Follow(factor=0.5)


def test_tracker_stops_a_rising_curve_and_not_a_falling_one():
    follow = Follow(factor=2.0, min_epochs=4, min_steps=0)
    rising = [1.0, 0.8, 0.7, 0.75, 0.8, 0.9, 1.0, 1.1]  # best at epoch 2: stop after 6
    tracker = Tracker(follow, batches=1)
    stops = [tracker.update(v) for v in rising]
    assert stops.index(True) == 5
    falling = Tracker(follow, batches=1)
    assert not any(falling.update(1.0 / (e + 1)) for e in range(50))
    assert falling.update(math.nan) is False  # NaN is never a best


def test_fused_and_sequential_follow_the_curve_alike(data):
    # no dropout: the engines give the same curves, so the same stop epoch and reason
    configs = [
        RunConfig(width=256, epochs=60, train_per_class=10, lr=1e-2, seed=s) for s in (0, 1)
    ]
    configs.append(configs[0].replace(early_stopping="patience:3", label="es"))
    policy = Policy(follow=Follow(factor=1.5, min_epochs=5, min_steps=0))
    seq = run_configs(configs, data, engine="sequential", policy=policy)
    fused = run_configs(configs, data, engine="fused", policy=policy)
    for s, f in zip(seq, fused, strict=True):
        assert len(s.history) == len(f.history)
        assert s.history.stop_reason == f.history.stop_reason
        assert s.history.kept_epoch == f.history.kept_epoch
    plain, es = fused[0].history, fused[2].history
    assert plain.stop_reason == "curve" and len(plain) < 60
    best = min(range(len(plain)), key=plain.val_loss.__getitem__)
    assert len(plain) == max(5, math.ceil(1.5 * (best + 1)))
    # the weights kept are the last epoch's without early stopping, the best with it
    assert plain.kept_epoch == len(plain) - 1 and plain.best_epoch == best
    assert es.stop_reason in ("patience", "curve") and es.kept_epoch < len(es) - 1
    # without a policy nothing follows: every run trains its epochs or its criterion
    again = run_configs(configs[:1], data, engine="fused")
    assert again[0].history.stop_reason == "completed" and len(again[0].history) == 60


def _grid_configs(levels: dict[str, list[float]]) -> tuple[list[RunConfig], list[list[float]]]:
    configs, curves = [], []
    for name, per_seed in levels.items():
        for seed, level in enumerate(per_seed):
            configs.append(RunConfig(epochs=20, dropout=float(name), seed=seed))
            curves.append([level] * 10)
    return configs, curves


def test_halving_stops_a_point_clearly_behind_on_every_seed_only():
    levels = {
        "0.1": [0.90, 0.92, 0.91],
        "0.3": [0.91, 0.91, 0.92],  # level with the leader
        "0.5": [0.85, 0.86, 0.86],  # 5-6 points behind on every seed
        "0.7": [0.80, 0.95, 0.93],  # far behind on one seed only: noise
    }
    configs, curves = _grid_configs(levels)
    grids = {c.replace(seed=0): "dropout" for c in configs}
    judge = Halving(grids, fraction=0.5)
    running = list(range(len(configs)))
    assert judge.rung(configs[0]) == 9
    assert judge(8, configs, curves, running) == []  # not yet at the rung
    stopped = judge(9, configs, curves, running)
    assert {configs[i].dropout for i in stopped} == {0.5}
    assert sorted(configs[i].seed for i in stopped) == [0, 1, 2]
    # a point whose seeds are not in the group with its grid's is never judged
    lone = [i for i, c in enumerate(configs) if c.dropout in (0.1, 0.5) and c.seed == 0]
    assert judge(9, [configs[i] for i in lone], [curves[i] for i in lone], [0, 1]) == []


@pytest.mark.parametrize("deficits", [(6, 6, 0), (6, 0, 6), (0, 6, 6)])
def test_halving_keeps_a_point_behind_by_exactly_the_margin_in_any_seed_order(deficits):
    """A deficit of +6, +6, 0 points is exactly 2 standard errors (mean 4, standard error
    2): a tie at the margin keeps the point, whatever the seeds' order (select.beyond),
    where the last bits of the sums decided it."""
    leader = [0.90, 0.91, 0.92]
    levels = {
        "0.1": leader,
        "0.5": [round(x - d / 100, 10) for x, d in zip(leader, deficits, strict=True)],
    }
    configs, curves = _grid_configs(levels)
    judge = Halving({c.replace(seed=0): "dropout" for c in configs}, fraction=0.5)
    assert judge(9, configs, curves, list(range(len(configs)))) == []


def test_stage_halving_leaves_out_single_point_grids():
    base = RunConfig()
    grids = plan.remedy_variants(base, plan.BUDGETS["quick"])
    judge = stage_halving(list(grids.items()), 0.5)
    assert judge is not None
    assert base.replace(batchnorm=True, label="batchnorm") not in judge.grids
    assert judge.grids[grids["dropout"][0]] == "dropout"
    assert stage_halving(list(grids.items()), None) is None


def test_epochs_follow_the_square_root_of_the_data_size():
    quick = plan.BUDGETS["quick"]
    assert plan.epochs_for(quick, 200, 32) == 100  # the reference size keeps its epochs
    assert plan.epochs_for(quick, 800, 32) == 50  # 4x the data: half the epochs, 2x steps
    assert plan.epochs_for(quick, 50, 32) == 200  # small sets: at least `steps` steps
    assert plan.epochs_for(quick, 10**6, 32) == quick.min_epochs
    # the old way: a fixed count (or more for `steps`), whatever the size
    old = quick.fixed()
    assert (old.reference, old.follow, old.halving) == (None, None, None)
    assert plan.epochs_for(old, 800, 32) == 100


def test_a_following_study_records_how_runs_ended_and_where_time_went(tmp_path):
    from conftest import TINY
    from nooverfit.report import cost_line
    from nooverfit.studies import study
    from nooverfit.study_files import write_study

    # factor 1: a run stops at its first epoch (from the 4th) without a new best
    budget = dataclasses.replace(
        TINY, epochs=20, reference=100, follow=1.0, min_epochs=4, min_steps=0, halving=0.5
    )
    result = study("digits", width=64, train_per_class=10, budget=budget, seeds=2, device="cpu")
    trained = sum(c.runs for c in result.costs)
    assert trained == result.settings.runs == len(result.runs)
    assert sum(c.steps for c in result.costs) > 0
    reasons = {r.history.stop_reason for r in result.runs.values()}
    assert "curve" in reasons
    assert reasons <= {"completed", "curve", "halved", "patience", "diverged"}
    for c in result.costs:
        assert sum(c.ended.values()) == c.runs
    # FLOPs by hand for the baseline (an MLP 64-64-64-10 on 8x8 digits, 100 training
    # images): 2 FLOPs a multiply-add, backward twice the forward but for the data's
    # gradient, and each epoch an eval pass over training and validation samples
    forward = 2 * (64 * 64 + 64 * 64 + 64 * 10)
    train = 3 * forward - 2 * 64 * 64
    baseline = [result.runs[k] for k in result.baseline.runs]
    by_hand = sum(
        len(r.history) * (100 * train + (100 + len(result.splits[i].val)) * forward)
        for i, r in enumerate(baseline)
    )
    first = result.costs[0]
    assert by_hand < first.flops < 100 * by_hand  # the baseline's and its remedies' runs
    assert first.flop_rate == first.flops / first.seconds
    data = json.loads(json.dumps(result.to_dict()))
    assert data["costs"][0]["stage"] == "baseline and remedies"
    assert "runs ended:" in cost_line(result)
    write_study(result, tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert 'id="costs"' in html and "curve diagnosable" in html
