"""Candidate remedies measured through the engine directly, on the study's own splits.

For each data set of ``bench/tabular.py`` (its CSVs must be cached: run it first) and
each seed, this builds the split the study builds (``make_split(y, test=0.25, val=0.2,
seed=s)``, the whole pool as training set), scales the features with ``--scaling``, trains
a fixed list of configurations with the fused engine, and scores on validation and test:

- each configuration alone, and the one a study would pick (best mean validation);
- ensembles: the average of the predicted probabilities of the best ``k`` configurations
  by mean validation accuracy (the networks a study has trained anyway).

    python bench/remedy_probe.py --scaling standard robust quantile [--only fgl]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tabular import DATASETS, REFERENCES, write_csv

from nooverfit.config import RunConfig
from nooverfit.data.dataset import Dataset, load_dataset
from nooverfit.data.split import make_split
from nooverfit.data.tabular import scale_features
from nooverfit.data.tensors import SplitData
from nooverfit.engine import run_configs
from nooverfit.engine.sequential import make_model
from nooverfit.studies import plan


def configs(base: RunConfig) -> dict[str, RunConfig]:
    """The probed variants, by name."""
    out = {
        "baseline": base,
        "dropout=0.1": base.replace(dropout=0.1),
        "dropout=0.3": base.replace(dropout=0.3),
        "dropout=0.5": base.replace(dropout=0.5),
        "l2=1e-3": base.replace(l2=1e-3),
        "l2=1e-2": base.replace(l2=1e-2),
        "wd=0.03": base.replace(weight_decay=0.03),
        "wd=0.3": base.replace(weight_decay=0.3),
        "wd=3": base.replace(weight_decay=3.0),
        "smooth=0.1": base.replace(label_smoothing=0.1),
        "smooth=0.2": base.replace(label_smoothing=0.2),
        "augment=0.5": base.replace(augment=0.5),
        "es=patience:10": base.replace(early_stopping="patience:10"),
        "width=64": base.replace(width=64),
        "drop0.3+smooth0.1": base.replace(dropout=0.3, label_smoothing=0.1),
        "drop0.3+wd0.3": base.replace(dropout=0.3, weight_decay=0.3),
        "mixup=0.2": base.replace(mixup=0.2),
        "mixup=0.4": base.replace(mixup=0.4),
        "ema=0.99": base.replace(ema=0.99),
        "ema=0.999": base.replace(ema=0.999),
        "ema0.999+drop0.3": base.replace(ema=0.999, dropout=0.3),
    }
    return {k: v.replace(label=k) for k, v in out.items()}


@torch.no_grad()
def probs(result: Any, data: SplitData, index: torch.Tensor) -> np.ndarray:
    model = make_model(result.config, data)
    model.load_state_dict(result.state)
    model.eval()
    return torch.softmax(model(data.x[index]), -1).numpy()


def probe(dataset: Dataset, scaling: str, seeds: list[int]) -> dict[str, Any]:
    datas = []
    for s in seeds:
        split = make_split(dataset.y, test=0.25, val=0.2, seed=s)
        x = scale_features(dataset.x, split.pool, scaling)
        datas.append(SplitData(torch.as_tensor(x), torch.as_tensor(dataset.y), split, dataset))
    n_train = len(datas[0].split.pool)
    base = RunConfig(
        width=256, depth=2, epochs=plan.epochs_for(plan.BUDGETS["quick"], n_train, 32)
    )
    named = configs(base)
    todo = [c.replace(seed=s) for s in seeds for c in named.values()]
    start = time.perf_counter()
    results = run_configs(todo, [datas[seeds.index(c.seed)] for c in todo], engine="fused")
    seconds = time.perf_counter() - start
    val: dict[str, list[np.ndarray]] = {}
    test: dict[str, list[np.ndarray]] = {}
    for r in results:
        d = datas[seeds.index(r.config.seed)]
        val.setdefault(r.config.label, []).append(probs(r, d, d.val_index))
        test.setdefault(r.config.label, []).append(probs(r, d, d.test_index))
    yv = [d.y[d.val_index].numpy() for d in datas]
    yt = [d.y[d.test_index].numpy() for d in datas]

    def acc(p: list[np.ndarray], y: list[np.ndarray]) -> list[float]:
        return [float((pi.argmax(1) == yi).mean()) for pi, yi in zip(p, y, strict=True)]

    table = {n: {"val": acc(val[n], yv), "test": acc(test[n], yt)} for n in named}
    order = sorted(named, key=lambda n: -np.mean(table[n]["val"]))
    for k in (3, 5, len(order)):
        members = order[:k]
        pv = [np.mean([val[n][i] for n in members], 0) for i in range(len(seeds))]
        pt = [np.mean([test[n][i] for n in members], 0) for i in range(len(seeds))]
        table[f"ensemble top {k}"] = {"val": acc(pv, yv), "test": acc(pt, yt)}
    table["_picked"] = {"name": order[0], **table[order[0]]}
    table["_seconds"] = seconds
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+")
    parser.add_argument("--scaling", nargs="+", default=["standard"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--tag", default="", help="names the cached probe results")
    parser.add_argument(
        "--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "nooverfit-tab"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    seeds = list(range(args.seeds))
    for spec in DATASETS:
        if spec.heldout or (args.only and spec.name not in args.only):
            continue
        path = write_csv(spec, args.cache / "csv")
        dataset = load_dataset(f"csv:{path}", target=spec.target)
        refs_file = args.cache / f"{spec.name}.refs.json"
        refs = json.loads(refs_file.read_text()) if refs_file.exists() else {}
        best_ref = (
            max(
                (100 * np.mean([refs[str(s)][n]["test"] for s in seeds]), n)
                for n in REFERENCES
                if refs
            )
            if refs
            else (float("nan"), "?")
        )
        for scaling in args.scaling:
            out = args.cache / f"{spec.name}.probe.{scaling}{args.tag}.json"
            if out.exists():
                table = json.loads(out.read_text())
            else:
                table = probe(dataset, scaling, seeds)
                out.write_text(json.dumps(table))
            print(
                f"\n{spec.name} [{scaling}] best reference {best_ref[1]} {best_ref[0]:.1f}; "
                f"{table['_seconds']:.0f} s"
            )
            for name, row in table.items():
                if name.startswith("_"):
                    continue
                print(
                    f"  {name:22s} val {100 * np.mean(row['val']):5.1f} "
                    f"test {100 * np.mean(row['test']):5.1f}"
                )
            p = table["_picked"]
            print(f"  picked: {p['name']} test {100 * np.mean(p['test']):.1f}", flush=True)


if __name__ == "__main__":
    main()
