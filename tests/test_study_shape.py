"""The study's shape: typed results read back from results.json, the options object, the
plan's stages, the engine rule, and the study never importing its report."""

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from conftest import TINY
from nooverfit.config import RunConfig
from nooverfit.diagnosis import Diagnosis
from nooverfit.studies import StudyOptions, StudySettings, plan
from nooverfit.studies.result import RunRecord
from nooverfit.studies.session import study_engine

STUDIES = Path(__file__).parents[1] / "src" / "nooverfit" / "studies"


def test_results_json_reads_back_into_typed_runs_and_settings(tiny_study):
    result, out = tiny_study
    saved = json.loads((out / "results.json").read_text())
    settings = StudySettings.from_dict(saved["settings"])
    assert settings == result.settings
    assert list(saved["settings"]) == list(result.settings.to_dict())
    for key, run in saved["runs"].items():
        record = RunRecord.from_dict(run)
        assert isinstance(record.diagnosis, Diagnosis)
        assert record.diagnosis.verdict is result.runs[key].diagnosis.verdict
        # NaN != NaN, so compare the JSON text
        assert json.dumps(record.to_dict()) == json.dumps(run)
    assert isinstance(result.baseline_diagnosis, Diagnosis)
    assert result.baseline_diagnosis == result.runs[result.baseline.runs[0]].diagnosis


def test_keyword_arguments_build_the_options_and_the_rest_go_to_the_loader():
    base = StudyOptions(model="cnn", seeds=2)
    opts, rest = StudyOptions.split_kwargs(base, {"seeds": 5, "target": "y", "width": 8})
    assert opts == StudyOptions(model="cnn", seeds=5, width=8)
    assert rest == {"target": "y"}
    assert opts.seed_list == [0, 1, 2, 3, 4] and opts.baseline_width == 8
    assert StudyOptions(model="cnn").baseline_width == 16
    assert StudyOptions(budget=TINY).budget_name == "custom"
    with pytest.raises(ValueError, match="seeds must be >= 1"):
        StudyOptions(seeds=0)
    with pytest.raises(AttributeError):
        base.model = "mlp"  # type: ignore[misc]


def test_the_plan_orders_a_studys_stages():
    baseline = RunConfig(width=16, epochs=4, train_per_class=10, label="baseline")
    kinds = [type(s) for s in plan.study_stages(baseline, TINY)]
    assert kinds == [
        plan.RemediesStage,
        plan.CombinationStage,
        plan.EnsembleStage,
        plan.LearningCurveStage,
        plan.ChecksStage,
    ]
    stages = plan.study_stages(baseline, TINY, transfer=True, learning_curve=False)
    assert [type(s) for s in stages] == [
        plan.RemediesStage,
        plan.TransferStage,
        plan.CombinationStage,
        plan.EnsembleStage,
        plan.ChecksStage,
    ]
    remedies = stages[0]
    assert isinstance(remedies, plan.RemediesStage)
    # the input encodings and the linear rung only for tabular data, annealing only when
    # the budget asks, cutout and test-time shifts only for images with a budget that asks,
    # TabM members and PLR embeddings only on tabular data with a budget that asks
    off = ("cosine", "cutout", "tta", "members", "periodic")
    assert [name for name, _ in remedies.grids] == [
        r for r in plan.REMEDIES if r not in ("inputs", "linear", *off)
    ]
    tabular = plan.study_stages(baseline, TINY, tabular=True)[0]
    assert isinstance(tabular, plan.RemediesStage)
    assert [name for name, _ in tabular.grids] == [r for r in plan.REMEDIES if r not in off]
    asks = dataclasses.replace(TINY, members=(4,), periodic=True)
    grids = dict(plan.study_stages(baseline, asks, tabular=True)[0].grids)
    assert [(c.members, c.periodic) for c in grids["members"] + grids["periodic"]] == [
        (4, False),
        (1, True),
    ]
    assert "members" not in dict(plan.study_stages(baseline, asks)[0].grids)
    assert [c.inputs for c in dict(tabular.grids)["inputs"]] == list(TINY.inputs)
    assert [c.weight_decay for c in dict(remedies.grids)["l2"]] == list(TINY.weight_decay)
    # the whole pool: no learning curve over per-class sizes
    whole = baseline.replace(train_per_class=None)
    assert plan.LearningCurveStage not in [type(s) for s in plan.study_stages(whole, TINY)]


def test_compare_is_a_plan_of_one_stage():
    candidate = RunConfig(l2=1e-3, dropout=0.3, augment=1.0, early_stopping="gl:5", seed=4)
    (stage,) = plan.compare_stages(candidate, "tuned")
    assert isinstance(stage, plan.CompareStage)
    assert stage.candidate == candidate and stage.name == "tuned"
    assert stage.baseline == RunConfig(seed=4, label="baseline")


def test_a_studys_auto_engine_is_fused_and_a_bad_name_is_refused():
    assert study_engine("auto") == "fused"
    assert study_engine("sequential") == "sequential"
    with pytest.raises(ValueError, match="engine must be one of auto, fused, sequential"):
        study_engine("turbo")


def _imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_study_never_imports_its_report():
    # nooverfit/study_files.py writes every output, report.html included, from outside.
    for path in sorted(STUDIES.glob("*.py")):
        drawn = {
            m for m in _imported(path) if m.startswith(("nooverfit.report", "nooverfit.plots"))
        }
        assert not drawn, f"{path.name} imports {drawn}"
