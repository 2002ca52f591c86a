"""The blend of the linear rung with the study's choice (:mod:`nooverfit.studies.blend`):
each network once, weighted by the rung's share, the share picked on validation at one
standard error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.studies.blend import MARGIN, blend_members, blend_weights, blendable, members_phrase
from nooverfit.studies.ensemble import Members, mean_softmax
from nooverfit.studies.select import Score, pick_ensemble


def _score(val: tuple[float, ...], loss: tuple[float, ...]) -> Score:
    return Score(
        float(np.mean(val)), 0.0, float(np.mean(loss)), 1.0, 0.0, 0.0, 0.0, 10.0, len(val),
        val, loss,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("share", "weights", "want"),
    [(0.25, (1.0,), (0.25, 0.75)), (0.75, (1.0, 1.0), (0.75, 0.125, 0.125)),
     (0.5, (1.0, 3.0), (0.5, 0.125, 0.375)), (0.25, (2.0, 2.0, 2.0), (0.25, 0.25, 0.25, 0.25))],
)  # fmt: skip
def test_blend_weights_give_the_rung_its_share(share, weights, want):
    assert blend_weights(share, weights) == pytest.approx(want)


@pytest.mark.parametrize(
    ("share", "weights"), [(0.0, (1.0,)), (1.0, (1.0,)), (-0.5, (1.0,)), (0.5, ())]
)
def test_blend_weights_refuse_a_share_outside_zero_one(share, weights):
    with pytest.raises(ValueError, match=r"share|network"):
        blend_weights(share, weights)


def test_blend_members_hold_each_network_once_with_its_weight():
    rung = RunConfig(depth=0, label="linear")
    a, b = RunConfig(width=16, label="a"), RunConfig(width=32, label="b")
    choice = Members((a, b), ("a", "b"))
    m = blend_members(rung, "linear", choice, "ensemble of 2: a, b", 0.75)
    assert m.configs == (rung, a, b) and m.names == ("linear", "a", "b")
    assert m.weights == pytest.approx((0.75, 0.125, 0.125))
    assert m.name == "ensemble of linear at 3/4 and ensemble of 2: a, b at 1/4"
    quarter = blend_members(rung, "linear", Members((a,), ("a",)), "a", 0.25)
    assert quarter.configs == (rung, a) and quarter.weights == pytest.approx((0.25, 0.75))


def test_the_weighted_mean_softmax_is_the_blend_by_hand():
    # logits whose softmax is known: p_rung = (0.8, 0.2), p_a = (0.1, 0.9), p_b = (0.3, 0.7)
    def logits(p: tuple[float, float]) -> torch.Tensor:
        return torch.log(torch.tensor([p], dtype=torch.float64))

    outputs = [logits((0.8, 0.2)), logits((0.1, 0.9)), logits((0.3, 0.7))]
    got = mean_softmax(outputs, blend_weights(0.25, (1.0, 1.0)))[0]
    # by hand: 0.25 * 0.8 + 0.75 * (0.1 + 0.3) / 2 = 0.35; 0.25 * 0.2 + 0.75 * 0.8 = 0.65
    assert got.tolist() == pytest.approx([0.35, 0.65])
    # equal weights are the plain mean, to the bit
    assert torch.equal(mean_softmax(outputs, (2.0, 2.0, 2.0)), mean_softmax(outputs))


def test_members_phrase_reads_the_weights_or_the_repeated_members_of_older_results():
    assert members_phrase({"names": ["lin", "a", "b"], "weights": [0.75, 0.125, 0.125]}) == (
        "3 networks weighted 6:1:1"
    )
    assert members_phrase({"names": ["lin", "a"], "weights": [0.5, 0.5]}) == "2 networks"
    assert members_phrase({"names": ["a", "b", "c"]}) == "3 networks"
    # saved before ensembles carried weights: the rung once, the network 3 times
    assert members_phrase({"names": ["lin", "a", "a", "a"]}) == "2 networks weighted 1:3"
    assert members_phrase({}) == "several networks"


def test_a_blend_needs_a_network_with_hidden_layers():
    one = Members((RunConfig(),), ("baseline",))
    assert blendable(one, [2])
    assert not blendable(one, [0])  # a linear choice: the blend is another linear model
    assert blendable(Members((RunConfig(), RunConfig(depth=0)), ("x", "y")), [0, 2])


def test_pick_at_one_standard_error_takes_a_gain_on_one_seed():
    # choice (0.80, 0.70, 0.90); the blend gains 0.02 on the second seed and ties the
    # others: paired differences (0, 0.02, 0), mean 0.00667, standard error
    # sqrt(((0.00667^2) * 2 + 0.01333^2) / 2) / sqrt(3) = 0.00667: exactly one SE
    choice = _score((0.80, 0.70, 0.90), (0.50, 0.60, 0.40))
    blends = [
        _score((0.80, 0.70, 0.90), (0.50, 0.60, 0.40)),  # the same: no gain
        _score((0.80, 0.72, 0.90), (0.49, 0.60, 0.40)),
        # the same gain at a lower mean log loss (each drop below select.LOSS_FLOOR)
        _score((0.80, 0.72, 0.90), (0.48, 0.61, 0.39)),
    ]
    assert pick_ensemble(blends, choice) is None  # two standard errors: none
    assert pick_ensemble(blends, choice, margin=MARGIN) == 2  # the lower log loss
    # a gain the seeds disagree on: (+0.04, -0.02, 0) has mean 0.0067, SE 0.0176
    split = _score((0.84, 0.68, 0.90), (0.45, 0.62, 0.40))
    assert pick_ensemble([split], choice, margin=MARGIN) is None


def test_the_report_explains_the_blend_where_a_tabular_study_tried_it():
    from nooverfit.techniques import techniques

    name = "Blend with the linear model (tabular data)"
    assert "1/4, 1/2 or 3/4" in techniques("tabular", "csv:x.csv", frozenset({"blend"}))[name]
    assert name not in techniques("tabular", "csv:x.csv", frozenset({"linear"}))
    assert name not in techniques("image")


def test_a_blend_is_told_by_its_name_and_its_weak_evidence_says_one_standard_error():
    from nooverfit.studies.blend import named
    from nooverfit.studies.evidence import paired
    from nooverfit.studies.evidence_words import weakness

    rung = RunConfig(depth=0, label="l2=0.01 + linear")
    choice = Members((RunConfig(width=16),), ("dropout=0.3",))
    title = blend_members(rung, "l2=0.01 + linear", choice, "dropout=0.3", 0.5).name
    assert title == "ensemble of l2=0.01 + linear at 1/2 and dropout=0.3 at 1/2"
    assert named(title)
    assert not named("ensemble of 3: a, b, c") and not named("ensemble of 4 copies of x")
    seeds = (0, 1, 2)
    d = paired(title, "recommended", "val_accuracy", seeds, (0.83, 0.81, 0.85), (0.80, 0.80, 0.80))
    assert "more than 2 (the blend with the linear model, 1) standard errors" in weakness(d)
    plain = paired("dropout=0.3", "recommended", "val_accuracy", seeds, d.candidate, d.baseline)
    assert "more than 2 standard errors" in weakness(plain)
