"""``nooverfit audit DATA``: class balance, duplicates and leakage, coverage, columns (row
identifiers, missing cells, columns of one value), group gaps."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from nooverfit._io import _jsonable, read_checkpoint
from nooverfit._words import counted
from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, console, guard
from nooverfit.config import RunConfig
from nooverfit.errors import BadInput

if TYPE_CHECKING:
    import numpy as np
    import torch

    from nooverfit.audit import AuditReport
    from nooverfit.data import Split
    from nooverfit.data.dataset import Dataset


def check_run(run: Path) -> tuple[Path, Path]:
    """``run``'s metrics.json and model.pt, before the data is read.

    Raises:
        BadInput: ``run`` does not exist, or is not a ``nooverfit train`` output folder
            (a study's named as such).
    """
    metrics, weights = run / "metrics.json", run / "model.pt"
    if metrics.is_file() and weights.is_file():
        return metrics, weights
    expected = "expected a nooverfit train --out folder (metrics.json, model.pt)"
    if not run.exists():
        raise BadInput(f"--model {run} does not exist; {expected}")
    if (run / "best_model.pt").is_file():
        raise BadInput(f"--model {run} is a study's folder (best_model.pt); {expected}")
    raise BadInput(f"--model {run} is not a training run; {expected}")


def load_run(
    run: Path, dataset: Dataset, *, options: dict[str, str | None] | None = None
) -> tuple[torch.nn.Module, Split, np.ndarray, RunConfig]:
    """The model of a ``nooverfit train`` output folder, its split with the training
    indices it was trained on as ``pool`` (``--train-per-class`` trains on a subset; the
    audit is of that subset), the whole training pool they were drawn from (whose
    statistics filled and scaled its inputs) and its configuration. ``options``: the data
    options ``dataset`` was loaded with (``target``, ``ignore``, ``groups``, ``classes``),
    named where they differ from the run's."""
    import numpy as np

    from nooverfit.data import Split
    from nooverfit.models import network_for
    from nooverfit.stale_bias import fold_stale_biases
    from nooverfit.train_run import read_metrics

    metrics_path, weights = check_run(run)
    metrics = read_metrics(metrics_path)
    check_run_data(run, metrics, dataset, options=options)
    config = RunConfig.from_dict(metrics["config"])
    transfer = metrics.get("transfer") or {}
    if transfer.get("architecture"):  # the source's architecture, prepared as train did
        from nooverfit.transfer.architecture import prepared

        model = prepared(
            transfer["architecture"],
            config,
            transfer["strategy"],
            dataset.in_shape,
            dataset.kind,
            dataset.num_classes,
        )
    elif transfer:
        raise ValueError(
            f"{run} was trained from a pretrained network whose architecture metrics.json "
            "does not record (an older nooverfit train); expected transfer.architecture"
        )
    else:
        model = network_for(config, dataset)
    try:
        model.load_state_dict(fold_stale_biases(model, read_checkpoint(weights, what="weights")))
    except RuntimeError as err:  # e.g. a column moved into --groups: fewer inputs
        raise ValueError(
            f"{run}'s weights do not fit {dataset.name!r} as loaded now "
            f"({counted(int(np.prod(dataset.in_shape)), 'input')}, "
            f"{counted(dataset.num_classes, 'class', 'classes')}); "
            "expected the data set and options it was trained on"
        ) from err
    split = Split.from_dict(metrics["split"])
    train = np.asarray(metrics["split"].get("train", split.pool), dtype=np.int64)
    used = Split(pool=train, val=split.val, test=split.test, seed=split.seed)
    return model, used, split.pool, config


def check_run_data(
    run: Path,
    metrics: dict[str, Any],
    dataset: Dataset,
    *,
    options: dict[str, str | None] | None = None,
) -> None:
    """Refuse data other than the run's: its split's indices and weights mean nothing there.

    The content's fingerprint decides where ``metrics.json`` records it (a moved file is the
    same data; reordered rows are not); else the data set's name and size (the weights'
    shapes are checked as they load). Of the same data set, the data ``options`` that
    differ from the ones ``metrics.json`` records are named.
    """
    from nooverfit.studies.identity import fingerprint
    from nooverfit.train_run import changed_options

    trained = metrics.get("data")
    # a class subset is named "digits[5,6,7,8,9]"; the run records the data set as given
    name = dataset.name
    if (options or {}).get("classes") and name.endswith("]"):
        name = name.rsplit("[", 1)[0]
    recorded = metrics.get("data content")
    if recorded is not None:
        other = fingerprint(dataset) != recorded
    else:
        split = metrics.get("split") or {}
        largest = max((max(v) for k, v in split.items() if k != "seed" and v), default=-1)
        other = trained != dataset.name or largest >= len(dataset.y)
    changed = changed_options(metrics.get("data options"), options or {})
    if other and trained == name and changed:  # which option, where recorded
        then, now = (" and ".join(said) for said in zip(*changed, strict=True))
        raise ValueError(
            f"{run} was trained on {trained} with {then}, given {now} here; expected the "
            "options it was trained on"
        )
    if other and trained == name and options is not None and "data options" in metrics:
        raise ValueError(
            f"{run} was trained on {trained} before its content changed (its --target, "
            "--ignore, --groups and --classes are the ones given); expected the data it was "
            "trained on"
        )
    if other and trained == name:
        raise ValueError(
            f"{run} was trained on {trained} with other options (--target, --ignore, "
            "--groups, --classes) or before its content changed; expected the data set and "
            "options it was trained on"
        )
    if other:
        raise ValueError(
            f"{run} was trained on other data ({trained}) than {dataset.name!r} as loaded now "
            f"({len(dataset.y)} rows); expected the data set and options it was trained on"
        )


@app.command("audit")
@guard
def audit_command(
    data: Annotated[str, typer.Argument(help="Data set: digits, csv:PATH, folder:PATH, ...")],
    target: opt.Target = None,
    ignore: opt.Ignore = None,
    groups: Annotated[
        str | None,
        typer.Option(
            help="Group gaps: a CSV column, or any name for data sets with built-in groups "
            "(image folder = the sub-folder under each class, speech = speaker, keywords = noise)."
        ),
    ] = None,
    split_by_group: opt.SplitByGroup = False,
    classes: opt.Classes = None,
    model: Annotated[
        Path | None, typer.Option(help="A nooverfit train output folder (model and split).")
    ] = None,
    data_dir: opt.DataDir = "data",
    download: opt.Download = False,
    test: opt.TestSize = 0.25,
    val: opt.ValSize = 0.2,
    seed: opt.Seed = 0,
    near: Annotated[
        float, typer.Option(help="Near-duplicate distance, fraction of median NN distance.")
    ] = 0.1,
    quantile: Annotated[float, typer.Option(help="Coverage threshold quantile.")] = 0.95,
    space: Annotated[
        str, typer.Option(help="Distances in 'input' space or the --model's 'features'.")
    ] = "input",
    epochs: Annotated[
        int, typer.Option(help="Epochs of the baseline trained for group gaps without --model.")
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Audit a data set: balance, duplicates and train/test leakage, coverage, group gaps."""
    from nooverfit.audit import audit, model_features
    from nooverfit.data import load_dataset, prepare
    from nooverfit.data.split import split_dataset
    from nooverfit.data.tensors import network_inputs
    from nooverfit.models import network_for
    from nooverfit.train import fit
    from nooverfit.transfer.pretrain import subset_classes

    # before the data is read and a baseline trained for group gaps (minutes)
    if space not in ("input", "features"):
        raise ValueError(f"--space must be 'input' or 'features', got {space!r}")
    if space == "features" and model is None:
        raise ValueError("--space features needs --model RUN_DIR (a trained network)")
    if model is not None:
        check_run(model)
    options: dict[str, object] = {"target": target, "data_dir": data_dir, "download": download}
    if groups is not None and data.startswith("csv:"):
        options["group"] = groups
    if ignore:
        options["ignore"] = ignore
    options.update(opt.group_options(None, split_by_group))
    dataset = subset_classes(load_dataset(data, **options), classes)
    if groups is not None and dataset.groups is None:
        raise ValueError(f"data set {data!r} has no groups; expected csv:PATH --groups COLUMN")
    network, pool, scaling = None, None, "standard"
    if model is not None:
        given = {"target": target, "ignore": ignore, "groups": groups, "classes": classes}
        network, split, pool, trained = load_run(model, dataset, options=given)
        scaling = trained.inputs  # fed as predict feeds it: the run's own encoding
    else:
        split = split_dataset(dataset, test=opt._size(test), val=opt._size(val), seed=seed)
        if groups is not None:
            if not as_json:
                console.print("no --model given: training a baseline model for group gaps")
            config = RunConfig(epochs=epochs, early_stopping="patience:10", seed=seed)
            data_t = prepare(dataset, split, device="cpu")
            network = network_for(config, data_t)
            fit(network, data_t, config)
    features = None
    if space == "features" and network is not None:
        # the network's inputs: filled and scaled with the whole training pool's statistics
        inputs = network_inputs(dataset, split.pool if pool is None else pool, scaling=scaling)
        features = model_features(network, inputs)
    report = audit(
        dataset,
        split,
        features=features,
        model=network if groups is not None else None,
        pool=pool,
        scaling=scaling,
        near=near,
        quantile=quantile,
    )
    if as_json:
        typer.echo(json.dumps(_jsonable(report.to_dict()), indent=2))
    else:
        render(report)


def render(report: AuditReport) -> None:
    """Print the audit as rich tables."""
    from nooverfit.audit_rows import sample_name

    b = report.balance
    table = Table(title=f"nooverfit audit — {report.name}, {report.samples:,} samples")
    # A training subset drawn from a larger pool (a run trained on N per class) hides the
    # data's own balance: show the pool beside it.
    subset = bool(b.pool) and tuple(b.pool) != tuple(b.train)
    for name in ("class", "train", *(("pool",) if subset else ()), "val", "test"):
        table.add_column(name, justify="right")
    for i, c in enumerate(b.classes):
        pool = (str(b.pool[i]),) if subset else ()
        table.add_row(c, str(b.train[i]), *pool, str(b.val[i]), str(b.test[i]))
    console.print(table)
    d, cov = report.duplicates, report.coverage
    whole = "" if math.isnan(b.data_imbalance) else f"; whole data set {b.data_imbalance:.2f}"
    console.print(f"imbalance (largest/smallest class): training {b.imbalance:.2f}{whole}")
    console.print(
        f"duplicates (near = distance <= {d.threshold:.3g}): train "
        f"{d.count('train', exact=True)} exact / {d.count('train', exact=False)} near; "
        + "; ".join(
            f"{s} leaks {d.count(s, exact=True)} exact / {d.count(s, exact=False)} near"
            for s in ("val", "test")
        )
    )
    for p in (*d.within_train[:5], *d.leaks[:5]):  # the first few pairs of each, by name
        kind = "exact" if p.exact else f"near ({p.distance:.3g})"
        twin = sample_name(p.match_split, p.match, p.match_line, p.match_path)
        said = sample_name(p.split, p.index, p.line, p.path)
        console.print(f"  {escape(said)} = {escape(twin)}: {kind}")
    far = ", ".join(f"{s} {v:.1%}" for s, v in cov.far.items())
    console.print(
        f"coverage: far from all training samples (> {cov.threshold:.3g}): {far} "
        f"(expected about {cov.expected:.0%})"
    )
    for p in cov.examples:
        twin = sample_name(p.match_split, p.match, p.match_line, p.match_path)
        said = sample_name(p.split, p.index, p.line, p.path)
        console.print(f"  {escape(said)}: distance {p.distance:.3g} to {escape(twin)}")
    if report.groups is not None:
        g = report.groups
        noise = ", within what the group sizes explain" if g.tested and not g.below else ""
        gt = Table(title=f"accuracy per group (worst-group gap {g.gap:.1%}{noise})")
        for name in ("group", "samples", "accuracy"):
            gt.add_column(name, justify="right")
        for name, n, acc in zip(g.groups, g.counts, g.accuracy, strict=True):
            gt.add_row(name, str(n), f"{acc:.3f}")
        console.print(gt)
    for note in report.notes:  # what training handles, said before what it cannot
        console.print(f"[cyan]note:[/] {escape(note)}")
    for w in report.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(w)}")
    if not report.warnings:
        console.print("[green]no problems found[/]")
