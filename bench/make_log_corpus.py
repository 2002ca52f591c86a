"""Build a labelled corpus of real training logs, written by the frameworks themselves.

Each run trains a small network on one of eight data sets (scikit-learn built-ins and
generated ones; classification and regression) in a regime whose outcome is known by
construction, and lets Keras 3 (torch backend), Lightning, PyTorch's ``SummaryWriter``
or the Hugging Face Trainer's ``trainer_state.json`` format write the log (see
``_corpus_writers.py``). The label is then checked against a signal the diagnosis never
sees: the curve of a held-out test set (and clean train metrics) measured at every
validated epoch (``_corpus_labels.py`` states the principles). Runs whose test curve
fits no label are dropped and counted. ``--relabel`` applies the labelling principles
again to an existing corpus's manifests (from the stored test curves), without training.

Runs are split by data set and framework: the ``heldout`` part (data sets ``HELDOUT_DATA``
and every ``hf`` run) is only scored on, never tuned on.

    nice -n 10 python bench/make_log_corpus.py [--runs 360] [--out ~/.cache/nooverfit/log-corpus]

Writes ``OUT/runs/<id>/...`` (the logs) and ``OUT/manifest.jsonl`` (one line per kept run:
id, log path, framework, data set, regime, label, labelled onset, part, spec, test curve;
since fresh8, ``label_votes``, ``label_confidence`` and ``ambiguous``: the labels of 40
bootstrap resamples of the test set, ``_corpus_confidence.py``; a run under 80 % is kept
and scored apart). Same ``--seed``, same corpus.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch
from _corpus_confidence import confidence_fields, label_votes
from _corpus_data import DATASETS, FRESH_DATA, HELDOUT_DATA, load_data
from _corpus_labels import PRINCIPLES, constant_loss, label, uninformed_loss
from _corpus_options import FRESH5_FRAMEWORKS, FRESH8_SHARES, LATER_PARTS, part_options, quiet
from _corpus_relabel import log_path, relabel
from _corpus_writers import WRITERS

FRAMEWORKS = ("keras", "tensorboard", "lightning", "hf")
#: Share of runs per framework (Lightning is slow per epoch on a CPU: fewer, shorter runs).
FRAMEWORK_WEIGHTS = (0.16, 0.4, 0.1, 0.34)
REGIMES = ("overfitting", "good_fit", "still_improving", "underfitting", "diverging")
#: The generator's clean curves stored with each run (since the design2 batch).
CLEAN = ("train_eval", "train_acc", "test_acc")
DEFAULT_OUT = Path.home() / ".cache" / "nooverfit" / "log-corpus"


def sample_spec(
    i: int, rng: np.random.Generator, pool: int, kind: str, optimizers: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A random configuration for run ``i`` in a regime chosen round-robin; ``optimizers``
    (a batch's ``--optimizers``) replaces the usual draw of optimizer."""
    regime = REGIMES[i % len(REGIMES)]
    c = lambda *xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    spec: dict[str, Any] = dict(
        regime=regime,
        seed=int(rng.integers(1 << 30)),
        width=int(c(32, 64, 128)),
        depth=int(c(1, 2)),
        dropout=0.0,
        batchnorm=bool(rng.random() < 0.15),
        l2=0.0,
        optimizer=c("adam", "adam", "adamw", "momentum", "rmsprop"),
        lr=1e-3,
        batch=int(c(32, 64, 128)),
        epochs=int(c(30, 60, 100)),
        n_train=min(pool, int(c(200, 300, 400))),
        noise=0.0,
        loss="ce" if kind == "cls" else c("mse", "mse", "mae"),
        val_every=int(c(1, 1, 1, 2)),
        early_stopping=0,
    )
    lr_scale = {
        "adam": 1.0,
        "adamw": 1.0,
        "rmsprop": 0.5,
        "momentum": 10.0,
        "sgd": 30.0,
        "nadam": 1.0,
        "adagrad": 10.0,
        "adamax": 2.0,
    }
    if regime == "overfitting":
        spec.update(
            width=int(c(256, 512)),
            depth=int(c(2, 3)),
            n_train=int(min(pool, c(40, 60, 100))),
            noise=float(c(0.0, 0.1, 0.2, 0.3)),
            batch=int(c(16, 32)),
            epochs=int(c(40, 60, 100, 150)),
            lr=float(c(1e-3, 2e-3)),
        )
    elif regime == "good_fit":
        spec.update(
            dropout=float(c(0.0, 0.2)),
            l2=float(c(0.0, 1e-4, 1e-3)),
            lr=float(c(3e-3, 1e-2)),
            epochs=int(c(40, 80, 150)),
            early_stopping=int(c(15, 20)),
            n_train=min(pool, 600),
            batch=128,
        )
    elif regime == "still_improving":
        spec.update(
            optimizer=c("adam", "sgd", "momentum"),
            lr=float(c(3e-4, 1e-3)),
            epochs=int(c(3, 5, 8, 12, 20)),
            val_every=1,
        )
    elif regime == "underfitting":
        spec.update(
            width=int(c(1, 2)),
            depth=1,
            l2=float(c(0.1, 0.3, 1.0)),
            lr=float(c(3e-3, 1e-2)),
            epochs=int(c(40, 80, 150)),
            batch=128,
        )
        if rng.random() < 0.5:
            spec["width"] = 64  # a wide network held down by a heavy penalty
    else:  # diverging: far too large a step
        spec.update(optimizer=c("sgd", "sgd", "adam"), lr=float(c(3.0, 10.0, 30.0)))
        lr_scale = {k: 1.0 for k in lr_scale}
        spec["epochs"] = int(c(5, 10, 30, 60))
    if optimizers and regime != "diverging":
        spec["optimizer"] = c(*optimizers)
    spec["lr"] = float(spec["lr"] * lr_scale[spec["optimizer"]])
    if spec["optimizer"] == "sgd" and regime != "diverging":
        spec["lr"] = min(spec["lr"], 0.05)
    return spec


def framework_options(spec: dict[str, Any], framework: str, rng: np.random.Generator) -> None:
    """Logging choices: TensorBoard per epoch or per step, HF logging steps, Lightning names."""
    spec["framework"] = framework
    spec["tb_mode"] = str(rng.choice(["epoch", "step", "step_epoch"]))
    tags = [("Loss/train", "Loss/val"), ("train/loss", "val/loss"), ("loss", "val_loss")]
    spec["tb_train_tag"], spec["tb_val_tag"] = tags[int(rng.integers(len(tags)))]
    spec["log_steps"] = int(rng.choice([1, 5, 10, 50]))
    spec["hf_checkpoint"] = bool(rng.random() < 0.3)
    spec["pl_name"] = str(rng.choice(["train_loss", "loss"]))
    spec["pl_on_step"] = bool(rng.random() < 0.5)
    # Keras and Lightning cost 50-300 ms per epoch on a CPU: short runs, large batches.
    if framework == "lightning":
        spec["epochs"] = min(spec["epochs"], 25)
        spec["batch"] = max(spec["batch"], 32)
        spec["n_train"] = min(spec["n_train"], 200)
        spec["log_steps"] = min(spec["log_steps"], 5)
    if framework == "keras":
        spec["epochs"] = min(spec["epochs"], 30)
        spec["batch"] = max(spec["batch"], 32)
    if (
        framework in ("tensorboard", "hf")
        and spec["regime"] == "good_fit"
        and spec["epochs"] == 400
    ):
        spec["n_train"] = min(spec["n_train"], 300)


def prepare(data: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """Take the training subset and add label or target noise to it (never to val/test)."""
    rng = np.random.default_rng(spec["seed"])
    n = spec["n_train"]
    if data["kind"] == "cls":  # at least two samples per class
        idx = np.concatenate(
            [np.flatnonzero(data["y_pool"] == k)[:2] for k in range(data["classes"])]
        )
        rest = np.setdiff1d(rng.permutation(len(data["x_pool"])), idx, assume_unique=True)
        idx = np.concatenate([idx, rng.permutation(rest)[: max(0, n - len(idx))]])
    else:
        idx = rng.permutation(len(data["x_pool"]))[:n]
    x, y = data["x_pool"][idx], data["y_pool"][idx].copy()
    if spec["noise"] and data["kind"] == "cls":
        flip = rng.random(len(y)) < spec["noise"]
        y[flip] = rng.integers(data["classes"], size=int(flip.sum()))
    elif spec["noise"]:
        y = y + 3 * spec["noise"] * rng.normal(size=len(y))
    return {**data, "x_train": x, "y_train": y}


def run_one(task: tuple[int, str, str, dict[str, Any], str, str]) -> dict[str, Any] | None:
    """Train and log run ``i``; the manifest record, or ``None`` when the label is dropped."""
    i, name, framework, spec, root, part = task
    torch.set_num_threads(1)
    data = load_data(name, 0)
    run_id = f"{i:04d}_{framework}_{name}_{spec['regime']}"
    out = Path(root) / "runs" / run_id
    t0 = time.perf_counter()
    truth = WRITERS[framework](spec, prepare(data, spec), out)
    seconds = time.perf_counter() - t0
    samples, right = truth.pop("test_samples"), truth.pop("test_right")
    constant = constant_loss(data["y_test"], spec["loss"])
    blank = uninformed_loss(data["y_test"], spec["loss"], data["classes"])
    clean = {**truth, "loss": spec["loss"]}

    def label_of(test: list[float], acc: list[float] | None) -> Any:
        lean = clean if acc is None else {**clean, "test_acc": acc}
        return label(
            spec["regime"], test, truth["val"], truth["val_epochs"], constant, lean, 0.0, blank
        )

    lab, onset, why = label_of(truth["test"], None)
    votes = label_votes(lambda t, a: label_of(t, a)[0], samples, right, spec["seed"])
    if lab is None:
        print(f"drop {run_id} ({seconds:.1f} s): {why}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
        return {"dropped": run_id, "framework": framework, "seconds": seconds}
    print(f"keep {run_id} ({seconds:.1f} s)", flush=True)
    return {
        "id": run_id,
        "log": str(log_path(out, framework).relative_to(root)),
        "framework": framework,
        "data": name,
        "kind": data["kind"],
        "regime": spec["regime"],
        "label": lab,
        "constant": constant,
        "uninformed": blank,
        "onset": onset,
        "part": part or ("heldout" if name in HELDOUT_DATA or framework == "hf" else "design"),
        "spec": spec,
        "test": [x if math.isfinite(x) else None for x in truth["test"]],
        "val_epochs": truth["val_epochs"],
        # the clean curves (training set in eval mode, test accuracy), for labels that
        # need them when relabelling (a gap, a network that learned little)
        "clean": {k: [_round(x) for x in truth[k]] for k in CLEAN},
        "seconds": seconds,
        "principles": PRINCIPLES,
        "votes_principles": PRINCIPLES,
        **confidence_fields(votes, lab),
    }


def tasks(
    runs: int,
    seed: int,
    frameworks: list[str],
    root: Path,
    start: int = 0,
    *,
    data: tuple[str, ...] = DATASETS,
    optimizers: tuple[str, ...] = (),
    part: str = "",
) -> list[Any]:
    """Every run's data set, framework and configuration, drawn from ``seed`` alone (and
    the batch's choices: ``data`` to draw from, ``optimizers``, a forced ``part``)."""
    shares = dict(zip(FRAMEWORKS, FRAMEWORK_WEIGHTS, strict=True)) | {"lightning_tb": 0.1}
    shares |= FRESH8_SHARES if part in LATER_PARTS else {}
    weights = np.array([shares[f] for f in frameworks])
    pools = {name: len(load_data(name, 0)["x_pool"]) for name in data}
    kinds = {name: load_data(name, 0)["kind"] for name in data}
    out = []
    for i in range(start, start + runs):
        rng = np.random.default_rng([seed, i])
        name = data[int(rng.integers(len(data)))]
        framework = str(rng.choice(frameworks, p=weights / weights.sum()))
        spec = sample_spec(i, rng, pools[name], kinds[name], optimizers)
        framework_options(spec, framework, rng)
        part_options(part, spec, rng)
        out.append((i, name, framework, spec, str(root), part))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=420)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", default="", help="comma-separated frameworks (debugging)")
    parser.add_argument(
        "--start",
        type=int,
        default=0,
        help="first run index: a build in parts (--start 420 --runs 180) adds runs to OUT, "
        "with its own manifest-START.jsonl; run i is the same whatever the parts",
    )
    parser.add_argument(
        "--data",
        default="",
        help=f"comma-separated data sets to draw from (default the eight; also {FRESH_DATA})",
    )
    parser.add_argument(
        "--optimizers", default="", help="comma-separated optimizers (also nadam, adagrad)"
    )
    parser.add_argument(
        "--part",
        choices=(
            "",
            "heldout",
            "fresh",
            *(f"design{k}".strip() for k in " 23"),
            *(f"fresh{k}" for k in range(2, 18)),
        ),
        default="",
        help="put every run of this batch in one part (default: by data set and framework)",
    )
    parser.add_argument(
        "--relabel", action="store_true", help="relabel OUT's manifests from their test curves"
    )
    parser.add_argument(
        "--principles",
        type=int,
        choices=(1, 2),
        default=PRINCIPLES,
        help="labelling principles for --relabel (1: before i68's audit; see _corpus_labels)",
    )
    args = parser.parse_args()
    if args.relabel:
        relabel(args.out, args.principles)
        return
    if args.out.exists() and not args.start:
        shutil.rmtree(args.out)
    (args.out / "runs").mkdir(parents=True, exist_ok=True)
    name = "manifest.jsonl" if not args.start else f"manifest-{args.start}.jsonl"
    later = args.part[-1:] in tuple("567890") or args.part in LATER_PARTS  # (not fresh3)
    every = FRESH5_FRAMEWORKS if later else FRAMEWORKS
    frameworks = [f for f in every if not args.only or f in args.only.split(",")]
    start = time.perf_counter()
    data = tuple(args.data.split(",")) if args.data else DATASETS
    optimizers = tuple(args.optimizers.split(",")) if args.optimizers else ()
    todo = tasks(
        args.runs,
        args.seed,
        frameworks,
        args.out,
        args.start,
        data=data,
        optimizers=optimizers,
        part=args.part,
    )
    import multiprocessing

    results = []
    # the manifest grows as runs finish, so a partial build can already be scored
    with (
        multiprocessing.get_context("spawn").Pool(args.jobs, initializer=quiet) as pool,
        (args.out / name).open("w") as manifest,
    ):
        for record in pool.imap(run_one, todo, chunksize=1):
            results.append(record)
            if record and "id" in record:
                manifest.write(json.dumps(record) + "\n")
                manifest.flush()
    kept = [r for r in results if r and "id" in r]
    took = time.perf_counter() - start
    per_fw: dict[str, float] = {}
    for r in results:
        if r:
            per_fw[r["framework"]] = per_fw.get(r["framework"], 0.0) + r["seconds"]
    print(
        f"kept {len(kept)}, dropped {len(results) - len(kept)} (label contradicted by the "
        f"test curve); built in {took:.0f} s with {args.jobs} jobs"
    )
    print(
        "training seconds per framework: " + ", ".join(f"{k} {v:.0f}" for k, v in per_fw.items())
    )


def _round(x: float) -> float | None:
    return float(f"{x:.6g}") if math.isfinite(x) else None


if __name__ == "__main__":
    main()
