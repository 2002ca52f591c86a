"""Small-data quality on ``digits``: nooverfit's study against scikit-learn, same splits.

The protocol of ``BENCHMARKS.md`` ("Small-data protocol on digits"): ``X = pixels / 16``;
for each seed a stratified 50/50 train/test split, a stratified 150-image validation set
from the train half, and a training set of the first ``n`` images per class of a seeded
permutation of the rest (``nooverfit.data.split.make_split(y, test=0.5, val=150, seed=s)``
and ``split.train(y, train_per_class=n)``). Every choice is made on validation; the test
half is scored once per seed.

For each size and seed this runs one nooverfit study (``seeds=[s]``: its selection sees
only that seed's validation set) and scores the four references of ``bench/tabular.py`` on
the very same indices, each tuned on the validation set and fitted on the training set
only: LogisticRegression (``C``), SVC rbf (``C``, ``gamma``), RandomForest (500 trees,
``max_features``) and HistGradientBoosting (``learning_rate``, ``max_leaf_nodes``); the
pixels are used as they are (``/ 16``, the protocol's scale), not standardized.

By default the study also tries the cosine-annealed rate and its combination stage runs
12 trials of the joint search (``nooverfit.studies.search``); ``--no-cosine --search 0``
measures the study without them.

    PYTHONPATH=src python bench/small_data.py [--sizes 5 10 20 50 all] [--seeds 0 1 2] [--model X]
        [--search 12] [--no-cosine]

(``PYTHONPATH=src`` measures this checkout; without it, the installed nooverfit. The
header names the one measured.)

Floor (issue 4): the recommendation beats the baseline at every size and is not below
the best reference. Aim (BENCHMARKS.md): >= 90 % at 5 per class, >= 94 % at 10, >= 99.2 %
on the whole pool.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _digits_refs import raw_references  # bench/, next to this script
from tabular import REFERENCES  # bench/tabular.py, next to this script

import nooverfit
from nooverfit.data.dataset import load_dataset
from nooverfit.data.split import Split, make_split
from nooverfit.studies import study
from nooverfit.studies.plan import StudyBudget

#: The study's grids in this benchmark: one or two points per remedy (the combination stage
#: re-tunes L2 and dropout around them), so that 9 studies of a CNN fit in ~20 min on 2 cores;
#: epochs are set per size by :func:`epochs_for`.
BENCH_BUDGET = StudyBudget(
    epochs=100,  # replaced per size
    l2=(1e-3,),
    dropout=(0.3,),
    widths=(1 / 2,),
    augment=(0.5, 1.0),
    stopping=("patience:30",),
    sizes=(5, 10, 20, 50),
    weight_decay=(0.1,),
    smoothing=(0.1,),
)


@dataclass(frozen=True)
class SeedResult:
    """Test accuracies (fractions) of one size and seed.

    Attributes:
        recommended: nooverfit's recommended configuration.
        baseline: nooverfit's unregularized baseline.
        refs: each reference's test accuracy (see ``bench/tabular.py``'s ``REFERENCES``).
        recommended_name: what the recommendation changes relative to the baseline.
        seconds: wall time of the study (s).
        before: with the pseudo-labels remedy, the test accuracy of the choice it started
            from (the study's recommendation without it), scored by this benchmark; the
            study's own selection never sees it. None without the remedy.
        pseudo_seconds: wall time of the pseudo-labels stage (s; 0 without it).
    """

    recommended: float
    baseline: float
    refs: dict[str, float]
    recommended_name: str
    seconds: float
    before: float | None = None
    pseudo_seconds: float = 0.0


def epochs_for(per_class: int | None, pool: int, *, steps: int, batch_size: int = 32) -> int:
    """Epochs that give about ``steps`` optimizer steps, between 30 and 600.

    Small training sets take few steps per epoch, so a fixed epoch count under-trains them
    (5 per class is 2 batches an epoch); this keeps the number of updates comparable.
    """
    n = 10 * per_class if per_class is not None else pool
    per_epoch = math.ceil(n / batch_size)
    return int(min(600, max(30, math.ceil(steps / per_epoch))))


def flat(x: np.ndarray) -> np.ndarray:
    """Images ``(N, C, H, W)`` -> rows ``(N, C*H*W)`` for scikit-learn."""
    return x.reshape(len(x), -1)


def same_split(a: Split, b: Split) -> bool:
    return bool(
        np.array_equal(a.pool, b.pool)
        and np.array_equal(a.val, b.val)
        and np.array_equal(a.test, b.test)
    )


def run_one(
    per_class: int | None,
    seed: int,
    *,
    model: str,
    width: int,
    depth: int,
    steps: int,
    engine: str,
    cosine: bool = False,
    search: int = 0,
    pseudo: Sequence[float] = (),
    cutout: Sequence[float] = (),
    tta: bool = False,
) -> SeedResult:
    """One size and seed: the study, then the two references on the study's indices
    (``cosine``: the study also tries the cosine-annealed rate, alone and with each
    augmentation strength; ``search``: trials of the combination stage's joint search;
    ``pseudo``: thresholds of the pseudo-labels remedy on the pool's unused images)."""
    dataset = load_dataset("digits")
    x, y = flat(dataset.x), dataset.y
    split = make_split(y, test=0.5, val=150, seed=seed)
    train = split.train(y, train_per_class=per_class)
    epochs = epochs_for(per_class, len(split.pool), steps=steps)
    start = time.perf_counter()
    with _score_the_choice_before(bool(pseudo)) as before:
        result = study(
            dataset,
            model=model,
            width=width,
            depth=depth,
            train_per_class=per_class,
            test=0.5,
            val=150,
            seeds=[seed],
            budget=dataclasses.replace(
                BENCH_BUDGET,
                cosine=cosine,
                search=search,
                pseudo=tuple(pseudo),
                cutout=tuple(cutout),
                tta=tta,
            ),
            engine=engine,
            epochs=epochs,
            learning_curves=False,
        )
    seconds = time.perf_counter() - start
    if not same_split(result.splits[0], split) or sorted(result.train_indices[seed]) != sorted(
        train.tolist()
    ):
        raise RuntimeError(f"the study's split of seed {seed} differs from the protocol's")
    refs = raw_references(x, y, (train, split.val, split.test), seed)
    return SeedResult(
        recommended=result.test["recommended"].accuracy,
        baseline=result.test["baseline"].accuracy,
        refs={name: r["test"] for name, r in refs.items()},
        recommended_name=result.recommended.name,
        seconds=seconds,
        before=before[0] if before else None,
        pseudo_seconds=sum(c.seconds for c in result.costs if c.stage == "pseudo-labels"),
    )


@contextlib.contextmanager
def _score_the_choice_before(on: bool) -> Iterator[list[float]]:
    """While open, have the pseudo-labels stage's teacher (the study's choice before that
    stage) scored on the test split once the stage has run, into the list yielded: the
    "before" of the same study without a second study (the stage comes last, so nothing
    else differs). The study's selection never sees it."""
    import nooverfit.studies.unlabeled as unlabeled
    from nooverfit.train import evaluate_test

    scores: list[float] = []
    original = unlabeled.run_unlabeled

    def scored(stage: Any, session: Any, found: Any, teacher: Any) -> None:
        choice = found.recommended
        original(stage, session, found, teacher)
        seed = session.seeds[0]
        scores.append(evaluate_test(teacher(choice, seed), session.data[seed]).accuracy)

    if on:
        unlabeled.run_unlabeled = scored
    try:
        yield scores
    finally:
        unlabeled.run_unlabeled = original


def _task(size: str, seed: int, options: dict[str, Any]) -> SeedResult:
    """One size and seed in a worker process (from the cache where there)."""
    key = "-".join(str(options[k]) for k in ("model", "width", "depth", "steps", "tag"))
    key += "-cosine" if options["cosine"] else ""
    key += f"-search{options['search']}" if options["search"] else ""
    key += "-pseudo" + "_".join(f"{t:g}" for t in options["pseudo"]) if options["pseudo"] else ""
    key += "".join(f"-cutout{f:g}" for f in options.get("cutout", ()))
    key += "-tta" if options.get("tta") else ""
    cached = Path(options["cache"]) / f"{key}-{size}-{seed}.json"
    if cached.exists():
        return SeedResult(**json.loads(cached.read_text()))
    result = _run_task(size, seed, options)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(dataclasses.asdict(result)))
    return result


def _run_task(size: str, seed: int, options: dict[str, Any]) -> SeedResult:
    if options["threads"] > 0:
        torch.set_num_threads(options["threads"])
    per_class = None if size == "all" else int(size)
    return run_one(
        per_class,
        seed,
        model=options["model"],
        width=options["width"],
        depth=options["depth"],
        steps=options["steps"],
        engine=options["engine"],
        cosine=options["cosine"],
        search=options["search"],
        pseudo=options["pseudo"],
        cutout=options.get("cutout", ()),
        tta=options.get("tta", False),
    )


def pct(values: Sequence[float]) -> str:
    """``mean ± std`` in percent (population std over seeds, as in BENCHMARKS.md)."""
    a = 100 * np.asarray(values, dtype=float)
    return f"{a.mean():.1f} ± {a.std():.1f}"


def table(rows: dict[str, list[SeedResult]]) -> str:
    """The markdown table of every size."""
    lines = [
        "| n per class | before | nooverfit recommended | baseline | "
        + " | ".join(REFERENCES)
        + " | study s | recommended configs (per seed) |",
        "| --- " * (6 + len(REFERENCES)) + "|",
    ]
    for size, results in rows.items():
        names = "; ".join(r.recommended_name for r in results)
        refs = " | ".join(pct([r.refs[n] for r in results]) for n in REFERENCES)
        seconds = np.mean([r.seconds for r in results])
        before = [r.before for r in results if r.before is not None]
        lines.append(
            f"| {size} | {pct(before) if len(before) == len(results) else ''} "
            f"| {pct([r.recommended for r in results])} "
            f"| {pct([r.baseline for r in results])} | {refs} | {seconds:.0f} | {names} |"
        )
    return "\n".join(lines)


def floors(rows: dict[str, list[SeedResult]]) -> list[str]:
    """One line per size: the issue's floors and BENCHMARKS.md's aims, met or not."""
    aims = {"5": 0.90, "10": 0.94, "all": 0.992}
    out = []
    for size, results in rows.items():
        rec = float(np.mean([r.recommended for r in results]))
        base = float(np.mean([r.baseline for r in results]))
        refs = {n: float(np.mean([r.refs[n] for r in results])) for n in REFERENCES}
        top = max(refs, key=lambda n: refs[n])
        line = (
            f"n={size}: beats baseline {'yes' if rec > base else 'NO'}, "
            f"vs best reference ({top}) {100 * (rec - refs[top]):+.1f} points"
        )
        if size in aims:
            line += f", aim {100 * aims[size]:g} % {'met' if rec >= aims[size] else 'MISSED'}"
        out.append(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=["5", "10", "20", "50", "all"],
        help="per class, or 'all' (the pool)",
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--model", default="cnn", choices=["mlp", "cnn"])
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per run")
    parser.add_argument("--engine", default="auto")
    parser.add_argument(
        "--cosine",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the study also tries a cosine-annealed rate (default: yes)",
    )
    parser.add_argument(
        "--search",
        type=int,
        default=12,
        help="trials of the combination stage's joint search (studies/search.py)",
    )
    parser.add_argument(
        "--unlabeled",
        nargs="*",
        type=float,
        default=[],
        metavar="THRESHOLD",
        help="the pseudo-labels remedy on the pool's unused images, at these confidence "
        "thresholds (studies/unlabeled.py; default: off)",
    )
    parser.add_argument(
        "--cutout",
        nargs="*",
        type=float,
        default=[],
        help="the cutout remedy's grid, square sides as fractions of the image (default none)",
    )
    parser.add_argument(
        "--tta",
        action="store_true",
        help="the study also tries test-time shifts (remedy and search; nooverfit.shifts)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads per job (0: default)"
    )
    parser.add_argument("--jobs", type=int, default=3, help="studies run in parallel processes")
    parser.add_argument("--tag", default="current", help="names the cached results")
    parser.add_argument(
        "--cache",
        default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "nooverfit-digits"),
        help="folder of cached per-size, per-seed results",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    tasks = [(size, seed) for size in args.sizes for seed in args.seeds]
    kept = ("model", "width", "depth", "steps", "engine", "threads", "tag", "cosine", "search")
    options = {k: getattr(args, k) for k in (*kept, "cutout", "tta", "cache")}
    options["pseudo"] = tuple(args.unlabeled)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {t: pool.submit(_task, t[0], t[1], options) for t in tasks}
        results = {t: f.result() for t, f in futures.items()}
    rows: dict[str, list[SeedResult]] = {}
    for (size, seed), r in results.items():
        rows.setdefault(size, []).append(r)
        print(
            f"n={size} seed={seed}: recommended {100 * r.recommended:.1f} "
            f"({r.recommended_name}), "
            + (f"before {100 * r.before:.1f}, " if r.before is not None else "")
            + f"baseline {100 * r.baseline:.1f}, "
            + ", ".join(f"{n} {100 * v:.1f}" for n, v in r.refs.items())
            + f", study {r.seconds:.0f} s (pseudo-labels {r.pseudo_seconds:.0f} s)",
            flush=True,
        )
    print()
    remedy = " + cosine remedy" if args.cosine else ""
    remedy += f" + joint search of {args.search} trials" if args.search else ""
    if args.unlabeled:
        remedy += " + pseudo-labels at " + ", ".join(f"{t:g}" for t in args.unlabeled)
    remedy += f" + cutout {args.cutout}" if args.cutout else ""
    remedy += " + test-time shifts" if args.tta else ""
    print(
        f"digits, test accuracy %, mean ± std over seeds {args.seeds}; "
        f"nooverfit {args.model} width={args.width} depth={args.depth}{remedy}, "
        f"~{args.steps} steps per run; nooverfit from {Path(nooverfit.__file__).parent}"
    )
    print(table(rows))
    print()
    for line in floors(rows):
        print(line)
    print(
        f"wall time: {time.perf_counter() - start:.0f} s "
        f"({args.jobs} jobs x {args.threads} torch threads; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )


if __name__ == "__main__":
    main()
