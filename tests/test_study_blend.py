"""The blend stage on a trained tabular session: each share's validation score is the
weighted average of the rung's and the choice's probabilities, seed by seed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import toy_tabular_session
from nooverfit.config import RunConfig
from nooverfit.studies.blend import SHARES, run_blend
from nooverfit.studies.stages import Findings


@pytest.fixture(scope="module")
def session():
    yield from toy_tabular_session(1)


def _probs(session, config, seed, index):
    with torch.no_grad():
        net = session.model(config.replace(seed=seed)).eval()
        return net(session.split_data(config.replace(seed=seed)).x[index]).softmax(-1)


def _trained(session):
    """The baseline and its linear rung, trained; findings that hold the baseline alone,
    recommended."""
    base = RunConfig(width=16, epochs=3)
    rung = base.replace(depth=0, lr=base.lr * 100, label="linear")
    session.train([base, rung])
    found = Findings()
    found.baseline = session.variant(base, "baseline", base)
    found.variants = [found.baseline]
    found.recommended = found.baseline
    return base, rung, found


def test_blend_scores_each_share_as_the_weighted_average(session):
    base, rung, found = _trained(session)
    found.variants.append(session.variant(rung, "linear", base))
    run_blend(session, found)
    (outcome,) = [o for o in found.outcomes if o.remedy == "blend"]
    (curve,) = [c for c in found.validation_curves if c.param == "linear_share"]
    assert list(curve.values) == [0.0, *SHARES]
    blends = [m for m in found.ensembles.values() if " at " in m.title]
    assert len(blends) == len(SHARES)
    for k, share in enumerate(SHARES):
        want = []
        for seed in session.seeds:
            val = session.data[seed].val_index
            p = share * _probs(session, rung, seed, val)
            p = p + (1 - share) * _probs(session, base, seed, val)
            want.append(float((p.argmax(1) == session.data[seed].y[val]).double().mean()))
        assert curve.val[k + 1] == pytest.approx(np.mean(want))
    assert curve.val[0] == pytest.approx(found.baseline.score.val_accuracy)
    assert outcome.chosen.stage == "ensemble" and " at " in outcome.chosen.name
    # the choice is the baseline or the blend pick_ensemble took at one standard error
    assert found.recommended is found.baseline or found.recommended.name in found.ensembles


def test_no_blend_without_a_rung_or_for_a_linear_choice(session):
    base, rung, found = _trained(session)
    run_blend(session, found)  # no rung: nothing
    assert not found.outcomes and not found.ensembles
    linear = session.variant(rung, "linear", base)
    found.variants.append(linear)
    found.recommended = linear
    run_blend(session, found)  # a linear choice: nothing
    assert not found.outcomes and not found.ensembles


def test_a_blend_saves_and_loads_as_an_ensemble(session, tmp_path):
    from nooverfit.studies.blend import blend_members
    from nooverfit.studies.ensemble import Members, assemble, load, networks, on_test

    base = RunConfig(width=16, epochs=3)
    rung = base.replace(depth=0, lr=base.lr * 100, label="linear")
    session.train([base, rung])
    members = blend_members(rung, "linear", Members((base,), ("baseline",)), "baseline", 0.25)
    seed = session.seeds[0]
    nets = networks(session, members, seed)
    path = tmp_path / "best_model.pt"
    torch.save(assemble(session, members, seed).state_dict(), path)
    assert len(members.configs) == 2  # each network once, weighted
    data = session.split_data(base.replace(seed=seed))
    again = load(path, members.configs, data.in_shape, data.num_classes, data.kind)
    assert again.weights.tolist() == pytest.approx([0.25, 0.75])
    want = on_test(nets, data, members.weights)
    assert on_test(list(again.members), data, again.weights.tolist()) == pytest.approx(want)
    # the loaded ensemble's probabilities: 1/4 the rung's, 3/4 the baseline's
    x = data.x[data.test_index]
    with torch.no_grad():
        want = 0.25 * nets[0](x).softmax(-1) + 0.75 * nets[1](x).softmax(-1)
        np.testing.assert_allclose(again(x).exp().numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_a_blends_epochs_are_the_mean_over_its_networks():
    """i82 on auto: the rung kept epoch 93, the choice's 3 networks 59, 77 and 62 (mean 66);
    the blend showed (93 + 66) / 2 = 79.5, not the ensembles' mean over networks, 72.75."""
    from nooverfit.studies.blend import networks_mean

    assert networks_mean(93, (59 + 77 + 62) / 3, 3) == pytest.approx((93 + 59 + 77 + 62) / 4)
    assert networks_mean(10, 20, 1) == 15
