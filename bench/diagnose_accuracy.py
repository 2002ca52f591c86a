"""Verdict accuracy of ``diagnose`` on the labelled curve suite and the log corpus.

The suite (``tests/fixtures/curves``, made by ``bench/make_curve_suite.py``) holds real
runs of nooverfit's ``fit`` on ``digits`` and ``synthetic`` in known regimes. The onset
reference is the minimum of the validation loss smoothed by a centered 5-epoch moving
average (computed here independently of ``diagnose``'s own smoothing).

The corpus (``bench/make_log_corpus.py``: logs written by Keras, Lightning, PyTorch's
SummaryWriter and the Hugging Face Trainer format, read back with ``read_log`` exactly
as ``nooverfit diagnose`` reads them) is scored per part: ``design`` and ``design2``
(the rules were tuned on them; design2 is a later batch on the design data sets and
small versions of them), ``heldout`` (only scored) and ``fresh`` to ``fresh4`` (batches
on data sets and optimizers the corpus never had, each built after the rules were last
changed: ``make_log_corpus.py --part fresh4``; ``fresh5`` also has Lightning's
TensorBoardLogger, Adadelta, RAdam and runs of 4 to 400 epochs; ``fresh7`` ASGD, Rprop,
Nesterov SGD, validation every third epoch and runs of 7 to 250 epochs on four new data
sets; ``fresh8`` a bag-of-words set, 4 % positives, MAE regression, 3 to 500 epochs;
``fresh12`` Lion, LAMB, Adafactor and warm-up cosine, linear or step rate schedules),
with a confusion matrix per part. Labels follow the principles of
``bench/_corpus_labels.py`` (runs that fit none are left out and counted). The labelled
onset is the 5-point moving-average minimum of the validation curve, moved to its lowest
value when that comes later (the issue's definition); the onset is also compared with
the test curve's own moving-average minimum, which the diagnosis never sees.

Two more figures per part, beside the main score (which they do not change): the
*ceiling*, the share of runs whose validation curve, labelled by the same principles
(``validation_label``), gets the test curve's label (where they differ, the log alone
cannot tell the labelled answer: validation sets are small and noisy); and the verdict
accuracy on the runs where they agree (the answer is knowable from the log), with its own
confusion matrix, and on those runs less the misses whose labels rest on a regression's
target scale (the validation label is given the level of the constant predictor, which a
regression's log does not carry: ``_corpus_scale.py``). And the accuracy on the runs
whose label is the regime they were built in (the test curve confirmed the construction;
runs it relabelled left aside): the issue's
"label by construction, checked against the test curve" read strictly. Parts built with
a bootstrap of their test set (fresh8 on) also print the accuracy on confident and on
ambiguous labels (``_corpus_confidence.py``); ``diagnose_labels.py`` says why validation
and test labels disagree.

    python bench/diagnose_accuracy.py [--suite tests/fixtures/curves] [--corpus DIR]
        [--principles 1|2]

``--principles`` picks the labelling principles of the ceiling's validation labels (1:
before i68's audit; the corpus's own labels are whatever its last ``--relabel`` wrote). A
corpus relabelled by other principles than it was built with keeps the old labels
(``label_v1``): the script then also prints, per part, the labels that changed, whether
each change moved the label toward main's verdict or away from it, and the score and
ceiling under both.

Floor: >= 95 % correct verdicts; onset within 3 epochs of the reference.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from _corpus_confidence import CONFIDENT
from _corpus_data import load_data
from _corpus_labels import PRINCIPLES, constant_loss, references, validation_label
from _corpus_scale import scale_bound

from nooverfit import _curves as cv
from nooverfit._metrics import pick_metric
from nooverfit._rules import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

DEFAULT_CORPUS = Path.home() / ".cache" / "nooverfit" / "log-corpus"
#: The parts tuned on (fresh8 and fresh9 since i45, after each was scored once).
TUNED = ("design", "design2", "design3", "fresh8", "fresh9")


def reference_onset(history: History, width: int = 5) -> int:
    """Epoch of the minimum of the centered ``width``-epoch moving average of val loss."""
    val = np.asarray(history.val_loss, dtype=float)
    half = width // 2
    smooth = np.array([np.nanmean(val[max(0, i - half) : i + half + 1]) for i in range(len(val))])
    return history.epoch[int(np.nanargmin(smooth))]


def ema_onset(history: History, weight: float = 0.6) -> int:
    """Epoch of the minimum of TensorBoard-style debiased exponential smoothing."""
    out, last, norm = [], 0.0, 0.0
    for v in history.val_loss:
        last, norm = weight * last + (1 - weight) * v, weight * norm + (1 - weight)
        out.append(last / norm)
    return history.epoch[int(np.nanargmin(out))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=Path("tests/fixtures/curves"))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--wrong", action="store_true", help="list the corpus's wrong runs")
    parser.add_argument(
        "--released",
        action="store_true",
        help="with --wrong, list every part's wrong runs, not only the tuned parts' (for a "
        "score-only batch already scored once and released for design: part names repeat "
        "across batches, so only the person who built a corpus knows it is released)",
    )
    parser.add_argument("--parts", default="", help="comma-separated parts (default: all)")
    parser.add_argument("--principles", type=int, choices=(1, 2), default=PRINCIPLES)
    args = parser.parse_args()
    score_suite(args.suite)
    if any(args.corpus.glob("manifest*.jsonl")):  # (parts built with --start alone too)
        only = tuple(args.parts.split(",")) if args.parts else ()
        score_corpus(
            args.corpus,
            show_wrong=args.wrong,
            only=only,
            principles=args.principles,
            released=args.released,
        )
    else:
        print(f"no corpus at {args.corpus}; build it with bench/make_log_corpus.py")


def score_corpus(
    root: Path,
    *,
    show_wrong: bool = False,
    only: tuple[str, ...] = (),
    principles: int = PRINCIPLES,
    released: bool = False,
) -> None:
    """Accuracy, onset error and confusion matrix of each part of the corpus (with
    ``show_wrong``, the wrong runs of the tuned parts, or of every part if ``released``)."""
    records = [
        json.loads(line)
        for file in sorted(root.glob("manifest*.jsonl"))
        for line in file.read_text().splitlines()
    ]
    names = [v.value for v in Verdict]
    short = {v: "".join(w[0] for w in v.split("_")) for v in names}
    best = references(records)
    summary = []
    parts = (
        "design",
        "design2",
        "design3",
        "heldout",
        "fresh",
        *(f"fresh{k}" for k in range(2, 18)),
    )
    for part in [p for p in parts if not only or p in only]:
        runs = [r for r in records if r["part"] == part and r["label"] is not None]
        left_out = sum(r["part"] == part and r["label"] is None for r in records)
        if not runs:
            continue
        confusion: dict[tuple[str, str], int] = defaultdict(int)
        knowable: dict[tuple[str, str], int] = defaultdict(int)  # validation agrees with test
        onset_ok: list[bool] = []
        test_ok: list[bool] = []  # against the test curve's minimum (sensitivity only)
        wrong = []
        before = 0  # the ceiling as measured before 2026-11-30 (the test set's constant)
        confirmed = [0, 0]  # runs whose label is their regime (the test curve confirmed it)
        frameworks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        sure = {True: [0, 0], False: [0, 0]}  # ambiguous labels (bootstrap) and the others
        shift: list[tuple[str, tuple[str, str | None], str]] = []  # new, (old, its ceiling), got
        misses: dict[str, int] = defaultdict(int)  # test label / validation label
        scaled = 0  # knowable misses that rest on a regression's target scale
        for r in runs:
            history = read_log(root / r["log"])
            d = diagnose(history)
            got = d.verdict.value
            confusion[(r["label"], got)] += 1
            reference = best.get((r["data"], r["spec"]["loss"]), 0.0)
            own = constant_loss(load_data(r["data"], 0)["y_val"], r["spec"]["loss"])
            clean = log_clean(history, r)
            seen_as = validation_label(r, history.val_loss, reference, own, clean, principles)
            seen = seen_as == r["label"]
            if not seen:
                misses[f"{short[r['label']]}/{short.get(str(seen_as), 'left out')}"] += 1
            old = validation_label(r, history.val_loss, reference, principles=principles)
            before += old == r["label"]
            if "label_v1" in r:
                old1 = validation_label(r, history.val_loss, reference, own, clean, 1)
                shift.append((r["label"], (r["label_v1"], old1), got))
            if seen:
                knowable[(r["label"], got)] += 1
            if got != r["label"]:
                scaled += seen and scale_bound(r, got)
                mark = "knowable" if seen else "validation disagrees"
                wrong.append(f"{r['log']}: {got} (label {r['label']}; {mark})")
            if r["label"] == r["regime"]:
                confirmed[0] += got == r["label"]
                confirmed[1] += 1
            frameworks[r["framework"]][0] += got == r["label"]
            if "ambiguous" in r:
                sure[r["ambiguous"]][0] += got == r["label"]
                sure[r["ambiguous"]][1] += 1
            frameworks[r["framework"]][1] += 1
            if r["label"] == "overfitting" and got == "overfitting" and d.onset_epoch is not None:
                epoch = _true_epoch(history, d.onset_epoch, r)
                onset_ok.append(abs(epoch - r["onset"]) <= 3)
                test = np.asarray([np.nan if v is None else v for v in r["test"]], dtype=float)
                test_low = r["val_epochs"][int(np.argmin(_moving_average(test)))]
                test_ok.append(abs(epoch - test_low) <= 3)
        n, ok = len(runs), sum(confusion[(v, v)] for v in names)
        m, k = sum(knowable.values()), sum(knowable[(v, v)] for v in names)
        data = sorted({r["data"] for r in runs})
        print(f"\ncorpus part {part}: {n} runs on {', '.join(data)}")
        print(f"  left out (the test curve fits no label): {left_out}")
        print(f"  verdicts right: {ok}/{n} = {100 * ok / n:.1f}%")
        onset = f"{sum(onset_ok)}/{len(onset_ok)}" if onset_ok else "0/0"
        share = 100 * sum(onset_ok) / len(onset_ok) if onset_ok else float("nan")
        print(f"  onset within 3 epochs of the label: {onset} = {share:.1f}%")
        if test_ok:
            print(
                "  onset within 3 epochs of the test curve's own minimum (5-point moving "
                f"average; sensitivity only): {sum(test_ok)}/{len(test_ok)} = "
                f"{100 * sum(test_ok) / len(test_ok):.1f}%"
            )
        summary.append(
            f"{part} {100 * ok / n:.1f}% right ({ok}/{n}), onset {share:.1f}%, ceiling "
            f"{100 * m / n:.1f}%, knowable runs {100 * k / max(m, 1):.1f}% ({k}/{m}; "
            f"{k}/{m - scaled} without {scaled} resting on a regression's scale), "
            f"regime-confirmed runs {100 * confirmed[0] / max(confirmed[1], 1):.1f}%"
        )
        print(
            "  verdicts right on the runs whose label is the regime they were built in (the "
            f"test curve confirmed it, none relabelled): {confirmed[0]}/{confirmed[1]} = "
            f"{100 * confirmed[0] / max(confirmed[1], 1):.1f}%"
        )
        if sure[True][1] + sure[False][1]:
            (a, b), (c, e) = sure[False], sure[True]
            print(
                f"  labels the test set's bootstrap confirms (>= {CONFIDENT:.0%} of draws): "
                f"{a}/{b} right = {100 * a / max(b, 1):.1f}%; ambiguous labels (within the "
                f"test set's noise): {c}/{e} right"
            )
        print("  by framework: " + ", ".join(f"{f} {a}/{b}" for f, (a, b) in frameworks.items()))
        print("  confusion (rows: label, columns: verdict)")
        _print_confusion(confusion, names, short)
        print(
            "  ceiling: the validation curve's own label (same principles, the validation "
            "set's constant predictor, the log's own gap evidence) equals the test label on "
            f"{m}/{n} = {100 * m / n:.1f}% (as measured before, with the test set's constant "
            "and the regime confirming an overfit: "
            f"{before}/{n})"
        )
        print(
            "  ceiling misses (test label/validation label): "
            + ", ".join(f"{k} {v}" for k, v in sorted(misses.items(), key=lambda x: -x[1]))
        )
        print(
            "  verdicts right where the answer is knowable from the log (validation and "
            f"test labels agree): {k}/{m} = {100 * k / max(m, 1):.1f}%"
        )
        print(
            f"  of their misses, {scaled} rest on a regression's target scale, which no log "
            "carries (the constant predictor's level; _corpus_scale.py): right on the "
            f"others {k}/{m - scaled} = {100 * k / max(m - scaled, 1):.1f}%"
        )
        print("  confusion on those runs (rows: label, columns: verdict)")
        _print_confusion(knowable, names, short)
        gone = [r for r in records if r["part"] == part and r["label"] is None]
        shift += [_unlabelled(root, r, best) for r in gone if r.get("label_v1")]
        if shift:
            _print_shift(shift)
        if show_wrong and (released or part in TUNED):  # never tune on score-only parts
            for line in wrong:
                print("   wrong:", line)
    print("\nsummary: " + "; ".join(summary))


def _unlabelled(root: Path, r: dict, best: dict) -> tuple[None, tuple[str, str | None], str]:
    """A run left out by the new principles and labelled by the old: its entry of
    :func:`_print_shift`."""
    history = read_log(root / r["log"])
    reference = best.get((r["data"], r["spec"]["loss"]), 0.0)
    own = constant_loss(load_data(r["data"], 0)["y_val"], r["spec"]["loss"])
    seen = validation_label(r, history.val_loss, reference, own, log_clean(history, r), 1)
    return None, (r["label_v1"], seen), diagnose(history).verdict.value


def _print_shift(shift: list) -> None:
    """Old labels (``label_v1``) beside the new ones: what changed, toward main's verdict
    (it equals the new label), away from it (it equalled the old one) or neither, and
    the score and ceiling under the old labels (runs labelled under one only count in
    that one's figures)."""
    moves: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    old_ok = old_n = old_seen = 0
    for new, (old, seen), got in shift:
        if old is not None:
            old_ok, old_n, old_seen = old_ok + (got == old), old_n + 1, old_seen + (seen == old)
        if old != new:
            cell = moves[(str(old), str(new))]
            cell[0 if got == new else 1 if got == old else 2] += 1
    print(
        "  labels changed by the principles (old -> new: toward main's verdict / away / neither)"
    )
    for (old, new), (toward, away, neither) in sorted(moves.items()):
        print(f"    {old:>16} -> {new:<16} {toward} / {away} / {neither}")
    if not moves:
        print("    none")
    print(
        f"  under the old principles (label_v1): verdicts right {old_ok}/{old_n}, ceiling "
        f"{old_seen}/{old_n}"
    )


def log_clean(history: History, record: dict) -> dict:
    """The log's own training loss and accuracies at its validated epochs, as the clean
    curves ``validation_label`` reads (padded with NaN to the test curve's length)."""
    keep = np.isfinite(np.asarray(history.val_loss, dtype=float))
    metric = pick_metric(history, None)
    n = len(record["test"])

    def at(values: np.ndarray) -> list[float]:
        out = list(values[keep][:n])
        return out + [float("nan")] * (n - len(out))

    return {
        "train_eval": at(cv.fill_missing(cv.column(history, "loss"))),
        "train_acc": at(cv.fill_missing(cv.accuracy(history, metric, ""))),
        "test_acc": at(cv.accuracy(history, metric, "val_")),
        "loss": record["spec"]["loss"],
        "logged": True,
    }


def _print_confusion(
    confusion: dict[tuple[str, str], int], names: list[str], short: dict[str, str]
) -> None:
    print("  " + " " * 17 + "".join(f"{short[v]:>5}" for v in names))
    for label in names:
        if any(confusion[(label, v)] for v in names):
            cells = "".join(f"{confusion[(label, v)]:>5}" for v in names)
            print(f"  {label:<17}{cells}")


def _moving_average(x: np.ndarray, width: int = 5) -> np.ndarray:
    half = width // 2
    return np.array([np.mean(x[max(0, i - half) : i + half + 1]) for i in range(len(x))])


def _true_epoch(history: History, epoch: int, record: dict) -> int:
    """The training epoch of a diagnosed epoch: readers that count validation rounds as
    epochs (TensorBoard logs without an epoch scalar) are mapped back through the
    generator's list of validated epochs."""
    validated = [e for e, v in zip(history.epoch, history.val_loss, strict=True) if v == v]
    position = validated.index(epoch) if epoch in validated else 0
    truth = record["val_epochs"]
    return truth[min(position, len(truth) - 1)]


def score_suite(suite: Path) -> None:
    """Accuracy per regime and onset error on the committed 50-run suite."""
    args = argparse.Namespace(suite=suite)
    manifest = json.loads((args.suite / "manifest.json").read_text())
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    onset_errors: list[int] = []
    other_errors: dict[str, list[int]] = {"ema 0.6": [], "raw minimum": []}
    wrong: list[str] = []
    seconds = 0.0
    for run in manifest:
        history = History.load(args.suite / run["file"])
        start = time.perf_counter()
        result = diagnose(history)
        seconds += time.perf_counter() - start
        regime = run["regime"]
        total[regime] += 1
        if result.verdict.value == regime:
            right[regime] += 1
        else:
            wrong.append(f"{run['file']}: {result.verdict.value}")
        if regime == "overfitting" and result.onset_epoch is not None:
            onset_errors.append(abs(result.onset_epoch - reference_onset(history)))
            other_errors["ema 0.6"].append(abs(result.onset_epoch - ema_onset(history)))
            raw = history.epoch[int(np.nanargmin(history.val_loss))]
            other_errors["raw minimum"].append(abs(result.onset_epoch - raw))
    print(f"{'regime':<17}{'runs':>6}{'correct':>9}{'accuracy':>10}")
    for regime in total:
        print(
            f"{regime:<17}{total[regime]:>6}{right[regime]:>9}"
            f"{100 * right[regime] / total[regime]:>9.1f}%"
        )
    n, ok = sum(total.values()), sum(right.values())
    print(f"{'all':<17}{n:>6}{ok:>9}{100 * ok / n:>9.1f}%")
    if onset_errors:
        errors = np.asarray(onset_errors)
        print(
            f"onset error (overfitting runs, epochs): mean {errors.mean():.2f}, "
            f"max {errors.max()}, within 3: {100 * np.mean(errors <= 3):.0f}%"
        )
        for name, values in other_errors.items():
            e = np.asarray(values)
            print(
                f"  vs {name} (sensitivity only): mean {e.mean():.2f}, max {e.max()}, "
                f"within 3: {100 * np.mean(e <= 3):.0f}%"
            )
    print(f"diagnose: {1e3 * seconds / n:.3f} ms per run")
    for line in wrong:
        print("wrong:", line)


if __name__ == "__main__":
    main()
