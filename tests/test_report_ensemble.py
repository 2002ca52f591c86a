"""An ensemble in the study report: described as one, and its recipe says how each member
differs from the first (configuration, augmentation) and what weight it has."""

import dataclasses


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


def test_an_ensembles_verdict_in_the_remedies_table_is_its_first_networks(tiny_study):
    """The one-seed tabular study's blend row read "overfitting", the verdict of the choice
    it blends, beside a curves figure of its first network, the linear rung, a good fit;
    an average of networks has no curve of its own to diagnose."""
    from nooverfit.diagnosis import Verdict
    from nooverfit.report import render

    result, _ = tiny_study
    outcome = next(o for o in result.remedies if o.chosen.stage == "ensemble")
    v = dataclasses.replace(outcome.chosen, verdict="overfitting")  # another network's
    seeds = len(result.settings.seeds)
    first, later = v.runs[:seeds], v.runs[seeds:]
    assert first and later  # the first network's runs, one per seed, then the others'
    runs = dict(result.runs)
    for key in first:
        under = dataclasses.replace(runs[key].diagnosis, verdict=Verdict.UNDERFITTING)
        runs[key] = dataclasses.replace(runs[key], diagnosis=under)
    remedies = tuple(
        dataclasses.replace(o, chosen=v) if o is outcome else o for o in result.remedies
    )
    html = render(dataclasses.replace(result, remedies=remedies, runs=runs), {})
    table = html.split('id="remedies"')[1].split("</table>")[0]
    row = next(tr for tr in table.split("<tr") if f">{v.name}<" in tr)
    assert row.rstrip().endswith('<td class="l">first network: underfitting</td></tr>')
    baseline = next(tr for tr in table.split("<tr") if ">baseline</td>" in tr)
    assert "first network" not in baseline
