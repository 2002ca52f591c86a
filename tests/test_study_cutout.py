"""Cutout as a study remedy and VGG-style blocks as a search option (plan, combine,
search, labels), and a small study that reports the cutout row and its curve."""

from __future__ import annotations

import dataclasses

from conftest import TINY
from nooverfit.config import RunConfig
from nooverfit.studies import plan
from nooverfit.studies.combine import combine
from nooverfit.studies.labels import describe
from nooverfit.studies.search import search_space

CNN = RunConfig(model="cnn", width=16, depth=2, epochs=100, label="baseline")


def test_cutout_variants_only_for_images_and_not_in_the_quick_budget():
    standard = plan.get_budget("standard")
    grid = plan.remedy_variants(CNN, standard, images=True)["cutout"]
    augmented = plan.remedy_variants(CNN, standard, images=True)["augment"][0].epochs
    assert [c.cutout for c in grid] == [0.25, 0.5]
    assert [c.label for c in grid] == ["cutout=0.25", "cutout=0.5"]
    assert all(c.epochs == augmented for c in grid)  # judged at the augmented epochs
    assert plan.remedy_variants(CNN, standard)["cutout"] == []  # tabular or audio data
    assert plan.remedy_variants(CNN, plan.get_budget("quick"), images=True)["cutout"] == []
    assert plan.unregularized(grid[0]).cutout == 0.0


def test_combine_keeps_the_cutout_and_its_epochs():
    chosen = {"cutout": CNN.replace(cutout=0.5, epochs=300), "dropout": CNN.replace(dropout=0.3)}
    merged = combine(CNN, chosen)[0]
    assert (merged.cutout, merged.epochs, merged.dropout) == (0.5, 300, 0.3)
    assert describe(merged, CNN) == "dropout=0.3 + cutout=0.5"


def test_search_space_offers_two_convs_per_block_to_a_cnn_only():
    chosen = {"cutout": CNN.replace(cutout=0.5)}
    dims = dict(search_space(CNN, combine(CNN, chosen)[0], chosen, max_epochs=600).dims)
    assert dims["convs"] == (1, 2) and dims["cutout"] == (0.5, 0.25, 0.0)
    mlp = RunConfig(width=16)
    assert "convs" not in dict(search_space(mlp, mlp, {}, max_epochs=600).dims)
    assert describe(CNN.replace(convs=2), CNN) == "2 convs per block"


def test_a_cnn_study_reports_the_cutout_remedy_and_its_validation_curve():
    from nooverfit.studies import study

    budget = dataclasses.replace(TINY, epochs=6, cutout=(0.5,), augment=(), l2=(), dropout=())
    result = study(
        "digits",
        model="cnn",
        width=4,
        train_per_class=5,
        budget=budget,
        seeds=1,
        learning_curves=False,
    )
    assert any(v.name == "cutout=0.5" for v in result.variants)
    assert any(r.remedy == "cutout" for r in result.remedies)
    curve = next(c for c in result.validation_curves if c.param == "cutout")
    assert list(curve.values) == [0.0, 0.5]  # the baseline, then the grid


def test_test_time_shifts_are_a_remedy_and_a_search_option_for_images():
    standard = plan.get_budget("standard")
    (shifted,) = plan.remedy_variants(CNN, standard, images=True)["tta"]
    assert shifted.tta and shifted.label == "test-time shifts"
    assert plan.remedy_variants(CNN, plan.get_budget("quick"), images=True)["tta"] == []
    assert plan.unregularized(shifted).tta is False
    assert combine(CNN, {"tta": shifted})[0].tta
    stages = plan.study_stages(CNN, standard, images=True)
    assert next(s for s in stages if isinstance(s, plan.CombinationStage)).images
    dims = dict(search_space(CNN, CNN, {}, max_epochs=600, shifts=True).dims)
    assert dims["tta"] == (False, True)
    assert "tta" not in dict(search_space(CNN, CNN, {}, max_epochs=600).dims)


def test_a_saved_network_with_test_time_shifts_predicts_as_the_study_tested_it(data, tmp_path):
    from nooverfit.saved_model import load_study_model
    from nooverfit.shifts import ShiftCopies
    from nooverfit.studies.compare import compare
    from nooverfit.study_files import write_study

    candidate = RunConfig(model="cnn", width=4, epochs=3, augment=1.0, tta=True)
    result = compare(data, candidate.replace(train_per_class=10))
    write_study(result, tmp_path)
    model = load_study_model(tmp_path)
    assert isinstance(model.networks[0][0], ShiftCopies)  # rebuilt from the saved config
    test = data.test_index
    labels = model.predict_proba(data.x[test].numpy()).argmax(1)
    accuracy = float((labels == data.y[test].numpy()).mean())
    assert accuracy == result.test["recommended"].accuracy
