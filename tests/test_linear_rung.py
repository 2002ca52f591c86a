"""The linear rung of tabular studies: a network without hidden layer (logistic
regression) among the remedies."""

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs
from nooverfit.models import build_model
from nooverfit.studies import plan
from nooverfit.studies.combine import combine


def test_depth_zero_is_a_network_without_hidden_layer_for_mlps_only():
    config = RunConfig(depth=0)
    net = build_model(config, (5,), 3)
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(5, 3)]
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        RunConfig(model="cnn", depth=0)
    with pytest.raises(ValueError, match="depth must be an integer >= 0"):
        RunConfig(depth=-1)


def test_linear_rung_only_for_tabular_mlps_annealed_at_a_hundred_times_the_rate():
    base = RunConfig(width=256, epochs=5)
    budget = plan.get_budget("quick")
    assert plan.remedy_variants(base, budget)["linear"] == []  # images: none
    assert plan.remedy_variants(base.replace(model="cnn"), budget, tabular=True)["linear"] == []
    rung = plan.remedy_variants(base, budget, tabular=True)["linear"]
    assert [c.l2 for c in rung] == list(budget.linear)
    assert all(c.weight_decay == 0 and c.cosine and c.epochs == base.epochs for c in rung)
    assert all(c.depth == 0 and c.lr == pytest.approx(100 * base.lr) for c in rung)
    assert [c.label for c in rung][:2] == ["linear + cosine lr", "l2=0.001 + linear + cosine lr"]
    merged = combine(base, {"linear": rung[1], "dropout": base.replace(dropout=0.3)})[0]
    assert (merged.depth, merged.lr, merged.dropout) == (0, rung[1].lr, 0.0)  # no hidden layer
    assert (merged.cosine, merged.l2) == (True, rung[1].l2)
    decayed = base.replace(weight_decay=0.3)  # the l2 remedy's decay is kept, not doubled
    merged = combine(base, {"l2": decayed, "linear": rung[1]})[0]
    assert (merged.depth, merged.weight_decay, merged.l2) == (0, 0.3, 0.0)


def test_linear_rung_reaches_scikit_learns_logistic_regression(data):
    """The rung's training (Adam at 100x the rate, annealed) ends at the minimum of the
    objective scikit-learn's LogisticRegression minimizes: mean cross-entropy plus
    ``l2 / 2 * ||W||^2`` is ``C * sum(cross-entropy) + ||W||^2 / 2`` divided by ``C * n``,
    so ``C = 1 / (l2 * n)``."""
    from sklearn.linear_model import LogisticRegression

    from nooverfit.engine.sequential import make_model

    base = RunConfig(train_per_class=10, epochs=100, label="baseline")
    (config,) = [
        c
        for c in plan.remedy_variants(base, plan.get_budget("quick"), tabular=True)["linear"]
        if c.l2 == 0.01
    ]
    (result,) = run_configs([config], data, engine="sequential")
    train = data.train_index(train_per_class=10).numpy()
    x, y = data.x.flatten(1).numpy().astype(np.float64), data.y.numpy()
    reference = LogisticRegression(C=1 / (0.01 * len(train)), max_iter=5000).fit(
        x[train], y[train]
    )
    model = make_model(config, data)
    model.load_state_dict(result.state)
    with torch.no_grad():
        ours = torch.softmax(model.eval()(data.x), dim=1).numpy()
    theirs = reference.predict_proba(x)

    def objective(p: np.ndarray, w: np.ndarray) -> float:
        return float(-np.log(p[train, y[train]]).mean() + 0.01 / 2 * (w**2).sum())

    w = model[-1].weight.detach().numpy()
    optimum = objective(theirs, reference.coef_)
    # 400 steps (100 training rows): within 2 % of the optimum (measured 1.1 %)
    assert 0.999 * optimum <= objective(ours, w) < 1.02 * optimum
    assert np.abs(ours - theirs).mean() < 0.01
    assert (ours.argmax(1) == theirs.argmax(1)).mean() > 0.98


def test_fused_linear_networks_match_sequential(data):
    """Depth-0 networks (weight decay, label smoothing, a second seed) in one fused group
    train as the sequential reference does."""
    base = RunConfig(depth=0, epochs=4, train_per_class=4, batch_size=16, lr=0.01)
    configs = [base, base.replace(weight_decay=1.0, seed=1), base.replace(label_smoothing=0.1)]
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    assert all(r.engine == "fused" for r in fused)
    for s, f in zip(seq, fused, strict=True):
        np.testing.assert_allclose(f.history.val_loss, s.history.val_loss, rtol=1e-4)
        assert s.state.keys() == f.state.keys() == {"1.weight", "1.bias"}


def test_recipe_of_the_linear_rung_builds_logistic_regression():
    from nooverfit.studies.recipe import recipe

    config = RunConfig(depth=0, lr=0.01, weight_decay=0.1)
    namespace = {"x_train": torch.zeros(4, 7)}
    exec(recipe(config, classes=3, kind="tabular").pytorch, namespace)
    reference = build_model(config, (7,), 3)
    assert [type(m) for m in namespace["model"]] == [type(m) for m in reference]
    assert sum(p.numel() for p in namespace["model"].parameters()) == 7 * 3 + 3


def test_the_linear_rung_has_a_validation_curve_over_its_penalty():
    from nooverfit.studies.remedy_curves import remedy_curves
    from nooverfit.studies.result import Variant
    from nooverfit.studies.select import Score

    base = RunConfig(width=256, epochs=5)

    def variant(config, acc):
        s = Score(acc, 0.0, 0.5, 1.0, 0.0, 0.0, 1.0 - acc, 5, 1, (acc,))
        return Variant(config.label, "linear", config, s, "healthy", ())

    rung = plan.remedy_variants(base, plan.get_budget("quick"), tabular=True)["linear"]
    linear = [variant(c, a) for c, a in zip(rung[:3], (0.6, 0.7, 0.65), strict=True)]
    (curve,) = remedy_curves(variant(base, 0.5), {"linear": linear})
    assert curve.param == "linear_l2"
    assert list(curve.values) == [0.0, 0.001, 0.01] and curve.chosen == 0.001


def test_the_tabular_report_explains_the_linear_rung():
    from nooverfit.techniques import techniques

    assert "logistic regression" in techniques("tabular")["Linear model (tabular data)"]
    assert "Linear model (tabular data)" not in techniques("image")
