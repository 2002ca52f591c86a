"""Copies of one variant (init field, studies/copies.py): the initial weights differ and
nothing else; their average is scored like any ensemble."""

import pytest
import torch

from nooverfit.config import INIT_STRIDE, RunConfig
from nooverfit.studies import plan
from nooverfit.studies.copies import copy_candidates, copy_configs, copy_members
from nooverfit.studies.ensemble import Members
from nooverfit.studies.estimate import stage_runs
from nooverfit.studies.select import choose


def test_init_zero_keeps_the_run_key_and_other_inits_change_it():
    # the keys of runs stored before the field existed (test_annealing pins this value)
    assert RunConfig().key == "05407bcc08b7"
    assert RunConfig(init=0).key == RunConfig().key
    assert RunConfig(init=1).key != RunConfig().key
    assert RunConfig(seed=2, init=3).init_seed == 2 + 3 * INIT_STRIDE
    with pytest.raises(ValueError, match="init must be an integer >= 0"):
        RunConfig(init=-1)


def test_copies_differ_in_initial_weights_only():
    from nooverfit.models import build_model

    base = RunConfig(width=8, seed=1, dropout=0.2, label="dropout=0.2")
    first, second, third = copy_configs(base, 3)
    assert first == base
    assert [c.init for c in (second, third)] == [1, 2]
    assert second.replace(init=0, label=base.label) == base
    assert third.label == "dropout=0.2 (copy 3)"

    def weights(c: RunConfig) -> torch.Tensor:
        net = build_model(c, (4,), 3)
        return torch.cat([p.flatten() for p in net.parameters()])

    assert torch.equal(weights(base), weights(base.replace(label="x")))
    assert not torch.equal(weights(base), weights(second))
    # another seed's first copy is not this seed's second
    assert not torch.equal(weights(base.replace(seed=2)), weights(second))


def test_copy_members_are_titled_and_listed():
    m = copy_members(RunConfig(label="mixup=0.2"), "mixup=0.2", 3)
    assert isinstance(m, Members)
    assert m.name == "ensemble of 3 copies of mixup=0.2"
    assert m.names == ("mixup=0.2", "mixup=0.2 (copy 2)", "mixup=0.2 (copy 3)")
    assert [c.init for c in m.configs] == [0, 1, 2]
    # untitled ensembles keep listing their members
    assert Members(m.configs[:2], ("a", "b")).name == "ensemble of 2: a, b"


def test_copy_candidates_score_the_average_of_the_first_k_copies():
    from nooverfit.data import load_split
    from nooverfit.engine import run_configs
    from nooverfit.models import network_for

    torch.set_num_threads(1)
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=16, epochs=3, train_per_class=5, label="baseline")
    done = {r.config: r for r in run_configs([base], data, engine="sequential")}

    class Session:
        def __init__(self):
            self.seeds = [0]
            self.data = {0: data}
            self.expected = 0

        def expect(self, runs):
            self.expected += runs

        def train(self, variants):
            todo = [c for c in variants if c not in done]
            done.update({r.config: r for r in run_configs(todo, data, engine="sequential")})

        def split_data(self, config):
            return data

        def model(self, config):
            net = network_for(config, data)
            net.load_state_dict(done[config].state)
            return net.eval()

    session = Session()
    found = copy_candidates(session, base, "baseline", 3, epochs=3.0)
    assert session.expected == 2 and len(done) == 3
    assert [len(m.configs) for m, _ in found] == [2, 3]
    x, y = data.x[data.val_index], data.y[data.val_index]
    for members, score in found:
        probs = torch.stack([session.model(c)(x).softmax(-1) for c in members.configs]).mean(0)
        want = float((probs.argmax(1) == y).double().mean())
        assert score.val_per_seed == (pytest.approx(want),)
    assert copy_candidates(session, base, "baseline", 1, epochs=3.0) == []


def test_mixed_copies_average_each_members_own_encoding():
    from nooverfit.data import load_split, prepare
    from nooverfit.engine import run_configs
    from nooverfit.models import network_for
    from nooverfit.studies.copies import mixed_members

    torch.set_num_threads(1)
    data = load_split("synthetic", seed=0, device="cpu")
    fine = prepare(data.dataset, data.split, device="cpu", scaling="ple16")
    base = RunConfig(width=16, epochs=3, label="baseline")
    m = mixed_members(base, "baseline", 2, "ple16")
    assert m.name == "ensemble of 2 copies of baseline and 2 on ple16 inputs"
    assert [(c.inputs, c.init) for c in m.configs] == [
        ("standard", 0),
        ("standard", 1),
        ("ple16", 0),
        ("ple16", 1),
    ]

    def split_data(c):
        return fine if c.inputs == "ple16" else data

    done = {}

    class Session:
        def __init__(self):
            self.seeds = [0]
            self.expected = 0

        def expect(self, runs):
            self.expected += runs

        def train(self, variants):
            for c in variants:  # one encoding per batch, as the study's session trains
                if c not in done:
                    (done[c],) = run_configs([c], split_data(c), engine="sequential")

        def split_data(self, config):
            return split_data(config)

        def model(self, config):
            net = network_for(config, split_data(config))
            net.load_state_dict(done[config].state)
            return net.eval()

    session = Session()
    session.train([base])
    found = copy_candidates(session, base, "baseline", 2, epochs=3.0, inputs="ple16")
    assert session.expected == 3 and len(done) == 4  # one copy, two on ple16
    assert [m.name for m, _ in found][1] == m.name
    _, score = found[1]
    with torch.no_grad():  # each network on its own encoding of the validation rows
        probs = torch.stack(
            [session.model(c)(split_data(c).x[data.val_index]).softmax(-1) for c in m.configs]
        ).mean(0)
    y = data.y[data.val_index]
    assert score.val_per_seed == (pytest.approx(float((probs.argmax(1) == y).double().mean())),)
    want = float(-probs.gather(1, y.view(-1, 1)).log().mean())
    assert score.val_loss_per_seed == (pytest.approx(want, rel=1e-5),)


def test_study_plan_copies_tabular_data_only():
    baseline = RunConfig(width=64, epochs=10)
    budget = plan.get_budget("quick")
    ensembles = [
        next(
            s
            for s in plan.study_stages(baseline, budget, tabular=t)
            if isinstance(s, plan.EnsembleStage)
        )
        for t in (False, True)
    ]
    assert [e.copies for e in ensembles] == [0, budget.copies]
    assert ensembles[1].inputs == budget.copy_inputs == "ple16"
    # the copies in the choice's encoding, then 2 on ple16 inputs
    assert stage_runs(ensembles[1], None, 3) == (budget.copies - 1 + 2) * 3
    assert stage_runs(ensembles[0], None, 3) == 0


def test_a_tabular_study_averages_copies_and_reports_their_curve(tmp_path):
    import dataclasses

    from conftest import TINY
    from nooverfit.studies import study
    from nooverfit.study_files import write_study

    torch.set_num_threads(1)
    # no linear rung: a linear choice has no copies (an annealed convex fit)
    budget = dataclasses.replace(TINY, copies=3, linear=())
    result = study(
        "synthetic", budget=budget, seeds=2, train_per_class=None, engine="fused", device="cpu"
    )
    (outcome,) = [o for o in result.remedies if o.remedy == "copies"]
    assert outcome.chosen.stage == "ensemble" and " copies of " in outcome.chosen.name
    standard = [r.config for r in result.runs.values() if r.config.inputs == "standard"]
    inits = sorted(c.init for c in standard)
    assert inits.count(1) == inits.count(2) == 2  # two copies on each of two seeds
    # and two copies of the choice on ple16 inputs per seed, where it reads standard ones
    fine = [r.config for r in result.runs.values() if r.config.inputs == "ple16"]
    assert sorted(c.init for c in fine) == [0, 0, 1, 1]
    (mixed,) = [c for c in result.validation_curves if c.param == "mixed_copies"]
    assert list(mixed.values) == [2.0, 3.0]
    # copies of the choice before the ensembles: select.choose from the simplest up
    levels = [
        [result.baseline],
        [o.chosen for o in result.remedies if o.remedy not in ("ensemble", "copies")],
        list(result.combinations),
    ]
    level, index = choose([[v.score for v in lv] for lv in levels])
    top = levels[level][index]
    assert f" copies of {top.name}" in outcome.chosen.name  # alone, or with ple16 copies
    assert outcome.chosen.config == top.config
    (curve,) = [c for c in result.validation_curves if c.param == "copies"]
    assert list(curve.values) == [1.0, 2.0, 3.0]
    write_study(result, tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "validation_copies" in html and "validation_mixed_copies" in html


def test_a_saved_ensemble_of_copies_loads_back(tmp_path):
    import json

    from nooverfit.models import build_model
    from nooverfit.studies.ensemble import Ensemble, describe, load_from_study

    members = copy_members(RunConfig(width=8, dropout=0.1, label="dropout=0.1"), "d", 3)
    nets = [build_model(c, (5,), 3, kind="tabular") for c in members.configs]
    torch.save(Ensemble(nets).state_dict(), tmp_path / "best_model.pt")
    saved = {**describe(members), "in_shape": [5], "kind": "tabular"}
    assert [c["init"] for c in saved["configs"]] == [0, 1, 2]
    results = {"schema_version": 1, "settings": {"classes": ["x", "y", "z"]}}
    results["extras"] = {"ensemble": saved}
    (tmp_path / "results.json").write_text(json.dumps(results))
    x = torch.randn(4, 5)
    loaded = load_from_study(tmp_path)
    torch.testing.assert_close(loaded(x), Ensemble(nets).eval()(x))
    # the members' own outputs differ: the copies are not one network three times
    outs = [m(x) for m in loaded.members]
    assert not torch.allclose(outs[0], outs[1])
