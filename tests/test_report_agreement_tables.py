"""The tables a user compares across a study's three outputs agree (``results.json``, the
HTML report, the CLI summary): the classic models and the one best on validation, the
learning curve's doubling figures, where the time went, the data audit's counts and the
majority-class figures; recomputed from ``results.json`` (:mod:`_agreement`), in the three
forms of the tiny study ``test_report_agreement.py`` reads."""

from __future__ import annotations

import math
import statistics
from collections import Counter

import pytest

from _agreement import (
    FORMS,
    Outputs,
    T,
    apart,
    pct,
    pts,
    spread,
    study_outputs,
    variant_rows,
)


@pytest.fixture(scope="module", params=list(FORMS))
def outputs(tiny_study, tmp_path_factory, request) -> Outputs:
    return study_outputs(tiny_study, request.param, tmp_path_factory)


def test_the_classic_models_agree(outputs):
    d, page, n = outputs.data, outputs.page, len(outputs.data["settings"]["seeds"])
    classic, network = d["extras"]["classic"], d["test"]["recommended"]
    models = classic["models"]
    rows = {r[0]: r for r in page.rows("classic-models")[2:]}
    assert list(rows) == list(models)
    for name, m in models.items():
        assert m["val_mean"] == pytest.approx(statistics.fmean(m["val"]), abs=1e-12)
        assert m["test_mean"] == pytest.approx(statistics.fmean(m["test"]), abs=1e-12)
        assert m["test_std"] == pytest.approx(statistics.pstdev(m["test"]), abs=1e-12)
        assert rows[name][1:4] == [
            pct(m["val_mean"]),
            spread(m["test"]) if n > 1 else pct(m["test_mean"]),
            " ".join(pct(x) for x in m["test"]),
        ]
    top = max(m["val_mean"] for m in models.values())
    best = next(k for k, m in models.items() if m["val_mean"] == top)
    assert classic["best"] == best
    m = models[best]
    t = T.of(network["per_seed"], m["test"])
    said = page.text("classic-verdict")
    assert said.startswith(
        f"The classic model best on validation, {best}, scores {pct(m['test_mean'])}% on the "
        "same test splits; the recommended network "
    )
    shown = round(100 * t.mean, 1)  # the points the verb is said with
    if shown == 0:
        verb = "ties it"
    elif shown < 0:
        verb = "trails it by"
    else:
        verb = "is ahead of it by" if t.reading == "within noise" else "beats it by"
    size = f" {abs(shown):.1f} points" if shown else ""
    per_seed = ", ".join(pts(x) for x in t.per_seed)
    assert (
        f"the recommended network {verb}{size} (seed by seed, network − {best}: {per_seed}" in said
    )
    gap = apart(network["accuracy"], m["test_mean"], t.mean)
    rounded = f"{pct(network['accuracy'])} − {pct(m['test_mean'])} as rounded"
    assert ("as rounded" in said) == (gap is not None)
    if gap is not None:
        assert f"; differences of the unrounded accuracies: {rounded} below gives {gap})" in said
    noise = "includes 0: within noise" if t.reading == "within noise" else "excludes 0"
    bounds = f"{pts(t.low)} to {pts(t.high)} points, {noise}."
    assert f"the 95 % interval of that difference, {bounds}" in said
    unrounded = f" (differences of the unrounded accuracies: {rounded} gives {gap})" if gap else ""
    assert (
        f"Classic model best on validation: {best}, test {pct(m['test_mean'])}% on the same "
        f"splits; recommended − {best}: {pts(t.mean)} points{unrounded}"
    ) in outputs.flat
    # the models above and level with the network, as the table rounds their accuracies
    level = [k for k, x in models.items() if pct(x["test_mean"]) == pct(network["accuracy"])]
    above = [k for k, x in models.items() if x["test_mean"] > network["accuracy"]]
    for head, names in (
        ("Level with the network on mean test accuracy, as rounded: ", set(level) - {best}),
        ("Above the network's mean test accuracy: ", set(above) - set(level)),
    ):
        assert (head in said) == bool(names)
        if names:
            assert f"{head}{', '.join(sorted(names))}." in said


def _at(sizes: list[int], values: list[float], size: float) -> float:
    """The learning curve's value at ``size``, linear in log size between measured points."""
    for i, n in enumerate(sizes):
        if n == size:
            return values[i]
        if i and sizes[i - 1] < size < n:
            w = math.log(size / sizes[i - 1]) / math.log(n / sizes[i - 1])
            return values[i - 1] + w * (values[i] - values[i - 1])
    raise AssertionError(f"{size} lies outside the measured sizes {sizes}")


def test_the_learning_curves_doubling_agrees(outputs):
    d, page = outputs.data, outputs.page
    curve, size = d["learning"], d["settings"]["train_per_class"]
    rec, base = d["recommended"], d["baseline"]
    name = next(
        (k for k in ("recommended", "best single network") if k in curve["series"]),
        "baseline" if rec["name"] == base["name"] else None,
    )
    assert ("doubling" in page) == (name is not None)
    if name is None:
        return
    sizes, values = curve["sizes"], curve["series"][name][0]
    low, high = _at(sizes, values, size), _at(sizes, values, 2 * size)
    drawn = (
        rec
        if name != "best single network"
        else next(v for _, v in variant_rows(d) if v["name"] == curve["names"][name])
    )
    # the curve's point at the study's own size is the runs the remedies table shows
    assert low == pytest.approx(drawn["score"]["val_accuracy"], abs=1e-12)
    fit = curve["fits"][name]
    law = lambda n: fit["a"] * n ** -fit["b"] + fit["c"]  # noqa: E731 (validation error)
    gain = (float(pct(high)) - float(pct(low))) / 100
    said = page.text("doubling")
    assert f"Twice as much training data ({2 * size} per class instead of {size})" in said
    assert f" by {pts(gain)} points on the learning curve" in said
    assert f"({pct(low)}% → {pct(high)}%" in said
    if 2 * size not in sizes:
        around = max(n for n in sizes if n < 2 * size), min(n for n in sizes if n > 2 * size)
        assert f"between the {around[0]} and {around[1]} per class measured" in said
    assert said.endswith(f"the curve's power-law fit says {pts(law(size) - law(2 * size))}.")


def test_the_time_table_agrees(outputs):
    d, page = outputs.data, outputs.page
    costs = [
        c for c in d["costs"] if c["runs"] or c["seconds"] >= 0.5 or c["stage"] == "classic models"
    ]
    rows = page.rows("costs")[1:]
    assert [r[:4] for r in rows] == [
        [c["stage"], str(c["runs"]), str(c["steps"]), f"{c['seconds']:.1f}"] for c in costs
    ]
    runs, steps = sum(c["runs"] for c in costs), sum(c["steps"] for c in costs)
    assert runs == d["settings"]["runs"] == len(d["runs"])
    assert steps == sum(c["steps"] for c in d["costs"])
    ended = Counter(r["history"]["stop_reason"] or "completed" for r in d["runs"].values())
    staged: Counter[str] = Counter()
    for c in costs:
        staged.update(c["ended"])
    assert staged == ended and sum(ended.values()) == runs
    flat = outputs.flat
    assert f"Time: {d['settings']['seconds']:.0f} s, {runs} runs, {steps} optimizer steps" in flat
    for c in costs:
        trained = f" ({c['runs']} runs, {c['steps']} steps)" if c["runs"] else ""
        assert f"{c['stage']} {c['seconds']:.0f} s{trained}" in flat
    said = next(line for line in outputs.cli if "runs ended: " in line)
    table: Counter[str] = Counter()
    for r in rows:
        table.update(_ended(r[6]))
    assert dict(table) == _ended(said.split("runs ended: ")[1].strip())
    assert sorted(table.values()) == sorted(ended.values())  # in words, the reasons' counts
    st = d["settings"]
    sub = f"{st['runs']} runs on {st['engine']} engine ({st['device']}) in {st['seconds']:.0f} s."
    assert sub in page.root.text()


def _ended(text: str) -> dict[str, int]:
    """How runs ended, read back from words: {"all epochs": 49, "halved (behind their
    grid)": 3} from "49 all epochs, 3 halved (behind their grid)"."""
    return {w: int(n) for n, w in (part.split(" ", 1) for part in text.split(", ") if part)}


def test_the_audit_counts_agree(outputs):
    d, page = outputs.data, outputs.page
    audit, settings = d["extras"]["audit"], d["settings"]
    b = audit["balance"]
    first = d["splits"][0]
    for part in ("train", "val", "test", "pool"):
        assert sum(b[part]) == len(first[part]), part
    assert sum(b["pool"]) + sum(b["val"]) + sum(b["test"]) == settings["samples"]
    assert sum(b["train"]) == settings["train_per_class"] * len(settings["classes"])
    assert b["imbalance"] == pytest.approx(max(b["train"]) / min(b["train"]))
    said = page.text("audit-balance")
    assert said.startswith(
        f"Class balance: the largest class has {b['imbalance']:.2f}× the smallest in the "
        "training set"
    )
    listed = "/".join
    assert (
        f"(rows per class {listed(b['classes'])}: training {listed(map(str, b['train']))}" in said
    )
    if b["pool"] != b["train"]:
        assert f" of the pool's {listed(map(str, b['pool']))}" in said
    for part, word in (("val", "validation"), ("test", "test")):
        assert f"{word} {listed(map(str, b[part]))}" in said
    leaks = audit["duplicates"]["leaks"]
    from_train = sum(1 for x in leaks if x["match_split"] == "train")
    said = page.text("audit-leaks")
    assert said.startswith(f"Leakage: {from_train} validation/test ")
    assert f"{len(audit['duplicates']['within_train'])} duplicate pairs inside" in said


def test_the_majority_class_figures_agree(outputs):
    d, page = outputs.data, outputs.page
    scores = d["extras"]["class_scores"]
    major = scores["majority"]
    for part in ("val", "test"):
        assert major[part]["share"] == pytest.approx(statistics.fmean(major[part]["per_seed"]))
    test, val = major["test"]["share"], major["val"]["share"]
    said = page.text("majority-rate")
    per_seed = ", ".join(pct(x) for x in major["test"]["per_seed"])
    assert f" scores {pct(test)}% on the same test images (per seed {per_seed})" in said
    assert f"and {pct(val)}% on the validation images" in said
    flat = outputs.flat
    assert f" scores {pct(test)}% on the same test images (validation {pct(val)}%)" in flat
    rows = {r[0]: r for r in page.rows("balanced")[1:]}
    for role in ("recommended", "baseline"):
        m = scores[role]
        assert m["balanced_accuracy"] == pytest.approx(statistics.fmean(m["balanced_per_seed"]))
        assert rows[role][2:4] == [
            pct(m["balanced_accuracy"]),
            " ".join(pct(x) for x in m["balanced_per_seed"]),
        ]
        assert rows[role][4:] == ["—" if x is None else pct(x) for x in m["recall"]]
    balanced = ", ".join(f"{r} {pct(scores[r]['balanced_accuracy'])}%" for r in rows)
    assert f"balanced accuracy on test (mean recall per class): {balanced};" in flat
    pairs = zip(scores["classes"], scores["recommended"]["recall"], strict=True)
    recalls = ", ".join(f"{c} {100 * x:.0f}%" for c, x in pairs if x is not None)
    assert f"recommended's recall per class: {recalls}" in flat
