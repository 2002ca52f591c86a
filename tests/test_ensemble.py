import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.studies.ensemble import (
    Ensemble,
    accuracy_and_loss,
    candidates,
    distinct,
    ensemble_score,
    probabilities,
)
from nooverfit.studies.select import Score


class Fixed(nn.Module):
    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))

    def forward(self, x):
        return self.logits.expand(len(x), -1)


def test_ensemble_averages_probabilities_and_scores_like_a_network():
    a, b = Fixed([2.0, 0.0]), Fixed([0.0, 1.0])
    x = torch.zeros(4, 3)
    want = (a(x).softmax(-1) + b(x).softmax(-1)) / 2
    out = Ensemble([a, b])(x)
    torch.testing.assert_close(out.exp(), want)
    y = torch.tensor([0, 0, 1, 1])
    # cross-entropy of the output is the ensemble's log loss
    torch.testing.assert_close(
        F.cross_entropy(out, y), -want.gather(1, y.view(-1, 1)).log().mean()
    )
    acc, loss = accuracy_and_loss(probabilities([a, b], x), y)
    assert acc == 0.5 and loss == pytest.approx(float(F.cross_entropy(out, y)), rel=1e-6)


def test_ensemble_state_dict_round_trips():
    one = Ensemble([nn.Linear(3, 2), nn.Linear(3, 2)])
    two = Ensemble([nn.Linear(3, 2), nn.Linear(3, 2)])
    two.load_state_dict(one.state_dict())
    x = torch.randn(5, 3)
    torch.testing.assert_close(one(x), two(x))
    assert set(one.state_dict()) == {
        "weights",
        *(f"members.{i}.{p}" for i in (0, 1) for p in ("weight", "bias")),
    }


def test_weighted_ensemble_is_the_weighted_average_of_member_probabilities():
    a, b, c = Fixed([2.0, 0.0]), Fixed([0.0, 1.0]), Fixed([-1.0, 1.0])
    x = torch.zeros(3, 3)
    pa, pb, pc = (m(x).softmax(-1) for m in (a, b, c))
    want = (2 * pa + pb + pc) / 4  # by hand: weights 2:1:1
    model = Ensemble([a, b, c], weights=(2.0, 1.0, 1.0))
    torch.testing.assert_close(model(x).exp(), want)
    torch.testing.assert_close(probabilities([a, b, c], x, (0.5, 0.25, 0.25)), want)
    torch.testing.assert_close(model.weights, torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64))
    # the weights travel in the state dict: an ensemble built without them loads them
    again = Ensemble([Fixed([0.0, 0.0]), Fixed([0.0, 0.0]), Fixed([0.0, 0.0])])
    again.load_state_dict(model.state_dict())
    torch.testing.assert_close(again(x).exp(), want)


def test_a_state_dict_saved_without_weights_loads_with_equal_weights():
    a, b = Fixed([2.0, 0.0]), Fixed([0.0, 1.0])
    old = {k: v for k, v in Ensemble([a, b]).state_dict().items() if k != "weights"}
    model = Ensemble([Fixed([0.0, 0.0]), Fixed([0.0, 0.0])], weights=(3.0, 1.0))
    model.load_state_dict(old)
    x = torch.zeros(2, 3)
    torch.testing.assert_close(model(x).exp(), (a(x).softmax(-1) + b(x).softmax(-1)) / 2)


@pytest.mark.parametrize("weights", [(1.0,), (1.0, 0.0), (1.0, -1.0), (1.0, float("nan"))])
def test_ensemble_weights_must_be_one_positive_number_per_member(weights):
    with pytest.raises(ValueError, match="weights must be 2 positive numbers"):
        Ensemble([nn.Linear(3, 2), nn.Linear(3, 2)], weights=weights)


def _s(v):
    return Score(v, 0.0, 0.5, 1.0, 0.0, 0.0, 1 - v, 10, 1, (v,))


def test_candidates_take_the_best_k_by_validation():
    configs = [RunConfig(width=w) for w in (8, 16, 32, 64)]
    names = ["a", "b", "c", "d"]
    found = candidates(configs, names, [_s(0.7), _s(0.9), _s(0.8), _s(0.6)], sizes=(3, 5))
    assert [m.names for m in found] == [("b", "c", "a"), ("b", "c", "a", "d")]
    assert found[0].configs[0].width == 16
    assert candidates(configs[:1], names[:1], [_s(0.9)]) == []


def test_configs_that_keep_the_same_weights_are_one_member():
    base = RunConfig(width=16, epochs=50)
    configs = [
        base.replace(early_stopping="patience:10", label="a"),
        base.replace(early_stopping="gl:5", label="b"),  # kept the same epochs: the same net
        base.replace(early_stopping="up:3"),  # stopped earlier on seed 1: another net
        base,  # no early stopping, same kept epochs as the first
        base.replace(dropout=0.3),  # another network, same epochs
    ]
    kept = [[12, 30], [12, 30], [12, 21], [12, 30], [12, 30]]
    assert distinct(configs, kept) == [0, 2, 4]


def test_ensemble_score_keeps_each_seed():
    s = ensemble_score([((1.0, 0.1), (0.8, 0.5)), ((0.9, 0.2), (0.9, 0.4))], epochs=10)
    assert s.val_per_seed == (0.8, 0.9)
    assert s.val_loss_per_seed == (0.5, 0.4)
    assert s.val_accuracy == pytest.approx(0.85) and s.gap == pytest.approx(0.1)


def test_score_members_and_load_round_trip(tmp_path):
    from nooverfit.data import load_split
    from nooverfit.engine import run_configs
    from nooverfit.models import network_for
    from nooverfit.studies.ensemble import Members, load, networks, on_test, score_members

    torch.set_num_threads(1)
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=16, epochs=3, train_per_class=5)
    configs = [base, base.replace(dropout=0.3), base.replace(width=8)]
    done = {r.config: r for r in run_configs(configs, data, engine="sequential")}

    class Runner:
        def __init__(self):
            self.seeds = [0]
            self.data = {0: data}

        def split_data(self, config):
            return self.data[config.seed]

        def model(self, config):
            net = network_for(config, self.data[0])
            net.load_state_dict(done[config].state)
            return net

    runner = Runner()
    members = Members(tuple(configs), ("a", "b", "c"))
    s = score_members(runner, members, epochs=3)
    models = networks(runner, members, 0)
    probs = torch.stack([m.eval()(data.x[data.val_index]).softmax(-1) for m in models]).mean(0)
    want = float((probs.argmax(1) == data.y[data.val_index]).double().mean())
    assert s.val_per_seed == (pytest.approx(want),)
    path = tmp_path / "best_model.pt"
    torch.save(Ensemble(models).state_dict(), path)
    again = load(path, configs, data.in_shape, data.num_classes, data.kind)
    assert on_test(list(again.members), data) == pytest.approx(on_test(models, data))


def test_load_from_study_reads_results_json(tmp_path):
    import json

    from nooverfit.studies.ensemble import Members, describe, load_from_study

    configs = (RunConfig(width=8), RunConfig(width=4, dropout=0.1))
    from nooverfit.models import build_model

    nets = [build_model(c, (5,), 3, kind="tabular") for c in configs]
    torch.save(Ensemble(nets).state_dict(), tmp_path / "best_model.pt")
    extras = {"ensemble": {**describe(Members(configs, ("a", "b"))), "in_shape": [5]}}
    extras["ensemble"]["kind"] = "tabular"
    results = {"schema_version": 1, "settings": {"classes": ["x", "y", "z"]}, "extras": extras}
    (tmp_path / "results.json").write_text(json.dumps(results))
    x = torch.randn(4, 5)
    torch.testing.assert_close(load_from_study(tmp_path)(x), Ensemble(nets).eval()(x))
    single = {"schema_version": 1, "settings": {}, "extras": {}}
    (tmp_path / "results.json").write_text(json.dumps(single))
    with pytest.raises(ValueError, match="single network"):
        load_from_study(tmp_path)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (
            {"schema_version": 3, "settings": {"nooverfit": "9.0"}},
            r"made by a newer nooverfit \(9\.0, schema_version 3\); this one \(.+\) reads "
            r"schema_version up to 2: install the nooverfit that wrote it",
        ),
        ({"schema_version": "1"}, "has schema_version '1'; expected a study's results.json"),
        ({"settings": {}}, "has schema_version None; expected a study's results.json"),
        ([1, 2], "has schema_version None; expected"),
        ("{not json", "is not readable JSON"),
    ],
)
def test_load_from_study_refuses_a_newer_or_damaged_schema(tmp_path, written, said):
    """results.json's schema_version is checked where it is read: a newer nooverfit's file
    is one line saying upgrade, never misread; a damaged one names the file."""
    import json

    from nooverfit.errors import BadInput
    from nooverfit.studies.ensemble import load_from_study

    path = tmp_path / "results.json"
    path.write_text(written if isinstance(written, str) else json.dumps(written))
    with pytest.raises(BadInput, match=said) as err:
        load_from_study(tmp_path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_weights_on_the_cpu_follow_outputs_on_another_device():
    """A blend's weights are made on the CPU while a study's outputs live on the data's
    device (CUDA by default): the weighted mean multiplied them across devices. The meta
    device stands in for a GPU here (it checks devices and shapes, computes nothing)."""
    from nooverfit.studies.ensemble import mean_softmax

    outputs = [torch.zeros(4, 3, device="meta")] * 2
    assert mean_softmax(outputs, (0.25, 0.75)).device.type == "meta"
    assert mean_softmax(outputs, torch.tensor([0.25, 0.75])).shape == (4, 3)
