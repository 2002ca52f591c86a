"""``nooverfit study``: the main job, with progress, a summary table and the report."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from nooverfit._io import _jsonable
from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, command_line, console, guard
from nooverfit.cli.study_summary import print_summary

if TYPE_CHECKING:
    from nooverfit.studies import StudyResult
    from nooverfit.studies.evidence import Evidence


@app.command()
@guard
def study(
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
    train_per_class: Annotated[
        int,
        typer.Option(
            help="Training samples (images, rows, clips) per class; 0 uses the whole "
            "training pool."
        ),
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
        typer.Option(
            help="Pretrained network for the transfer remedy: PATH (a nooverfit pretrain "
            "file, or a train run's model.pt or a study's best_model.pt with its card beside "
            "it) or torchvision:NAME."
        ),
    ] = None,
    classes: opt.Classes = None,
    classic: Annotated[
        bool,
        typer.Option(
            help="Also fit tuned classic models (logistic, SVC, forest, boosting) on the "
            "same splits, for the report's comparison."
        ),
    ] = True,
    device: opt.Device = None,
    out: Annotated[Path, typer.Option(help="Output folder (a study there resumes).")] = Path(
        "study"
    ),
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary only (results.json's keys).")
    ] = False,
) -> None:
    """Baseline, each remedy, their combination and curves; select on validation, test once,
    write results.json, histories/, plots/, best_model.pt and report.html to --out."""
    from nooverfit.studies import study as run_study
    from nooverfit.studies.evidence import evidence
    from nooverfit.study_files import check_study_out, write_study

    if train_per_class < 0:
        raise ValueError(f"train-per-class must be >= 0 (0 for all), got {train_per_class}")
    # study(out=...) checks too, in the API's words (out='PATH'); here in the CLI's (a glob)
    check_study_out(out, named=f"--out {out}")
    if as_json:
        console.quiet = True
    # --ignore only where given: a study's identity holds its data options
    left_out: dict[str, Any] = {"ignore": ignore} if ignore else {}
    left_out.update(opt.group_options(groups, split_by_group))
    with _progress() as show:
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
            classic=classic,
            progress=show,
            target=target,
            data_dir=data_dir,
            download=download,
            **left_out,
        )
    if resumed := _resumed_note(result, out):
        console.print(f"study: {resumed}", highlight=False)
    # Without --out: where a study is written does not change its results.json.
    result.extras["command"] = command_line(ctx, omit=("out", "as_json", "quiet"))
    ev = evidence(result)  # once: the remedies figure, the report and the summary take it
    paths = write_study(result, out, ev=ev)
    if as_json:
        typer.echo(json.dumps(_jsonable(summary(result, paths, ev=ev)), indent=2))
        return
    # by name: typer's click and the installed click may be two modules (as command_line)
    given = ctx.get_parameter_source("train_per_class")
    if given is None or given.name == "DEFAULT":
        note = _subset_note(result)
        if note:
            console.print(f"note: {note}", highlight=False)
    print_summary(result, ev)
    console.print(f"report: [bold]{paths['report']}[/]  results: {paths['results']}")


def _resumed_note(result: StudyResult, out: Path) -> str:
    """What a rerun in a study's folder took from its earlier sessions ("" where it read
    nothing back): their runs are kept as they are, not trained or written again."""
    runs, read = result.settings.runs, result.read_back
    if read == 0:
        return ""
    store = out / "runs"
    if read >= runs:
        return (
            f"the study in {out} is already complete: its {runs} runs were read back from "
            f"{store}, none trained; its results and report are written again from them"
        )
    return (
        f"resumed the study in {out}: {read} of its {runs} runs read back from {store}, "
        f"{runs - read} trained"
    )


def _subset_note(result: StudyResult) -> str:
    """What the default ``--train-per-class`` left out, where it left anything out: a user
    who points the study at a CSV of 1,000 rows may not expect it to train on 40."""
    from nooverfit.techniques import sample_unit

    sizes = [(len(result.train_indices.get(s.seed, ())), len(s.pool)) for s in result.splits]
    used, pool = min(sizes, default=(0, 0))
    if not 0 < used < pool:
        return ""
    unit = sample_unit(result)
    return (
        f"the study trained on {result.settings.train_per_class} {unit} per class, {used} "
        f"of the {pool} {unit} in the training pool (the small-data default of "
        "--train-per-class); "
        "--train-per-class 0 studies the whole pool"
    )


def _runs(done: int, total: int) -> str:
    """``done/total`` runs, the total marked ``~`` until it is reached: later stages are
    planned from earlier results, so until then it is an upper bound (studies/estimate.py)
    that never rises but may fall ("84/~120", then "84/~114")."""
    return f"{done}/{total}" if done >= total else f"{done}/~{total}"


class _Lines:
    """Progress for a log file or CI: one plain line as each stage starts, and at the end."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.done = 0

    def __call__(self, label: str, done: int, total: int) -> None:
        self.done = done
        if label.startswith("stage: "):
            seconds = time.perf_counter() - self.start
            console.print(
                f"study: {_runs(done, total)} runs after {seconds:.0f} s; next: {label[7:]}",
                highlight=False,
            )
        elif _verbose():
            console.print(f"study: run {_runs(done, total)} {label}", highlight=False)

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            seconds = time.perf_counter() - self.start
            console.print(f"study: {self.done} runs in {seconds:.0f} s", highlight=False)


class _Bar:
    """Progress on a terminal: a bar over the plan's runs (an upper bound, see
    :func:`_runs`), the stage and the last run."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("[bold]study"),
            BarColumn(),
            TextColumn("{task.fields[runs]} runs"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[label]}"),
            console=console,
            transient=True,
        )
        self.task = self.progress.add_task("study", total=None, runs="0", label="")
        self.stage = ""

    def __call__(self, label: str, done: int, total: int) -> None:
        runs = _runs(done, total)
        stage = label.startswith("stage: ")
        if stage:
            self.stage = label[7:]
        shown = self.stage if stage else f"{self.stage}: {label}"
        self.progress.update(self.task, completed=done, total=total, runs=runs, label=shown)
        if _verbose() and not stage:
            self.progress.console.print(f"run {runs} {label}", highlight=False)

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)


def _verbose() -> bool:
    """Whether --verbose was given (it sets the library's logger to INFO)."""
    return logging.getLogger("nooverfit").isEnabledFor(logging.INFO)


def _progress() -> _Lines | _Bar:
    """A bar on a terminal; plain lines in a log, a pipe or CI; nothing with --quiet."""
    return _Bar() if console.is_terminal and not console.quiet else _Lines()


def summary(
    result: StudyResult, paths: dict[str, Path], *, ev: Evidence | None = None
) -> dict[str, object]:
    """The ``--json`` summary: results.json's keys but the bulky ones (``runs`` with every
    history, ``splits`` with every index), the paired evidence (``ev``, computed where not
    given), and the written paths."""
    import dataclasses

    from nooverfit.studies.evidence import evidence

    full = result.to_dict()
    for bulky in ("runs", "splits"):
        full.pop(bulky, None)
    full["evidence"] = dataclasses.asdict(ev if ev is not None else evidence(result))
    full["paths"] = {k: str(v) for k, v in paths.items()}
    return full
