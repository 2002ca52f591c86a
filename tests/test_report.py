import dataclasses
import re

from nooverfit.report import points, reproduce
from nooverfit.studies.evidence import evidence


def test_points_keeps_the_sign_of_small_negatives():
    assert points(0.0123) == "+1.2"
    assert points(-0.0001) == "-0.0"
    assert points(float("nan")) == "n/a"


def test_report_shows_paired_differences_verdicts_code_and_command(tiny_study):
    result, out = tiny_study
    html = (out / "report.html").read_text()
    ev = evidence(result)
    for section in (
        "seed-verdicts",
        "measured-advice",
        "paired-test",
        "code-pytorch",
        "code-keras",
        "reproduce-command",
    ):
        assert f'id="{section}"' in html
    # Every seed's verdict, in the table.
    table = html.split('id="seed-verdicts"')[1].split("</table>")[0]
    assert len(re.findall(r"<tr><td>\d+</td>", table)) == len(ev.seeds)
    # The remedies table lists the remedies in the evidence's order.
    remedies = html.split('id="remedies"')[1].split("</table>")[0]
    positions = [remedies.index(f">{d.name}<") for d in ev.remedies]
    assert positions == sorted(positions)
    assert "95 % interval" in remedies and "std over" in html


def test_reproduce_prefers_the_command_the_cli_ran(tiny_study):
    result, _ = tiny_study
    rebuilt = reproduce(result)["command"]
    assert rebuilt.startswith("nooverfit study --data digits")
    assert f"--seeds {len(result.settings.seeds)}" in rebuilt
    assert "--width 16" in rebuilt


def test_an_ensemble_recommendation_is_described_as_one(tiny_study):
    import dataclasses

    from nooverfit.plots.study import run_curves
    from nooverfit.report import render

    result, _ = tiny_study
    ensemble = next(r.chosen for r in result.remedies if r.chosen.stage == "ensemble")
    names = ["dropout=0.3", "l2=0.001", "baseline"]
    as_ensemble = dataclasses.replace(
        result, recommended=ensemble, extras={**result.extras, "ensemble": {"names": names}}
    )
    _, right = run_curves(as_ensemble)
    assert right.title == "Ensemble of 3: its first network, dropout=0.3"
    html = render(as_ensemble, {})
    assert (
        "averages the predicted probabilities of 3 networks; the code above trains the " in (html)
        and "The others: l2=0.001; baseline." in html
    )
    assert "averages the predicted" not in render(result, {})


def test_an_ensembles_recipe_lists_how_each_member_differs_from_the_first(tiny_study):
    """The note said "Train each the same way" under code for the first member only."""
    import dataclasses

    from nooverfit.config import RunConfig
    from nooverfit.report import render

    result, _ = tiny_study
    ensemble = next(r.chosen for r in result.remedies if r.chosen.stage == "ensemble")
    base = RunConfig(width=16, label="label smoothing=0.1", label_smoothing=0.1)
    configs = [base, base.replace(dropout=0.3, batchnorm=True), base.replace(init=1)]
    names = ["label smoothing=0.1", "dropout=0.3 + batchnorm", "copy 1"]
    kept = {"names": names, "configs": [c.to_dict() for c in configs]}
    as_ensemble = dataclasses.replace(
        result, recommended=ensemble, extras={**result.extras, "ensemble": kept}
    )
    html = render(as_ensemble, {})
    assert "trains the first (label smoothing=0.1)" in html
    assert "2. dropout=0.3 + batchnorm: dropout 0.3, batchnorm True; 3. copy 1: init 1" in html
    assert "Train each the same way" not in html


def test_an_ensembles_recipe_gives_each_members_augmentation(tiny_study):
    """The recipe of an ensemble showed the first member's augmentation only: a member
    trained with another strength (or none) read "augment 0.5" and no lines."""
    import dataclasses
    import html

    from nooverfit.config import RunConfig
    from nooverfit.report import render

    result, _ = tiny_study
    ensemble = next(r.chosen for r in result.remedies if r.chosen.stage == "ensemble")
    base = RunConfig(width=16, label="augment=0.25", augment=0.25)
    configs = [base, base.replace(augment=0.5, mixup=0.2), base.replace(augment=0.0)]
    names = ["augment=0.25", "augment=0.5 + mixup", "no augmentation"]
    kept = {"names": names, "configs": [c.to_dict() for c in configs]}
    as_ensemble = dataclasses.replace(
        result, recommended=ensemble, extras={**result.extras, "ensemble": kept}
    )
    page = " ".join(html.unescape(render(as_ensemble, {})).split())
    # digits' affine map at strength s: 15 s degrees, 10 s % shifts, a 1 +- 0.1 s zoom
    first = (
        "augment = v2.RandomAffine(degrees=3.75, translate=(0.025, 0.025), scale=(0.975, 1.025))"
    )
    second = "augment = v2.RandomAffine(degrees=7.5, translate=(0.05, 0.05), scale=(0.95, 1.05))"
    assert first in page
    assert (
        "# member 2 (augment=0.5 + mixup), the code above changed: mixup 0.2, augment 0.5. "
        "Its augmentation: from torchvision.transforms import v2 # on each training batch "
        f"{second} # mixup (alpha 0.2), on each training batch xb, yb:"
    ) in page
    assert (
        "# member 3 (no augmentation), the code above changed: augment 0.0. "
        "Its augmentation: none."
    ) in page
    # the Keras form: each member's layers (Keras's RandomRotation takes a turn's share)
    assert (
        "Its augmentation layers, first in keras.Sequential: # layers.RandomRotation(0.0208),"
    ) in page
    assert "Its augmentation layers: none." in page


def test_the_python_line_repeats_the_study_with_its_data_options():
    from nooverfit.studies.options import StudyOptions

    opts = StudyOptions(seeds=2, classes="5-9", train_per_class=None, model_factory=len)
    assert opts.call("csv:a.csv", {"target": "y", "data_dir": None}) == (
        "nooverfit.study('csv:a.csv', train_per_class=None, seeds=2, classes='5-9', "
        "model_factory=..., target='y')"
    )
    assert StudyOptions().call("digits", {}) == "nooverfit.study('digits')"


def test_a_python_study_gets_the_command_line_that_repeats_it():
    """A study run from Python records the ``nooverfit study`` line with its data options
    (it lacked ``--target``, so the report's command failed); the CLI parses that line
    back into the same options."""
    import shlex

    import typer

    from nooverfit.cli import app
    from nooverfit.studies.options import StudyOptions

    opts = StudyOptions(seeds=2, train_per_class=None, epochs=5, classic=False, classes="5-9")
    data = {"target": "y", "ignore": ["id", "name"], "download": False, "data_dir": None}
    line = opts.command("csv:my data.csv", data)
    assert line == (
        "nooverfit study --data 'csv:my data.csv' --train-per-class 0 --epochs 5 "
        "--classes 5-9 --no-classic --seeds 2 --target y --ignore id,name"
    )
    study = typer.main.get_command(app).commands["study"]  # type: ignore[attr-defined]
    params = study.make_context("study", shlex.split(line)[2:]).params
    assert (params["data"], params["target"], params["ignore"]) == (
        "csv:my data.csv",
        "y",
        "id,name",
    )
    assert (params["train_per_class"], params["epochs"], params["seeds"]) == (0, 5, 2)
    assert (params["classes"], params["classic"]) == ("5-9", False)
    # what a command line cannot say: no line rather than a wrong one
    assert StudyOptions(model_factory=len).command("digits", {}) is None
    assert StudyOptions(seeds=[3, 4]).command("digits", {}) is None
    assert StudyOptions().command("digits", {"image_size": 8}) is None
    assert StudyOptions().command("digits", {}) == "nooverfit study --data digits"


def test_the_report_repeats_the_call_the_study_was_made_with(tiny_study):
    result, _ = tiny_study
    python = reproduce(result)["python"]
    assert python.startswith("nooverfit.study('digits', width=16, train_per_class=10, budget=")
    assert "seeds=2, engine='sequential'" in python


def test_the_reports_causes_hold_the_audits_cause_as_results_json_does(tiny_study):
    import dataclasses

    import numpy as np

    from nooverfit.groups import group_gap, homogeneous_cause
    from nooverfit.report import render

    result, _ = tiny_study
    y = np.zeros(8, int)
    pred = np.array([0, 0, 0, 0, 0, 1, 1, 1])  # heard voices 4/4 right, unheard 1/4
    groups = np.array(["a", "a", "b", "b", "c", "c", "d", "d"])
    gap = group_gap(pred, y, groups, heard={"a", "b"})
    audit = {**result.extras["audit"], "groups": dataclasses.asdict(gap)}
    heard = dataclasses.replace(result, extras={**result.extras, "audit": audit})
    cause = homogeneous_cause(gap, chance=0.1)
    assert cause is not None
    first = f"<b>Likely causes:</b></p><ul><li>{cause.reason[:40]}"
    assert first in render(heard, {}).replace("&#39;", "'")
    assert cause.reason[:40] not in render(result, {})


def test_the_capacity_caption_says_when_the_baseline_width_is_chosen(tiny_study):
    import dataclasses

    from nooverfit.report import captions

    result, _ = tiny_study
    curve = result.capacity
    assert curve is not None
    width = float(result.baseline.config.width)
    at_base = dataclasses.replace(result, capacity=dataclasses.replace(curve, chosen=width))
    assert captions(at_base)["capacity"].endswith("The chosen width is the baseline's own.")
    other = next(v for v in curve.values if v != width)
    elsewhere = dataclasses.replace(result, capacity=dataclasses.replace(curve, chosen=other))
    assert "baseline's own" not in captions(elsewhere)["capacity"]


def test_the_techniques_explained_are_those_of_the_studys_kind_of_data(tiny_study):
    """A tabular report described augmentation as shifts and rotations and its samples as
    images; each kind now gets its own words."""
    from nooverfit.report import data_kind, render
    from nooverfit.techniques import techniques

    tabular = techniques("tabular")
    assert "Gaussian noise" in tabular["Data augmentation (tabular data)"]
    assert not {"Data augmentation", "Cutout", "Test-time shifts"} & set(tabular)
    image = techniques("image")
    assert (
        "rotation" in image["Data augmentation"] and "Input encoding (tabular data)" not in image
    )
    assert "L2 regularization (lambda)" in image and "L2 regularization (lambda)" in tabular
    result, _ = tiny_study
    assert data_kind(result) == "image"
    html = render(result, {})
    tried = {o.remedy for o in result.remedies}
    assert "test images lie farther" in html and ("<dt>Cutout</dt>" in html) == ("cutout" in tried)
    as_rows = dataclasses.replace(
        result, settings=dataclasses.replace(result.settings, kind="tabular")
    )
    html = render(as_rows, {})
    assert "test rows lie farther" in html and "<dt>Cutout</dt>" not in html
    assert ("Gaussian noise" in html) == ("augment" in tried)


def test_the_techniques_explained_are_what_the_study_tried_on_its_data():
    """The folder report said augmentation was "small shifts and rotations for digit
    images, never flips" although the folder policy crops, flips and jitters colour; the
    spoken report listed "gain, time shift and background noise" only; a digits study
    explained cutout, test-time shifts and transfer learning it never tried."""
    from nooverfit.data.augment import POLICIES
    from nooverfit.techniques import techniques

    quick = {"l2", "dropout", "label_smoothing", "mixup", "ema", "batchnorm"}
    quick |= {"early_stopping", "augment", "capacity", "ensemble"}
    digits = techniques("image", "digits", frozenset(quick))
    assert not {"Cutout", "Test-time shifts", "Transfer learning"} & set(digits)
    assert {"Ensembles", "Label smoothing", "Data augmentation"} <= set(digits)
    assert "never a flip" in digits["Data augmentation"]
    folder = techniques("image", "folder+flip:imgs", frozenset(quick))["Data augmentation"]
    policy = POLICIES["folder+flip"]
    assert "crop keeping 50 %" in folder and "flip of half" in folder and "never" not in folder
    assert f"up to {policy.rotate:g} degrees" in folder and "jitter of ±20 %" in folder
    # a plain image folder may hold digits or letters: never flipped, and the report says
    # how to ask for flips
    plain = techniques("image", "folder:imgs", frozenset(quick))["Data augmentation"]
    assert "crop keeping 50 %" in plain and "flip of half" not in plain
    assert "never a flip" in plain and "folder+flip:PATH" in plain
    spoken = techniques("audio", "spoken", frozenset(quick))["Data augmentation (audio)"]
    assert "vocal-tract-length warp" in spoken and "SpecAugment" in spoken
    assert "gain" not in spoken  # the maps are normalized per utterance: no gain effect
    keywords = techniques("audio", "keywords", frozenset(quick))["Data augmentation (audio)"]
    assert "time shift" in keywords and "±6 dB" in keywords
    assert "Data augmentation (audio)" not in techniques("audio", "keywords", frozenset({"l2"}))


def test_the_reports_recipe_follows_the_studys_kind_of_data(tiny_study):
    """An audio study's recipe starts with the study's log-spectrogram front end and
    augments with the study's audio augmenter, not Gaussian noise on "standardized
    features" (the recipe was written for tabular data); an image folder's with the
    folder policy's crops and flips, not the digits' affine map."""
    import dataclasses

    from nooverfit.config import RunConfig
    from nooverfit.report import render

    result, _ = tiny_study
    config = RunConfig(width=16, depth=1, augment=0.5)
    recommended = dataclasses.replace(result.recommended, config=config)
    for data, kind, wanted, unwanted in (
        ("keywords", "audio", "audio_front", "standardized features"),
        ("folder:imgs", "image", "RandomResizedCrop", "RandomAffine(degrees=7.5"),
    ):
        settings = dataclasses.replace(result.settings, data=data, kind=kind)
        html = render(dataclasses.replace(result, settings=settings, recommended=recommended), {})
        code = html.split('id="code-pytorch">')[1].split("</pre>")[0]
        assert wanted in code and unwanted not in code


def test_a_recommendation_on_weak_evidence_says_so_in_the_headline(tiny_study):
    """The folder study's headline said "Train batchnorm" although its validation
    interval against the baseline, [-27.0, +43.6], was within noise."""
    import dataclasses

    from nooverfit.report import render
    from nooverfit.studies.evidence import weakness

    result, _ = tiny_study
    chosen = next(o.chosen for o in result.remedies if o.chosen.stage != "ensemble")
    html = render(dataclasses.replace(result, recommended=chosen), {})
    why = weakness(evidence(dataclasses.replace(result, recommended=chosen)).validation, "images")
    assert why is not None  # a 2-seed tiny study: no remedy clears the 95 % interval
    headline = html.split('id="headline"')[1].split("</p>")[0]
    assert "Weak evidence:" in headline and why in headline
    assert "Weak evidence" not in render(result, {}).split('id="headline"')[1].split("</p>")[0]


def test_the_ensemble_size_caption_gives_the_reason_of_the_choice(tiny_study):
    """The caption said the 9-network ensemble was chosen for the best mean validation
    accuracy "tied with 3"; ensembles are recommended by validation log loss."""
    import dataclasses

    from nooverfit.report import captions

    result, _ = tiny_study
    assert any(c.param == "ensemble_size" for c in result.validation_curves)
    ensemble = next(r.chosen for r in result.remedies if r.chosen.stage == "ensemble")
    names = {"names": ["a", "b", "c"]}
    as_ensemble = dataclasses.replace(
        result, recommended=ensemble, extras={**result.extras, "ensemble": names}
    )
    text = captions(as_ensemble)["validation_ensemble_size"]
    assert "The recommended ensemble averages 3 networks" in text
    assert f"lowest mean validation log loss ({ensemble.score.val_loss:.3f})" in text
    if result.recommended.stage != "ensemble":
        assert "No ensemble is recommended" in captions(result)["validation_ensemble_size"]


def test_the_leakage_line_says_which_split_a_duplicate_repeats(tiny_study):
    """Two test rows twinned with validation rows were reported as validation/test rows
    duplicating "a training one"."""

    from nooverfit.report import render

    result, _ = tiny_study
    audit = result.extras["audit"]

    def leak(index, match_split):
        return {
            "index": index,
            "split": "test",
            "match": 1,
            "match_split": match_split,
            "distance": 0.0,
            "exact": True,
        }

    def line(leaks):
        dups = {**audit["duplicates"], "leaks": leaks}
        extras = {**result.extras, "audit": {**audit, "duplicates": dups}}
        html = render(dataclasses.replace(result, extras=extras), {})
        found = re.search(r'<li id="audit-leaks">(.*?)</li>', html, re.S)
        assert found is not None
        return " ".join(found.group(1).split())

    both = line([leak(3, "val"), leak(4, "val"), leak(5, "train")])
    assert both.startswith("Leakage: 1 validation/test ")
    assert ", 2 test " in both and "a validation one" in both
    assert "a validation one" not in line([leak(5, "train")])


def test_a_split_by_whole_groups_is_said_in_the_report(tiny_study):
    from nooverfit.report import render

    result, _ = tiny_study
    assert 'id="whole-groups"' not in render(result, {})
    grouped = [dataclasses.replace(sp, whole_groups=True) for sp in result.splits]
    html = render(dataclasses.replace(result, splits=grouped), {})
    assert 'id="whole-groups"' in html and "never heard in training" in html


def test_every_remedy_the_planner_knows_has_its_technique_explained():
    """TabM-style members and PLR embeddings joined the planner with no explanation, so a
    report on a study that tried them explained neither."""
    from nooverfit.studies.plan import REMEDIES
    from nooverfit.techniques import TRIED_BY, techniques

    assert set(REMEDIES) <= set(TRIED_BY.values())
    tabular = techniques("tabular", "csv:x.csv", frozenset({"members", "periodic"}))
    assert set(tabular) == {
        "Members in one network (tabular data)",
        "Periodic feature embeddings (tabular data)",
    }
    assert not techniques("image", "digits", frozenset({"members", "periodic"}))


def test_the_cost_line_and_table_list_every_stage_that_took_time(tiny_study):
    from nooverfit.report import cost_line, render
    from nooverfit.studies.result import StageCost

    result, _ = tiny_study
    costs = (
        StageCost("baseline and remedies", 6, 600, 60, 40.0, {"completed": 6}, 10**12),
        StageCost("ensembles", 0, 0, 0, 12.4, {}),  # scores stored runs: time, no runs
        StageCost("checks", 0, 0, 0, 0.1, {}),  # a tenth of a second: left out
        StageCost("classic models", 0, 0, 0, 0.2, {}),
    )
    shown = dataclasses.replace(result, costs=costs)
    line = cost_line(shown)
    assert "baseline and remedies 40 s (6 runs, 600 steps), ensembles 12 s, classic models" in line
    assert "checks" not in line
    assert "25.0 GFLOP/s" in line  # training stages' FLOPs over their own seconds
    table = render(shown, {}).split('id="costs"')[1].split("</table>")[0]
    assert [row.split("</td>")[0] for row in table.split("<tr><td>")[1:]] == [
        "baseline and remedies",
        "ensembles",
        "classic models",
    ]


def test_a_weighted_ensembles_recipe_gives_each_members_weight(tiny_study):
    """The recipe told the reader to "average their softmax outputs" for a blend whose
    rung counts as much as the three other networks together."""
    from fractions import Fraction

    from nooverfit.config import RunConfig
    from nooverfit.report import ensemble_note

    result, _ = tiny_study
    base = RunConfig(width=16)
    configs = [base.replace(depth=0), base, base.replace(dropout=0.1), base.replace(l2=1e-3)]
    shares = [Fraction(1, 2), *[Fraction(1, 6)] * 3]  # the rung at 1/2, the rest alike
    kept = {
        "names": ["lin", "a", "b", "c"],
        "configs": [c.to_dict() for c in configs],
        "weights": [float(s) for s in shares],
    }
    as_blend = dataclasses.replace(result, extras={**result.extras, "ensemble": kept})
    text = ensemble_note(as_blend)
    assert "weighted " + ", ".join(str(s) for s in shares) in text
    plain = {k: v for k, v in kept.items() if k != "weights"}
    text = ensemble_note(dataclasses.replace(result, extras={**result.extras, "ensemble": plain}))
    assert "average their softmax outputs (" in text and "weighted" not in text
    # names only (results without the members' configurations)
    names = {"names": kept["names"], "weights": kept["weights"]}
    text = ensemble_note(dataclasses.replace(result, extras={**result.extras, "ensemble": names}))
    assert "weighted " + ", ".join(str(s) for s in shares) in text
