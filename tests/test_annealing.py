"""Cosine annealing of the learning rate: the schedule against torch's, both engines
against each other, and the study's cosine remedy in the plan."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from nooverfit.annealing import cosine_factor
from nooverfit.config import RunConfig
from nooverfit.engine import run_configs
from nooverfit.studies.combine import combine
from nooverfit.studies.labels import describe
from nooverfit.studies.plan import BUDGETS, remedy_variants, unregularized


@pytest.mark.parametrize("epochs", [1, 2, 7, 300])
def test_cosine_factor_matches_torch_cosine_annealing_lr(epochs):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([param], lr=0.5)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=0.0)
    for epoch in range(epochs):
        assert 0.5 * cosine_factor(epoch, epochs) == pytest.approx(
            opt.param_groups[0]["lr"], rel=1e-9, abs=1e-12
        )
        opt.step()
        sched.step()
    assert cosine_factor(0, epochs) == 1.0
    assert cosine_factor(epochs, epochs) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("epoch, epochs", [(0, 0), (-1, 5)])
def test_cosine_factor_rejects_bad_epochs(epoch, epochs):
    with pytest.raises(ValueError, match="epochs >= 1"):
        cosine_factor(epoch, epochs)


def test_cosine_key_is_left_out_at_its_default():
    """Runs stored before the field existed keep their keys (and resume)."""
    # keys of the version before the field (nooverfit main at 8f8af43)
    assert RunConfig().key == "05407bcc08b7"
    assert RunConfig(model="cnn", augment=0.5, seed=3).key == "de4d3384b4e9"
    assert RunConfig().replace(cosine=True).key != RunConfig().key


def test_cosine_runs_match_between_engines_and_anneal_the_rate(data):
    base = RunConfig(width=16, epochs=12, train_per_class=5, batch_size=16, cosine=True)
    configs = [
        base.replace(weight_decay=0.1, lr=3e-3),  # decoupled decay follows the rate
        base.replace(seed=1, epochs=7, l2=1e-3),  # another length: another schedule
        base.replace(seed=2, cosine=False),  # constant, in the same group
    ]
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    assert all(r.engine == "fused" for r in fused)
    for s, f in zip(seq, fused, strict=True):
        c = s.config
        want = [c.lr * (cosine_factor(e, c.epochs) if c.cosine else 1.0) for e in range(c.epochs)]
        np.testing.assert_allclose(s.history.extras["lr"], want, rtol=1e-12)
        np.testing.assert_allclose(f.history.extras["lr"], want, rtol=1e-12)
        for name in ("loss", "val_loss"):
            np.testing.assert_allclose(
                f.history.column(name), s.history.column(name), rtol=1e-4, atol=1e-6
            )
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)
    # annealed, the last epochs barely move the weights; at a constant rate they do
    assert math.isclose(fused[0].history.extras["lr"][-1], 3e-3 * cosine_factor(11, 12))


def test_plan_tries_cosine_alone_and_with_each_augmentation_strength():
    assert "cosine" not in remedy_variants(RunConfig(), BUDGETS["quick"])  # the default
    budget = BUDGETS["standard"]
    base = unregularized(RunConfig(model="cnn", width=16, cosine=True))
    assert not base.cosine  # the baseline trains at a constant rate
    grid = remedy_variants(base, budget)["cosine"]
    assert [(c.cosine, c.augment) for c in grid] == [
        (True, 0.0),
        *((True, s) for s in budget.augment),
    ]
    assert describe(grid[1], base) == f"augment={budget.augment[0]:g} + cosine lr"


def test_combine_keeps_cosine_and_its_augmentation():
    base = unregularized(RunConfig(model="cnn", width=16))
    chosen = {
        "batchnorm": base.replace(batchnorm=True),
        "cosine": base.replace(cosine=True, augment=1.0),
    }
    merged = combine(base, chosen)[0]
    assert merged.cosine and merged.batchnorm and merged.augment == 1.0
    # without the cosine remedy, nothing is annealed
    plain = combine(base, {"batchnorm": base.replace(batchnorm=True)})
    assert not any(c.cosine for c in plain)


@pytest.mark.parametrize("engine", ["sequential", "fused"])
def test_following_the_curve_never_cuts_an_annealed_run(data, engine):
    """A cosine schedule is set by the run's epochs; a constant-rate run that overfits is
    stopped at its curve (Follow), the annealed one trains to its last epoch."""
    from nooverfit.engine.follow import Follow, Policy

    base = RunConfig(width=64, epochs=60, train_per_class=3, batch_size=16, lr=1e-2)
    configs = [base, base.replace(cosine=True)]
    policy = Policy(follow=Follow(1.5, min_epochs=5, min_steps=10))
    results = run_configs(configs, data, engine=engine, policy=policy)
    assert results[0].history.stop_reason == "curve" and len(results[0].history) < 60
    assert results[1].history.stop_reason == "completed" and len(results[1].history) == 60


@pytest.fixture(scope="module")
def cosine_study(tmp_path_factory):
    """conftest's tiny two-seed MLP study with the cosine remedy on, written to disk."""
    from conftest import TINY
    from nooverfit.studies import study
    from nooverfit.study_files import write_study

    out = tmp_path_factory.mktemp("cosine")
    budget = dataclasses.replace(TINY, cosine=True)
    result = study("digits", width=16, train_per_class=10, budget=budget, seeds=2, out=out)
    write_study(result, out)
    return result, out


def test_study_reports_the_cosine_remedy_and_its_annealed_augmentation_curve(cosine_study):
    result, out = cosine_study
    outcome = next(o for o in result.remedies if o.remedy == "cosine")
    assert outcome.chosen.config.cosine
    curve = next(c for c in result.validation_curves if c.param == "annealed_augment")
    # cosine alone (strength 0), then each strength of the budget (conftest's TINY: 1.0)
    assert list(curve.values) == [0.0, 1.0]
    # the curve's best point is the remedy's choice, with its validation accuracy
    at = list(curve.values).index(outcome.chosen.config.augment)
    assert curve.chosen == outcome.chosen.config.augment
    assert curve.val[at] == pytest.approx(outcome.chosen.score.val_accuracy)
    assert (out / "plots" / "validation_annealed_augment.png").exists()
    assert 'alt="validation_annealed_augment"' in (out / "report.html").read_text()


def test_recipes_anneal_the_rate_as_the_study_trained():
    from nooverfit.studies.recipe import recipe

    config = RunConfig(model="cnn", width=8, cosine=True, augment=0.5, epochs=9, lr=2e-3)
    namespace = {"x_train": torch.zeros(4, 1, 8, 8)}
    exec(recipe(config, classes=10).pytorch, namespace)
    optimizer, schedule = namespace["optimizer"], namespace["schedule"]
    for epoch in range(config.epochs):  # the recipe's rates are the study's, epoch by epoch
        assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-3 * cosine_factor(epoch, 9))
        optimizer.step()
        schedule.step()
    keras = recipe(config, classes=10).keras
    assert "callbacks=[anneal]" in keras
    line = next(x for x in keras.splitlines() if x.strip().startswith("lambda e:"))
    rate = eval(line.strip().removesuffix(")"), {"math": math})
    assert [rate(e) for e in range(9)] == pytest.approx(
        [2e-3 * cosine_factor(e, 9) for e in range(9)]
    )
