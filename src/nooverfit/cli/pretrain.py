"""``nooverfit pretrain``: train a source network for transfer learning, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, console, guard
from nooverfit.cli._options import _size


@app.command()
@guard
def pretrain(
    data: opt.Data = "digits",
    target: opt.Target = None,
    ignore: opt.Ignore = None,
    data_dir: opt.DataDir = "data",
    download: opt.Download = False,
    classes: Annotated[
        str | None,
        typer.Option(help="Source classes, e.g. 0-4, 0,2,4 or class names (default: all)."),
    ] = None,
    pretext: Annotated[
        str | None,
        typer.Option(
            help="Self-supervised pretext on the unlabeled training pool: rotation or "
            "contrastive (SimCLR views of each image)."
        ),
    ] = None,
    temperature: Annotated[
        float | None, typer.Option(help="NT-Xent temperature (--pretext contrastive; 0.5).")
    ] = None,
    test: opt.TestSize = 0.25,
    val: opt.ValSize = 0.2,
    model: Annotated[str, typer.Option(help="Model family: mlp or cnn.")] = "cnn",
    width: Annotated[int, typer.Option(help="Hidden units (MLP) or first-block channels.")] = 32,
    depth: Annotated[int, typer.Option(help="Hidden layers (MLP) or conv blocks (CNN).")] = 2,
    batchnorm: Annotated[bool, typer.Option("--batchnorm", help="Add batch norm.")] = False,
    augment: Annotated[
        float | None,
        typer.Option(help="Augmentation strength in [0, 1] (default 0.5; contrastive: 1)."),
    ] = None,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 1e-3,
    batch_size: Annotated[
        int | None, typer.Option(help="Mini-batch size (default 64; contrastive: 256).")
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help="Maximum epochs (default 60; contrastive: 200).")
    ] = None,
    early_stopping: Annotated[
        str | None, typer.Option(help="patience:N, gl:ALPHA, pq:ALPHA or up:S.")
    ] = "patience:10",
    seed: opt.Seed = 0,
    device: opt.Device = None,
    out: Annotated[Path, typer.Option(help="Source file to write.")] = Path("source.pt"),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --out file.")
    ] = False,
) -> None:
    """Pretrain a source network on a class subset or a self-supervised pretext; write --out.

    Only the training pool of the split that --test, --val and --seed define is used (with
    --pretext, labels ignored; with --classes, those classes' pool images), so `nooverfit
    train` with the same --test, --val and --seed never tests on an image the source saw
    in pretraining; --out records those images, and train --pretrained and study --source
    refuse a split that tests on one of them. Contrastive
    pretraining uses --augment as the strength of its views and runs all --epochs (no
    early stopping).
    """
    import numpy as np

    from nooverfit.config import RunConfig
    from nooverfit.data import load_dataset
    from nooverfit.data.split import split_dataset
    from nooverfit.errors import check_new
    from nooverfit.transfer import (
        PRETEXTS,
        contrastive_pretrain,
        rotation_pretext,
        unlabeled_pool,
    )
    from nooverfit.transfer import pretrain as pretrain_source
    from nooverfit.transfer.pretrain import pool_only, subset_classes

    if pretext not in (None, *PRETEXTS):
        raise ValueError(f"pretext must be one of {', '.join(PRETEXTS)}, got {pretext!r}")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; expected a source file path, e.g. source.pt")
    check_new(out, overwrite=overwrite)  # before training: nothing lost, no time spent
    contrastive = pretext == "contrastive"
    if temperature is not None and not contrastive:
        raise ValueError("--temperature applies to --pretext contrastive only; drop it")
    temperature = 0.5 if temperature is None else temperature
    if augment is None:
        augment = 1.0 if contrastive else 0.5
    if batch_size is None:
        batch_size = 256 if contrastive else 64
    if epochs is None:
        epochs = 200 if contrastive else 60
    config = RunConfig(
        model=model,
        width=width,
        depth=depth,
        batchnorm=batchnorm,
        augment=augment,
        lr=lr,
        batch_size=batch_size,
        epochs=epochs,
        early_stopping=early_stopping,
        seed=seed,
    )
    ignored = {"ignore": ignore} if ignore else {}
    dataset = load_dataset(data, target=target, data_dir=data_dir, download=download, **ignored)
    # the split `train` makes of the whole data set with these options: only its training
    # pool may serve as the source, or a later `train --pretrained` would test on images
    # the source trained on
    pool = unlabeled_pool(split_dataset(dataset, test=_size(test), val=_size(val), seed=seed))
    dataset = pool_only(dataset, pool)
    dataset = subset_classes(dataset, classes)
    pool = np.arange(len(dataset))  # the data set now holds pool images only
    if contrastive:
        with console.status(f"contrastive pretraining on {len(pool)} unlabeled images"):
            source = contrastive_pretrain(
                dataset, config, index=pool, temperature=temperature, device=device
            )
        source.save(out, overwrite=overwrite)
        console.print(
            f"pretrained {model} on {source.task} ({len(pool)} unlabeled images, "
            f"{source.classes}-d projection); wrote {out}"
        )
        return
    if pretext == "rotation":
        dataset = rotation_pretext(dataset, pool)
    with console.status(f"pretraining on {dataset.name} ({len(dataset)} samples)"):
        source = pretrain_source(dataset, config, device=device)
    source.save(out, overwrite=overwrite)
    console.print(
        f"pretrained {model} on {source.task} ({len(dataset)} samples, "
        f"{source.classes} classes); wrote {out}"
    )
