"""Ensembles (and single networks) evaluated with test-time shifts after training
(:func:`nooverfit.studies.ensemble.with_shifts`)."""

import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.models import network_for
from nooverfit.studies.ensemble import (
    Ensemble,
    Members,
    load,
    networks,
    on_test,
    score_members,
    with_shifts,
)


def _moved(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``x`` moved ``dy`` rows down and ``dx`` columns right, zeros where nothing moved in
    (written out by hand, apart from nooverfit.shifts)."""
    out = torch.zeros_like(x)
    h, w = x.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[..., i, j] = x[..., i - dy, j - dx]
    return out


@pytest.fixture(scope="module")
def runner():
    from nooverfit.data import load_split

    torch.set_num_threads(1)
    data = load_split("digits", seed=0, device="cpu")

    class Runner:  # untrained networks, each built under its configuration's init seed
        seeds = (0,)

        def __init__(self):
            self.data = {0: data}
            self.asked: list[RunConfig] = []

        def split_data(self, config):
            return self.data[config.seed]

        def model(self, config):
            self.asked.append(config)
            return network_for(config, data)

    return Runner()


def test_with_shifts_names_and_records_the_trained_runs():
    configs = (RunConfig(model="cnn", width=8), RunConfig(model="cnn", width=8, init=1))
    plain = Members(configs, ("a", "a (copy 2)"), title="2 copies of a")
    shifted = with_shifts(plain)
    assert all(c.tta for c in shifted.configs) and shifted.runs == configs
    assert shifted.name == "ensemble of 2 copies of a + test-time shifts"
    assert plain.runs == configs and plain.name == "ensemble of 2 copies of a"
    one = with_shifts(Members(configs[:1], ("batchnorm",)))
    assert one.name == "batchnorm + test-time shifts"
    listed = with_shifts(Members(configs, ("a", "b")))
    assert listed.name == "ensemble of 2: a, b + test-time shifts"


def test_shifted_members_average_the_five_shifted_images(runner):
    data = runner.data[0]
    configs = (
        RunConfig(model="cnn", width=4, depth=1),
        RunConfig(model="cnn", width=4, depth=1, init=1),
    )
    members = with_shifts(Members(configs, ("a", "b")))
    nets = networks(runner, members, 0)
    assert [c.tta for c in runner.asked[-2:]] == [False, False]  # the runs trained without
    x = data.x[data.val_index[:7]]
    want = torch.zeros(7, data.num_classes)
    for c in configs:
        plain = network_for(c, data).eval()
        for dy, dx in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
            want += plain(_moved(x, dy, dx)).softmax(-1) / 10
    torch.testing.assert_close(Ensemble(nets).eval()(x).exp(), want, rtol=1e-5, atol=1e-6)
    # scored on validation as the study scores any ensemble
    s = score_members(runner, members, epochs=1)
    xv, yv = data.x[data.val_index], data.y[data.val_index]
    ref = torch.zeros(len(xv), data.num_classes)
    for c in configs:
        plain = network_for(c, data).eval()
        with torch.no_grad():
            for dy, dx in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                ref += plain(_moved(xv, dy, dx)).softmax(-1) / 10
    assert s.val_per_seed == (pytest.approx(float((ref.argmax(1) == yv).double().mean())),)


def test_a_saved_shifted_ensemble_loads_from_its_configurations(runner, tmp_path):
    data = runner.data[0]
    members = with_shifts(Members((RunConfig(model="cnn", width=4, depth=1),), ("a",)))
    nets = networks(runner, members, 0)
    path = tmp_path / "best_model.pt"
    torch.save(Ensemble(nets).state_dict(), path)
    again = load(path, members.configs, data.in_shape, data.num_classes, data.kind)
    assert on_test(list(again.members), data) == pytest.approx(on_test(nets, data))


def test_prefer_shifts_keeps_the_twin_unless_validation_speaks_against_it():
    from nooverfit.studies.select import Score
    from nooverfit.studies.shifted import eligible, prefer_shifts

    def s(accs, loss):
        return Score(sum(accs) / len(accs), 0.0, loss, 1.0, 0.0, 0.0, 0.0, 10, len(accs), accs)

    assert prefer_shifts(s((0.99, 1.0), 0.030), s((0.99, 1.0), 0.031))  # a tie: the prior
    assert prefer_shifts(s((0.99, 1.0), 0.090), s((0.99, 1.0), 0.031))  # loss is no judge
    assert not prefer_shifts(s((0.98, 1.0), 0.020), s((0.99, 1.0), 0.031))  # accuracy drops
    assert prefer_shifts(s((1.0, 0.99), 0.020), s((0.99, 1.0), 0.031))  # paired mean 0
    cnn = RunConfig(model="cnn", augment=1.0)
    assert eligible(cnn, 8)  # shifts of up to 0.8 pixels
    assert not eligible(cnn.replace(augment=0.5), 8)  # 0.4 pixels: one is out of range
    assert eligible(cnn.replace(augment=0.5), 28)  # 1.4 pixels
    assert not eligible(cnn.replace(augment=0.0), 28)  # not trained on shifted images
    assert not eligible(cnn.replace(tta=True), 8) and not eligible(RunConfig(augment=1.0), 8)


def test_the_ensemble_stage_scores_twins_and_keeps_the_shifted_choice_by_the_prior():
    from nooverfit.data import load_split
    from nooverfit.studies import plan
    from nooverfit.studies.select import pick_ensemble
    from nooverfit.studies.session import StudySession
    from nooverfit.studies.shifted import prefer_shifts
    from nooverfit.studies.stages import Findings, run_stage

    torch.set_num_threads(1)
    data = {s: load_split("digits", seed=s, device="cpu") for s in (0, 1)}
    session = StudySession(data, engine="sequential")
    base = RunConfig(model="cnn", width=4, depth=1, epochs=4, train_per_class=10, label="b")
    aug = base.replace(augment=1.0, label="augment=1")
    both = base.replace(augment=1.0, batchnorm=True, label="augment=1 + batchnorm")
    session.train([base, aug, both])
    found = Findings()
    found.baseline = session.variant(base, "baseline", base, name="baseline")
    found.variants = [found.baseline, session.variant(aug, "augment", base, name=aug.label)]
    found.combinations = [session.variant(both, "combination", base, name=both.label)]
    found.recommended = found.combinations[0]
    before = found.recommended
    run_stage(plan.EnsembleStage((3,), 0, shifts=True), session, found)
    shifted = next(r for r in found.outcomes if r.remedy == "shifted")
    twins = {n: m for n, m in found.ensembles.items() if m.trained}
    # the choice and the ensembles whose members were all trained on shifted images
    assert set(twins) == {"augment=1 + batchnorm + test-time shifts"}
    twin = twins["augment=1 + batchnorm + test-time shifts"]
    assert twin.runs == (both,) and twin.configs == (both.replace(tta=True),)
    assert shifted.chosen.name == "augment=1 + batchnorm + test-time shifts"
    # the rule, applied by hand to the scores: an admissible ensemble first, then the prior
    ensembles = [r.chosen for r in found.outcomes if r.remedy == "ensemble"]
    pick = pick_ensemble([v.score for v in [*ensembles, shifted.chosen]], before.score)
    want = before if pick is None else [*ensembles, shifted.chosen][pick]
    if want is before and prefer_shifts(shifted.chosen.score, before.score):
        want = shifted.chosen
    assert found.recommended.name == want.name
