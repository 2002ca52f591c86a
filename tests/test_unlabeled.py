import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

import nooverfit.studies.unlabeled as unlabeled
from conftest import TINY
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.studies import plan, study
from nooverfit.studies.unlabeled import PseudoLabels, pseudo_labels, student_config

#: TINY with fewer remedies (the stage's cost is what the tests pay for)
PSEUDO = dataclasses.replace(
    TINY,
    l2=(1e-3,),
    widths=(),
    stopping=(),
    weight_decay=(0.1,),
    smoothing=(),
    mixup=(),
    ema=(),
    ensembles=(3,),
    pseudo=(0.5, 0.9),
)


class _Fixed(nn.Module):
    """A 'network' answering fixed logits for the samples' first feature (their row id)."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits[x[:, 0].long()]


def test_pseudo_labels_keep_the_most_probable_class_and_its_probability():
    logits = torch.tensor([[4.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 9.0]])
    x = torch.arange(3.0).unsqueeze(1)
    pl = pseudo_labels(_Fixed(logits), x, np.array([0, 1, 2]))
    assert pl.labels.tolist() == [0, 1, 2]
    expected = logits.softmax(-1).max(-1).values.double().numpy()
    assert np.allclose(pl.confidence, expected)
    index, labels = pl.confident(0.9)
    assert index.tolist() == [0, 2] and labels.tolist() == [0, 2]


def test_pseudo_labels_confident_threshold_one_keeps_only_certain_samples():
    pl = PseudoLabels(np.array([7, 8]), np.array([1, 2]), np.array([1.0, 0.999]))
    assert pl.confident(1.0)[0].tolist() == [7]


def test_student_config_trains_the_pool_for_the_base_steps():
    base = RunConfig(model="cnn", width=16, epochs=75, train_per_class=10, augment=1.0)
    c = student_config(base, 0.9, labelled=100, pool=748)
    assert (c.train_per_class, c.train_size, c.pseudo) == (None, None, 0.9)
    # 75 epochs of 4 batches = 300 steps; 748 samples take 24 batches an epoch
    assert c.epochs == 13
    assert c.augment == 1.0 and c.label == "pseudo-labels >= 0.9"
    assert c.key != base.key
    with pytest.raises(ValueError, match=r"threshold must be in \(0, 1\]"):
        student_config(base, 0.0, labelled=100, pool=748)


def test_config_pseudo_keeps_old_keys_and_is_validated():
    assert "pseudo" not in RunConfig().to_dict() or RunConfig().key == RunConfig(pseudo=0.0).key
    with pytest.raises(ValueError, match="pseudo must be in"):
        RunConfig(pseudo=1.5)


def test_plan_offers_pseudo_labels_only_on_a_subset_with_a_grid():
    base = RunConfig(train_per_class=10)

    def names(config: RunConfig, budget: plan.StudyBudget) -> list[str]:
        return [type(s).__name__ for s in plan.study_stages(config, budget)]

    assert "UnlabeledStage" in names(base, PSEUDO)
    assert "UnlabeledStage" not in names(base.replace(train_per_class=None), PSEUDO)
    assert "UnlabeledStage" not in names(base, TINY)
    assert "UnlabeledStage" not in names(base, plan.BUDGETS["quick"])  # default study unchanged


@pytest.fixture(scope="module")
def pseudo_study():
    """A two-seed study with the pseudo-labels stage, and every student's data."""
    seen = {}
    original = unlabeled.run_unlabeled

    def spy(stage, session, found, teacher):
        original(stage, session, found, teacher)
        seen.update(session.derived)

    unlabeled.run_unlabeled = spy
    try:
        result = study("digits", width=16, train_per_class=10, budget=PSEUDO, seeds=2)
    finally:
        unlabeled.run_unlabeled = original
    return result, seen


def test_study_students_never_read_validation_or_test_samples(pseudo_study):
    result, derived = pseudo_study
    y = load_dataset("digits").y
    assert len(derived) == 2 * 2  # two thresholds on two seeds
    for data in derived.values():
        split = next(s for s in result.splits if s.seed == data.split.seed)
        pool = set(data.split.pool.tolist())
        train = set(result.train_indices[split.seed])
        assert train <= pool <= set(split.pool.tolist())
        assert not pool & set(split.val.tolist()) and not pool & set(split.test.tolist())
        assert np.array_equal(data.split.val, split.val)
        for index in (split.val, split.test, np.array(sorted(train))):
            assert data.y[torch.as_tensor(index)].tolist() == y[index].tolist()


def test_study_reports_the_pseudo_labels_row_and_curve(pseudo_study, tmp_path):
    from nooverfit.study_files import write_study

    result, _ = pseudo_study
    row = next(o for o in result.remedies if o.remedy == "pseudo_labels")
    # a threshold's student, or the average of both
    assert row.chosen.name in (
        "pseudo-labels >= 0.5",
        "pseudo-labels >= 0.9",
        "ensemble of 2 pseudo-label students",
    )
    curve = next(c for c in result.validation_curves if c.param == "pseudo_threshold")
    assert curve.values == (0.5, 0.9)
    extras = result.extras["pseudo_labels"]
    assert extras["teacher"] and len(extras["unlabeled"]) == 2
    kept = extras["kept"]
    assert all(a >= b for a, b in zip(kept["0.5"], kept["0.9"], strict=True))
    write_study(result, tmp_path)
    assert "pseudo" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "plots" / "validation_pseudo_threshold.png").is_file()


def test_study_with_pseudo_labels_is_deterministic(pseudo_study):
    result, _ = pseudo_study
    again = study("digits", width=16, train_per_class=10, budget=PSEUDO, seeds=2)
    rows = [
        [o.chosen.score for o in r.remedies if o.remedy == "pseudo_labels"]
        for r in (result, again)
    ]
    assert rows[0] == rows[1]
    assert result.recommended.name == again.recommended.name
    assert result.test["recommended"] == again.test["recommended"]


@pytest.mark.slow
def test_study_recommends_the_students_where_they_help():
    """End to end: at 10 per class the study's choice is replaced by its pseudo-label
    students, which score higher on test too. (At 5 per class the students' gain was
    exactly 2 standard errors, per seed +1, +4, +1 of 135 validation images, which the
    selection now keeps out: a tie at the margin keeps the simpler, review i114.)

    Three seeds: with two, which remedy taught the students turned on the initial draw
    (batch norm's seed-0 validation moved 0.822 -> 0.796 when the bias before it went,
    which shifts the random stream), and the students' test gain with it (+5.0 points
    from batch norm, none from the baseline)."""
    budget = dataclasses.replace(
        PSEUDO, epochs=150, l2=(), dropout=(), augment=(), weight_decay=(), ensembles=()
    )
    result = study(
        "digits",
        model="mlp",
        width=64,
        train_per_class=10,
        seeds=3,
        budget=budget,
        learning_curves=False,
    )
    assert result.extras["pseudo_labels"]["recommended"]
    assert "pseudo-label" in result.recommended.name
    assert result.test["recommended"].accuracy > result.test["baseline"].accuracy
