"""Metamorphic invariance of ``diagnose`` over the real log corpus (issue 15).

For every labelled run of each corpus part, the log is read as ``nooverfit diagnose``
reads it, transformed in a way that must not change the verdict, and diagnosed again:

- ``scale x0.1`` / ``scale x10`` / ``scale x100``: every loss (and error metric) of every
  run multiplied by a constant, classifiers' too (issue 15: a loss summed over samples or
  scaled must not change the verdict; until i55 only regression runs were scaled, which
  hid the classifiers' flips to ``diverging``);
- ``+penalty``: a constant added to the training loss (5 % of the lowest validation loss,
  an L2 term as Keras adds it); ``+penalty x1``: as large as that loss (an auxiliary term);
- ``every 2nd epoch +1st`` / ``-1st``: every second evaluation's row dropped, the first
  evaluation kept (``+1st``) or dropped (``-1st``, as a logger writing at epochs 1, 3, 5
  ... writes it; i98: the two phases flip different runs, so both are measured). Rows
  that carry only a training loss are kept; with one evaluation per epoch this is logging
  every second epoch; a training loss logged only on a dropped row is lost;
- ``every 2nd eval +1st`` / ``-1st``: every second evaluation dropped, every training
  value kept (a run validated every second epoch; ``-1st`` as Lightning's
  ``check_val_every_n_epoch=2`` validates); ``every 3rd eval +1st`` / ``-1st``: two of
  every three dropped (runs of at least 12 evaluations). A row left with no value at all
  is dropped (a logger writes no row for an epoch it logged nothing in; until i98 such
  rows read as a loss that became NaN and stayed NaN, a flip to diverging that no real
  log shows);
- ``steps->epochs``: a Hugging Face ``trainer_state.json`` whose training loss is logged
  per step, rewritten with one training loss per epoch (the mean of its steps), as a
  Trainer with ``logging_strategy="epoch"`` writes it.

Printed per part: runs whose verdict changed of those transformed, and of those how
many were right before and after (against the corpus label). Design parts and score-only
parts are printed apart: tune only on the first.

    python bench/diagnose_metamorphic.py [--corpus DIR] [--list]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nooverfit._rules import diagnose
from nooverfit.history import History
from nooverfit.logs import read_log

DEFAULT_CORPUS = Path.home() / ".cache" / "nooverfit" / "log-corpus"
DESIGN = ("design", "design2", "design3")
SCORE_ONLY = ("heldout", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7")
#: Built by i42 after its rules were frozen and scored once: apart, so that the score-only
#: totals stay comparable with earlier sessions'.
FRESH8 = tuple(f"fresh{k}" for k in range(8, 18))
#: Scored once by i42, then tuned on by i45 (their flips are listed with the design parts').
TUNED_LATER = ("fresh8", "fresh9")
PENALTY = 0.05


def _rebuild(h: History, rows: list[int], columns: dict[str, list[float]]) -> History:
    return History.from_columns(
        {name: [values[i] for i in rows] for name, values in columns.items()},
        epoch=[h.epoch[i] for i in rows],
    )


def _core(h: History) -> dict[str, list[float]]:
    """Every column of ``h`` (the logged metrics too: an error metric beside the loss is
    read by the underfitting test)."""
    core = {name: list(h.column(name)) for name in ("loss", "accuracy", "val_loss")} | {
        "val_accuracy": list(h.val_accuracy)
    }
    return core | {name: list(values) for name, values in h.extras.items()}


def _errors(c: dict[str, list[float]]) -> list[str]:
    """The columns that are errors in the loss's units (``mae``, ``val_mse``...)."""
    return [k for k in c if k.removeprefix("val_") in ("mae", "mse", "rmse")]


def scaled(h: History, factor: float) -> History:
    """Every loss (and error metric) multiplied by ``factor``."""
    c = _core(h)
    for name in ("loss", "val_loss", *_errors(c)):
        c[name] = [factor * v for v in c[name]]
    return _rebuild(h, list(range(len(h))), c)


def penalized(h: History, share: float = PENALTY) -> History:
    """A constant penalty (``share`` of the lowest validation loss) on the training loss."""
    c = _core(h)
    val = np.asarray(h.val_loss, dtype=float)
    extra = share * float(np.nanmin(val)) if np.isfinite(val).any() else share
    c["loss"] = [v + extra for v in c["loss"]]
    return _rebuild(h, list(range(len(h))), c)


def _kept(h: History, every: int, first: bool) -> set[int]:
    """The rows of every ``every``-th evaluation, from the first evaluation (``first``) or
    the second."""
    validated = [i for i, v in enumerate(h.val_loss) if v == v]
    return set(validated[(0 if first else 1) :: every])


def _nonempty(h: History, rows: list[int], columns: dict[str, list[float]]) -> History:
    """``h``'s ``rows`` of ``columns``, less the rows left without any finite value."""
    rows = [i for i in rows if any(math.isfinite(v[i]) for v in columns.values())]
    return _rebuild(h, rows, columns)


def halved(h: History, first: bool = True) -> History:
    """Every second evaluation's row dropped (the first kept or not), training-only rows
    kept."""
    validated = {i for i, v in enumerate(h.val_loss) if v == v}
    kept = _kept(h, 2, first)
    return _nonempty(h, [i for i in range(len(h)) if i in kept or i not in validated], _core(h))


def fewer_evaluations(h: History, every: int = 2, first: bool = True) -> History:
    """All but every ``every``-th evaluation dropped (the first kept or not), every
    training value kept (a run validated every second or third epoch: its training loss
    is logged as before)."""
    validated = {i for i, v in enumerate(h.val_loss) if v == v}
    dropped = validated - _kept(h, every, first)
    c = _core(h)
    for name in [k for k in c if k.startswith("val_")]:
        c[name] = [math.nan if i in dropped else v for i, v in enumerate(c[name])]
    return _nonempty(h, list(range(len(h))), c)


def per_epoch_state(path: Path) -> dict | None:
    """A per-step ``trainer_state.json`` rewritten with one training loss per epoch."""
    state = json.loads(path.read_text())
    log = state["log_history"]
    train = [e for e in log if "loss" in e and "eval_loss" not in e]
    evals = [e for e in log if "eval_loss" in e]
    if not train or len(train) <= len({round(float(e["epoch"]) + 0.4999) for e in train}):
        return None  # already one training loss per epoch (or none): no steps to convert
    groups: dict[int, list[dict]] = defaultdict(list)
    for e in train:  # a step at fractional epoch 2.25 belongs to epoch 3 (1-based, ceil)
        groups[int(np.ceil(float(e["epoch"]) - 1e-9))].append(e)
    merged = [
        {
            "epoch": float(epoch),
            "loss": float(np.mean([e["loss"] for e in entries])),
            "step": entries[-1]["step"],
        }
        for epoch, entries in sorted(groups.items())
    ]
    rows = sorted(merged + evals, key=lambda e: (e["step"], "eval_loss" in e))
    return {**state, "log_history": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--list", action="store_true", help="list design runs that flip")
    parser.add_argument("--parts", default="", help="comma-separated parts (default all)")
    args = parser.parse_args()
    records = [
        json.loads(line)
        for file in sorted(args.corpus.glob("manifest*.jsonl"))
        for line in file.read_text().splitlines()
    ]
    if args.parts:  # (only the parts tuned on, while tuning)
        records = [r for r in records if r["part"] in args.parts.split(",")]
    transforms: dict[str, Callable[[History], History]] = {
        "scale x0.1": lambda h: scaled(h, 0.1),
        "scale x10": lambda h: scaled(h, 10.0),
        "scale x100": lambda h: scaled(h, 100.0),
        "+penalty": penalized,
        # as large as the validation loss itself (i53 added 1 to a Keras MAE of 0.55)
        "+penalty x1": lambda h: penalized(h, 1.0),
        "every 2nd epoch +1st": halved,
        "every 2nd epoch -1st": lambda h: halved(h, first=False),
        "every 2nd eval +1st": fewer_evaluations,
        "every 2nd eval -1st": lambda h: fewer_evaluations(h, first=False),
        "every 3rd eval +1st": lambda h: fewer_evaluations(h, 3),
        "every 3rd eval -1st": lambda h: fewer_evaluations(h, 3, first=False),
    }
    names = [*transforms, "steps->epochs"]
    # per part, per transform: [runs, changed, right before, right after]
    table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    flips: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in records:
            if r["label"] is None:
                continue
            path = args.corpus / r["log"]
            h = read_log(path)
            before = diagnose(h).verdict.value
            results: dict[str, str] = {}
            for name, transform in transforms.items():
                least = 12 if name.startswith("every 3rd") else 8
                if name.startswith("every") and sum(v == v for v in h.val_loss) < least:
                    continue  # too short to thin out
                results[name] = diagnose(transform(h)).verdict.value
            if path.name == "trainer_state.json" and (state := per_epoch_state(path)):
                out = Path(tmp) / "trainer_state.json"
                out.write_text(json.dumps(state))
                results["steps->epochs"] = diagnose(read_log(out)).verdict.value
            for name, after in results.items():
                cell = table[(r["part"], name)]
                cell[0] += 1
                if after != before:
                    cell[1] += 1
                    cell[2] += before == r["label"]
                    cell[3] += after == r["label"]
                    if r["part"] in DESIGN + TUNED_LATER:
                        flips.append(f"{name}: {r['log']} {before} -> {after} ({r['label']})")
    groups = (
        ("design parts", DESIGN),
        ("score-only parts", SCORE_ONLY),
        ("fresh8 to fresh14 (fresh8, fresh9 tuned on since i45)", FRESH8),
    )
    for title, parts in groups:
        print(f"\n{title}: verdicts changed / runs (right before -> right after, of those)")
        print(f"{'part':<10}" + "".join(f"{n:>22}" for n in names))
        for part in (*parts, "all"):
            cells = []
            for name in names:
                keys = [(p, name) for p in parts] if part == "all" else [(part, name)]
                n, c, b, a = (sum(table[k][i] for k in keys) for i in range(4))
                cells.append(f"{c}/{n} ({b}->{a})" if n else "-")
            print(f"{part:<10}" + "".join(f"{cell:>22}" for cell in cells))
    if args.list:
        for line in flips:
            print("  flip:", line)


if __name__ == "__main__":
    main()
