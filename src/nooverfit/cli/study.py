"""``nooverfit study``: the main job, with progress, a summary table and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, console, guard
from nooverfit.studies import StudyResult
from nooverfit.studies import study as run_study
from nooverfit.study_files import write_study


@app.command()
@guard
def study(
    data: opt.Data = "digits",
    target: opt.Target = None,
    data_dir: opt.DataDir = "data",
    download: opt.Download = False,
    test: opt.TestSize = 0.25,
    val: opt.ValSize = 0.2,
    train_per_class: Annotated[
        int, typer.Option(help="Training images per class; 0 uses the whole training pool.")
    ] = 20,
    model: Annotated[str, typer.Option(help="Model family: mlp or cnn.")] = "mlp",
    width: Annotated[
        int | None, typer.Option(help="Baseline width (default 256 MLP, 16 CNN).")
    ] = None,
    depth: Annotated[int, typer.Option(help="Hidden layers (MLP) or conv blocks (CNN).")] = 2,
    budget: Annotated[str, typer.Option(help="quick, standard or thorough.")] = "quick",
    seeds: Annotated[int, typer.Option(help="Number of seeds, 1-100 (each its own split).")] = 3,
    epochs: Annotated[
        int | None, typer.Option(help="Epochs per run (default: the budget's).")
    ] = None,
    engine: Annotated[str, typer.Option(help="auto, fused or sequential.")] = "auto",
    source: Annotated[
        str | None,
        typer.Option(help="Pretrained network for the transfer remedy: PATH or torchvision:NAME."),
    ] = None,
    classes: Annotated[
        str | None, typer.Option(help="Keep only these classes, e.g. 5-9 (relabelled from 0).")
    ] = None,
    device: opt.Device = None,
    out: Annotated[Path, typer.Option(help="Output folder (a study there resumes).")] = Path(
        "study"
    ),
) -> None:
    """Baseline, each remedy, their combination and curves; select on validation, test once,
    write results.json, histories/, plots/, best_model.pt and report.html to --out."""
    if train_per_class < 0:
        raise ValueError(f"train-per-class must be >= 0 (0 for all), got {train_per_class}")
    with Progress(
        TextColumn("[bold]study"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[label]}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("study", total=None, label="")

        def show(label: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, label=label)

        result = run_study(
            data,
            model=model,
            width=width,
            depth=depth,
            train_per_class=train_per_class or None,
            budget=budget,
            seeds=seeds,
            engine=engine,
            epochs=epochs,
            test=opt._size(test),
            val=opt._size(val),
            out=out,
            device=device,
            source=source,
            classes=classes,
            progress=show,
            target=target,
            data_dir=data_dir,
            download=download,
        )
    paths = write_study(result, out)
    _summary(result)
    console.print(f"report: [bold]{paths['report']}[/]  results: {paths['results']}")


def _summary(result: StudyResult) -> None:
    pct = lambda v: f"{100 * v:.1f}"  # noqa: E731
    d = result.baseline_diagnosis
    console.print(
        f"Baseline verdict: [bold]{d.verdict.value.replace('_', ' ')}[/]"
        + (f", onset epoch {d.onset_epoch}" if d.onset_epoch is not None else "")
    )
    table = Table(title="Remedies (validation accuracy %, mean ± std over seeds)")
    for col in ("remedy", "best setting", "val acc", "vs baseline", "gap", "verdict"):
        table.add_column(
            col, justify="left" if col in ("remedy", "best setting", "verdict") else "right"
        )
    b = result.baseline
    table.add_row(
        "baseline",
        "—",
        f"{pct(b.score.val_accuracy)} ± {pct(b.score.val_accuracy_std)}",
        "",
        pct(b.score.gap),
        b.verdict,
    )
    for o in result.remedies:
        style = "green" if o.helped else None
        table.add_row(
            o.remedy,
            o.chosen.name,
            f"{pct(o.chosen.score.val_accuracy)} ± {pct(o.chosen.score.val_accuracy_std)}",
            f"{100 * o.delta:+.1f}",
            pct(o.chosen.score.gap),
            o.chosen.verdict,
            style=style,
        )
    console.print(table)
    t = result.test
    console.print(
        f"Recommended: [bold green]{result.recommended.name}[/] — test accuracy "
        f"{pct(t['recommended'].accuracy)}% ± {pct(t['recommended'].accuracy_std)} vs baseline "
        f"{pct(t['baseline'].accuracy)}% ± {pct(t['baseline'].accuracy_std)}"
    )
    for role, check in result.extras.get("shortcut", {}).items():
        verdict = (
            "passed"
            if check["passed"]
            else "[bold red]flagged[/]: " + ", ".join(check["flags"]).replace("_", " ")
        )
        change = round(-100 * check["drop"], 1) + 0.0  # no "-0.0"
        console.print(
            f"Shortcut check ({role}): {verdict} — fires on noise alone "
            f"{pct(check['fire_rate'])}% of the time; training noise mixed in costs "
            f"{100 * check.get('noise_drop', 0.0):.1f} points; held-out noise changes accuracy "
            f"by {change:+.1f} points"
        )
