"""``nooverfit train``: one training run with chosen regularization."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import torch
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from nooverfit._io import atomic_write, atomic_write_json
from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, console, guard
from nooverfit.config import RunConfig
from nooverfit.history import History
from nooverfit.models import network_for
from nooverfit.train import Callback, fit
from nooverfit.transfer import as_pretrained, transfer_model


@app.command()
@guard
def train(
    data: opt.Data = "digits",
    target: opt.Target = None,
    data_dir: opt.DataDir = "data",
    download: opt.Download = False,
    test: opt.TestSize = 0.25,
    val: opt.ValSize = 0.2,
    train_per_class: Annotated[
        int | None, typer.Option(help="Training images per class (small-data runs).")
    ] = None,
    train_size: Annotated[int | None, typer.Option(help="Training-set size in total.")] = None,
    model: Annotated[str, typer.Option(help="Model family: mlp or cnn.")] = "mlp",
    width: Annotated[int, typer.Option(help="Hidden units (MLP) or first-block channels.")] = 256,
    depth: Annotated[int, typer.Option(help="Hidden layers (MLP) or conv blocks (CNN).")] = 2,
    dropout: Annotated[float, typer.Option(help="Dropout rate in [0, 1).")] = 0.0,
    l2: Annotated[float, typer.Option(help="L2 lambda: loss += l2/2 * sum ||W||^2.")] = 0.0,
    weight_decay: Annotated[float, typer.Option(help="Decoupled weight decay.")] = 0.0,
    batchnorm: Annotated[bool, typer.Option("--batchnorm", help="Add batch norm.")] = False,
    augment: Annotated[float, typer.Option(help="Augmentation strength in [0, 1].")] = 0.0,
    optimizer: Annotated[str, typer.Option(help="adam, adamw or sgd.")] = "adam",
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
        str, typer.Option(help="With --pretrained, what to retrain: head, io, full, gradual.")
    ] = "io",
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("runs/train"),
) -> None:
    """Train one network and write history.csv, metrics.json and model.pt to --out."""
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
        train_per_class=train_per_class,
    )
    split_data = opt.load_data(
        data,
        target=target,
        data_dir=data_dir,
        download=download,
        test=test,
        val=val,
        seed=seed,
        device=device,
    )
    train_idx = split_data.split.train(
        split_data.dataset.y, train_size=train_size, train_per_class=train_per_class
    )
    callbacks: list[Callback] = []
    optim = None
    if pretrained is None:
        network: torch.nn.Module = network_for(config, split_data)
    else:
        source = as_pretrained(pretrained, config=config, in_shape=split_data.in_shape)
        prepared = transfer_model(source, split_data, strategy=transfer, seed=seed)
        network, callbacks, optim = (
            prepared.model,
            prepared.callbacks(),
            prepared.optimizer(config),
        )
    num_parameters = sum(p.numel() for p in network.parameters() if p.requires_grad)
    start = time.perf_counter()
    with Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} epochs"),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("train", total=epochs, status="")

        def show(epoch: int, logs: dict[str, float]) -> None:
            status = (
                f"loss {logs['loss']:.3f} val_loss {logs['val_loss']:.3f} "
                f"val_acc {logs['val_accuracy']:.3f}"
            )
            progress.update(task, completed=epoch + 1, status=status)

        history = fit(network, split_data, config, callbacks=[show, *callbacks], optimizer=optim)
    seconds = time.perf_counter() - start
    lowest = history.best()  # the one definition of the best epoch: lowest val_loss
    best = history.epoch.index(lowest) if lowest is not None else len(history) - 1
    metrics = {
        "config": config.to_dict(),
        "data": data,
        "device": str(split_data.device),
        "num_parameters": num_parameters,
        "transfer": {"pretrained": pretrained, "strategy": transfer} if pretrained else None,
        "epochs_run": len(history),
        "stop_reason": history.stop_reason,
        "best_epoch": history.epoch[best],
        "final": _row(history, len(history) - 1),
        "best": _row(history, best),
        "seconds": seconds,
        "split": {**split_data.split.to_dict(), "train": train_idx.tolist()},
    }
    out.mkdir(parents=True, exist_ok=True)
    history.save(out / "history.csv")
    atomic_write_json(out / "metrics.json", metrics)
    state = {k: v.detach().cpu() for k, v in network.state_dict().items()}
    atomic_write(out / "model.pt", lambda tmp: torch.save(state, tmp))
    _summary(history, best, num_parameters, seconds, out)


def _row(history: History, i: int) -> dict[str, float]:
    return {k: history.column(k)[i] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}


def _summary(history: History, best: int, params: int, seconds: float, out: Path) -> None:
    table = Table(title=f"nooverfit train — {params:,} parameters, {seconds:.1f} s")
    table.add_column("epoch")
    for name in ("loss", "accuracy", "val_loss", "val_accuracy", "gap (acc)"):
        table.add_column(name, justify="right")
    for label, i in (("final", len(history) - 1), ("kept", best)):
        row = _row(history, i)
        gap = row["accuracy"] - row["val_accuracy"]
        table.add_row(
            f"{label} ({history.epoch[i]})",
            *(f"{row[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")),
            f"{gap:+.4f}",
        )
    console.print(table)
    console.print(
        f"stopped: {history.stop_reason}; wrote {out}/history.csv, metrics.json, model.pt"
    )
