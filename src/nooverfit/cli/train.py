"""``nooverfit train``: one training run with chosen regularization."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from nooverfit._io import _jsonable
from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, console, errors, guard
from nooverfit.config import RunConfig

if TYPE_CHECKING:
    from nooverfit.data.tensors import SplitData
    from nooverfit.history import History


@app.command()
@guard
def train(
    ctx: typer.Context,
    data: opt.Data = "digits",
    target: opt.Target = None,
    ignore: opt.Ignore = None,
    groups: opt.Groups = None,
    split_by_group: opt.SplitByGroup = False,
    data_dir: opt.DataDir = "data",
    download: opt.Download = False,
    test: opt.TestSize = 0.25,
    val: opt.ValSize = 0.2,
    classes: opt.Classes = None,
    train_per_class: Annotated[
        int | None,
        typer.Option(help="Training images per class (small-data runs); 0: the whole pool."),
    ] = None,
    train_size: Annotated[int | None, typer.Option(help="Training-set size in total.")] = None,
    model: Annotated[str, typer.Option(help="Model family: mlp or cnn.")] = "mlp",
    width: Annotated[int, typer.Option(help="Hidden units (MLP) or first-block channels.")] = 256,
    depth: Annotated[int, typer.Option(help="Hidden layers (MLP) or conv blocks (CNN).")] = 2,
    dropout: Annotated[float, typer.Option(help="Dropout rate in [0, 1).")] = 0.0,
    l2: Annotated[float, typer.Option(help="L2 lambda: loss += l2/2 * sum ||W||^2.")] = 0.0,
    weight_decay: Annotated[
        float,
        typer.Option(
            help="Weight decay of the weights (not biases/norms): decoupled with adam/adamw "
            "(AdamW: W -= lr*wd*W per step); with sgd, SGD's own coupled decay, the same as "
            "--l2 of that value."
        ),
    ] = 0.0,
    batchnorm: Annotated[bool, typer.Option("--batchnorm", help="Add batch norm.")] = False,
    augment: Annotated[float, typer.Option(help="Augmentation strength in [0, 1].")] = 0.0,
    optimizer: Annotated[
        str,
        typer.Option(
            help="adam or adamw (one optimizer: Adam, --weight-decay decoupled as AdamW's; "
            "plain Adam's coupled decay is --l2), or sgd (momentum 0.9)."
        ),
    ] = "adam",
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-3,
    batch_size: Annotated[int, typer.Option(help="Mini-batch size.")] = 32,
    epochs: Annotated[int, typer.Option(help="Maximum epochs.")] = 100,
    early_stopping: Annotated[
        str | None, typer.Option(help="patience:N, gl:ALPHA, pq:ALPHA or up:S.")
    ] = None,
    seed: opt.Seed = 0,
    device: opt.Device = None,
    pretrained: Annotated[
        str | None,
        typer.Option(help="Start from a pretrained network: PATH or torchvision:NAME[:WEIGHTS]."),
    ] = None,
    transfer: Annotated[
        str | None,
        typer.Option(
            help="With --pretrained, what to retrain: head, io (default), full, gradual."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/train"),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an earlier run's files in --out.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print metrics.json's content only.")
    ] = False,
) -> None:
    """Train one network and write history.csv, metrics.json, model.pt and model.json (its
    card: nooverfit predict takes the folder) to --out.

    model.pt holds the weights of the best epoch (lowest val_loss, the "kept" row), with or
    without --early-stopping. An --out holding an earlier run is refused unless --overwrite.
    """
    from nooverfit.train_run import (  # imports torch: not before needed
        TrainInterrupted,
        check_out,
        train_run,
    )

    check_out(out, overwrite=overwrite)  # before loading data and training: nothing lost
    if as_json:
        console.quiet = True
    if transfer is not None and pretrained is None:
        raise ValueError(f"--transfer {transfer} needs --pretrained PATH or torchvision:NAME")
    transfer = transfer or "io"
    if train_per_class is not None and train_size is not None:
        raise ValueError(
            f"--train-per-class {train_per_class} and --train-size {train_size} both choose "
            "the training subset; expected one of them"
        )
    if pretrained is not None:
        from nooverfit.transfer import STRATEGIES

        if transfer not in STRATEGIES:
            raise ValueError(
                f"--transfer must be one of {', '.join(STRATEGIES)}, got {transfer!r}"
            )
        options = {"model": model, "width": width, "depth": depth, "dropout": dropout}
        options["batchnorm"] = batchnorm
        typed = [getattr(ctx.get_parameter_source(n), "name", "") for n in _SHAPING]
        given = {
            n: options[n] for n, by in zip(_SHAPING, typed, strict=True) if by == "COMMANDLINE"
        }
        _refuse_shaping(pretrained, given)
    config = RunConfig(
        model=model,
        width=width,
        depth=depth,
        l2=l2,
        weight_decay=weight_decay,
        dropout=dropout,
        batchnorm=batchnorm,
        augment=augment,
        optimizer=optimizer,
        lr=lr,
        batch_size=batch_size,
        epochs=epochs,
        early_stopping=early_stopping,
        seed=seed,
        train_size=train_size,
        train_per_class=train_per_class or None,  # 0: the whole pool, as in study
    )
    split_data = opt.load_data(
        data,
        target=target,
        ignore=ignore,
        groups=groups,
        split_by_group=split_by_group,
        data_dir=data_dir,
        download=download,
        test=test,
        val=val,
        seed=seed,
        device=device,
        classes=classes,
    )
    _check_pool(split_data, test=test, val=val)  # before the run writes anything
    split = split_lines(split_data, config)  # said once the run trains (errors come alone)
    with Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} epochs"),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        # a log or CI gets the plain lines of show(); rich's bar there leaves a blank line
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("train", total=epochs, status="")

        def show(epoch: int, logs: dict[str, float]) -> None:
            while split:
                progress.console.print(split.pop(0), highlight=False, soft_wrap=True)
            status = (
                f"loss {logs['loss']:.3f} val_loss {logs['val_loss']:.3f} "
                f"val_acc {logs['val_accuracy']:.3f}"
            )
            progress.update(task, completed=epoch + 1, status=status)
            if not console.is_terminal and (epoch + 1) % max(1, epochs // 10) == 0:
                # A log or CI: a plain line every tenth of the run, not a bar. The epoch
                # numbered as history.csv, the table and `diagnose` number it (from 0).
                done = f"{epoch + 1} of {epochs} epochs"
                console.print(f"train: epoch {epoch} ({done}) {status}", highlight=False)

        try:
            run = train_run(
                config,
                split_data,
                out=out,
                data_name=data,
                data_options={
                    "target": target,
                    "ignore": ignore,
                    "groups": groups,
                    "classes": classes,
                },
                pretrained=pretrained,
                transfer=transfer,
                callbacks=[show],
                overwrite=overwrite,
            )
        except TrainInterrupted as stop:
            run, interrupted = stop.run, True
        else:
            interrupted = False
    if interrupted:  # the finished epochs' files are written: one line, exit as Ctrl-C
        last, kept = run.history.epoch[-1], run.history.epoch[run.kept_row]
        errors.print(
            f"interrupted after epoch {last}: wrote {out}/history.csv, metrics.json, model.pt "
            f"and model.json of the epochs finished (model.pt: epoch {kept}, the lowest "
            "val_loss)",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(130)
    if as_json:
        typer.echo(json.dumps(_jsonable(run.metrics), indent=2))
        return
    _summary(run.history, run.kept_row, run.num_parameters, run.seconds, out)
    if said := (run.metrics.get("transfer") or {}).get("retrained"):
        console.print(f"{transfer} transfer from {pretrained}: {said}", highlight=False)


#: The options that shape a network built here, which a pretrained one brings itself.
_SHAPING = ("model", "width", "depth", "dropout", "batchnorm")


def _refuse_shaping(pretrained: str, given: dict[str, object]) -> None:
    """Refuse network options given with a ``--pretrained`` source that brings its own
    network (a ``nooverfit pretrain`` file or a bare state dict with its model card beside
    it, unless they are its own; a ``torchvision:`` model): they were ignored while
    ``metrics.json`` recorded them. A bare state dict without a card is rebuilt from them."""
    own, instead = "its own", ""
    if given and not pretrained.startswith("torchvision:"):
        from nooverfit.transfer.backbones import card_network
        from nooverfit.transfer.pretrain import Source
        from nooverfit.transfer.seen import SourceFile, source_format

        file = SourceFile.read(pretrained)
        if source_format(file.blob, pretrained) is not None:
            config = Source.from_blob(file.blob, pretrained).config
            instead = ", or given to nooverfit pretrain"
        elif (described := card_network(pretrained)) is not None:
            config = described[0]  # the network its card beside it records
            instead = " (the model card beside it records its network)"
        else:
            return  # a bare state dict: the options say what network it is
        given = {k: v for k, v in given.items() if getattr(config, k) != v}
        own = f"its own ({', '.join(f'{k}={getattr(config, k)}' for k in given)})"
    if given:
        names = ", ".join(f"--{n} {v}" if v is not True else f"--{n}" for n, v in given.items())
        raise ValueError(
            f"{names} shape a network built here, but --pretrained {pretrained} brings {own}; "
            f"expected them left out{instead}"
        )


def _summary(history: History, kept: int, params: int, seconds: float, out: Path) -> None:
    from nooverfit.train_run import history_row

    table = Table(title=f"nooverfit train — {params:,} parameters, {seconds:.1f} s")
    table.add_column("epoch")
    for name in ("loss", "accuracy", "val_loss", "val_accuracy", "gap (acc)"):
        table.add_column(name, justify="right")
    for label, i in (("final", len(history) - 1), ("kept", kept)):
        row = history_row(history, i)
        gap = row["accuracy"] - row["val_accuracy"]
        table.add_row(
            f"{label} ({history.epoch[i]})",
            *(f"{row[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")),
            f"{gap:+.4f}",
        )
    console.print(table)
    console.print(
        f"stopped: {history.stop_reason}; wrote {out}/history.csv, metrics.json, model.pt, "
        "model.json"
    )


def _check_pool(data: SplitData, *, test: float, val: float) -> None:
    """Refuse a split that leaves (almost) nothing to train on (see
    :func:`~nooverfit.data.split_checks.check_training_share`)."""
    from nooverfit.data.split_checks import check_training_share
    from nooverfit.techniques import unit_of

    pool = len(data.split.pool)
    n = pool + len(data.split.val) + len(data.split.test)
    sizes = {"test": opt._size(test), "val": opt._size(val)}
    check_training_share(pool, n, **sizes, unit=unit_of(data.kind))


def split_lines(data: SplitData, config: RunConfig) -> list[str]:
    """What the run trains and judges on, before it starts: the training subset, the
    validation and test sets, in the data's own unit; and a note where the training pool
    is the smallest of the three parts (``--val`` is a fraction of the rows left after
    ``--test``: 0.9 and 0.9 leave 1 % of the data to train on)."""
    from nooverfit.techniques import unit_of

    unit = unit_of(data.kind)
    train = len(
        data.train_index(train_size=config.train_size, train_per_class=config.train_per_class)
    )
    pool, val, test = len(data.split.pool), len(data.split.val), len(data.split.test)
    n = pool + val + test
    of_pool = "" if train == pool else f" of the {pool:,} in the training pool"
    lines = [
        f"train: {train:,} training {unit}{of_pool}, {val:,} validation, {test:,} test "
        f"({n:,} in all)"
    ]
    if pool < min(val, test):
        lines.append(
            f"note: the training pool holds {pool / n:.1%} of the {unit}, fewer than "
            "validation and test (--test is a share of all, --val of what --test leaves)"
        )
    return lines
