"""Every network a study trained, scored on validation and test: evidence for selection rules.

Runs the study of ``bench/tabular.py`` on one of its cached CSVs (same call, same budget),
and after its last stage dumps, for every configuration it trained on every seed (the
baseline, each remedy's grid, the combinations, the copies of the choice), the predicted
probabilities on that seed's validation and test rows, with the labels. A selection rule
(which network or average of networks to recommend) can then be replayed offline on the
validation probabilities and scored once on the test ones, without training again.

    python bench/selection_probe.py --only birthwt auto [--tag sel]

Writes ``CACHE/NAME.select.TAG.npz`` (arrays) and ``.json`` (names, stages, the study's
own recommendation, and ``tests``: every ``select.improves`` call the study made, its
per-seed accuracies, margin and verdict, so a rule on them can be replayed: where it
returns every verdict unchanged, the study would recommend the same). The test
probabilities serve only to score a rule chosen on the design sets; the study itself
never sees them.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from _tabular_refs import CSV_FOLDER, write_csv
from _tabular_sets import DATASETS
from tabular import study_rows

captured: dict[str, Any] = {}
#: every seed-paired accuracy test the study made (``select.improves``): the candidate's and
#: the reference's per-seed validation accuracies, the margin and the verdict, in order; a
#: new rule that returns every verdict unchanged recommends what the study recommended
tests: list[dict[str, Any]] = []


def _capture() -> None:
    """Wrap the study's stage runner so the session and findings survive the study."""
    from nooverfit.studies import run as run_module

    original = run_module.run_stage

    def wrapped(stage: Any, session: Any, found: Any) -> None:
        original(stage, session, found)
        captured["session"], captured["found"] = session, found

    run_module.run_stage = wrapped
    _record_tests()


def _record_tests() -> None:
    """Wrap ``select.improves`` (in select and where it was imported) to log its calls."""
    import importlib
    import sys

    from nooverfit.studies import select

    for name in ("findings", "unlabeled", "stages", "blend", "session"):  # importers first
        importlib.import_module(f"nooverfit.studies.{name}")
    importlib.import_module("nooverfit.tune.report")

    original = select.improves

    def logged(candidate: Any, reference: Any, **kw: Any) -> bool:
        verdict = original(candidate, reference, **kw)
        tests.append(
            {
                "candidate": list(candidate.val_per_seed),
                "reference": list(reference.val_per_seed),
                "margin": kw.get("margin", select.MARGIN),
                "rows": list(kw.get("rows", ())),
                "verdict": verdict,
                "without_rows": original(
                    candidate, reference, margin=kw.get("margin", select.MARGIN)
                ),
            }
        )
        return verdict

    for name, module in list(sys.modules.items()):
        if name.startswith("nooverfit") and getattr(module, "improves", None) is original:
            module.improves = logged  # type: ignore[attr-defined]


@torch.no_grad()
def dump(session: Any, found: Any) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Validation/test probabilities of every trained configuration on every seed."""
    from nooverfit.studies.ensemble import Members, member_probabilities

    named: dict[Any, tuple[str, str]] = {}
    for v in [*found.variants, *found.combinations]:
        named.setdefault(v.config, (v.name, v.stage))
    for title, members in found.ensembles.items():
        for c, n in zip(members.runs, members.names, strict=True):
            named.setdefault(c, (n, "copies" if "cop" in title else "member"))
    arrays: dict[str, np.ndarray] = {}
    names = list(named)
    for s in session.seeds:
        data = session.split_data(names[0].replace(seed=s))
        arrays[f"yv{s}"] = data.y[data.val_index].numpy()
        arrays[f"yt{s}"] = data.y[data.test_index].numpy()
        pv, pt = [], []
        for c in names:
            m = Members((c,), ("x",))
            pv.append(member_probabilities(session, m, s, data.val_index).numpy())
            pt.append(member_probabilities(session, m, s, data.test_index).numpy())
        arrays[f"pv{s}"], arrays[f"pt{s}"] = np.stack(pv), np.stack(pt)
    meta = {
        "names": [named[c][0] for c in names],
        "stages": [named[c][1] for c in names],
        "depth": [c.depth for c in names],
        "inputs": [c.inputs for c in names],
        "seeds": list(session.seeds),
        "recommended": found.recommended.name,
        "baseline": found.base.name,
        "tests": list(tests),
    }
    return arrays, meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", required=True)
    parser.add_argument("--tag", default="sel")
    parser.add_argument("--budget", default="quick")
    parser.add_argument(
        "--set", nargs="+", default=[], metavar="FIELD=VALUE", help="budget fields (literals)"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "nooverfit-tab"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    _capture()
    from nooverfit.studies import study
    from nooverfit.studies.budget import get_budget

    changes = {f: ast.literal_eval(v) for f, _, v in (i.partition("=") for i in args.set)}
    budget = dataclasses.replace(get_budget(args.budget), **changes)
    for spec in DATASETS:
        if spec.name not in args.only:
            continue
        out = args.cache / f"{spec.name}.select.{args.tag}"
        if Path(f"{out}.json").exists():
            continue
        path = write_csv(spec, args.cache / CSV_FOLDER)
        start, cpu = time.perf_counter(), time.process_time()
        tests.clear()
        result = study(
            f"csv:{path}", target=spec.target, train_per_class=None, seeds=3, budget=budget
        )
        rows = study_rows(result, time.perf_counter() - start, time.process_time() - cpu)
        # the study's figures as bench/tabular.py caches them: its table reads this tag
        Path(args.cache / f"{spec.name}.study.{args.tag}.json").write_text(json.dumps(rows))
        arrays, meta = dump(captured["session"], captured["found"])
        np.savez_compressed(f"{out}.npz", **arrays)
        Path(f"{out}.json").write_text(json.dumps(meta))
        print(f"{spec.name}: {len(meta['names'])} configurations", flush=True)


if __name__ == "__main__":
    main()
