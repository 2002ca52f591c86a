"""``nooverfit study``: the main job, with progress, a summary table and the report."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from nooverfit._io import _jsonable
from nooverfit._words import counted
from nooverfit.cli import _options as opt
from nooverfit.cli._app import app, command_line, console, guard

if TYPE_CHECKING:
    from nooverfit.studies import StudyResult


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
        typer.Option(help="Pretrained network for the transfer remedy: PATH or torchvision:NAME."),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option(help="Keep only these classes, e.g. 5-9 or cat,dog (relabelled from 0)."),
    ] = None,
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
    # Without --out: where a study is written does not change its results.json.
    result.extras["command"] = command_line(ctx, omit=("out", "as_json", "quiet"))
    paths = write_study(result, out)
    if as_json:
        typer.echo(json.dumps(_jsonable(summary(result, paths)), indent=2))
        return
    # by name: typer's click and the installed click may be two modules (as command_line)
    given = ctx.get_parameter_source("train_per_class")
    if given is None or given.name == "DEFAULT":
        note = _subset_note(result)
        if note:
            console.print(f"note: {note}", highlight=False)
    _summary(result)
    console.print(f"report: [bold]{paths['report']}[/]  results: {paths['results']}")


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


def summary(result: StudyResult, paths: dict[str, Path]) -> dict[str, object]:
    """The ``--json`` summary: results.json's keys but the bulky ones (``runs`` with every
    history, ``splits`` with every index), the paired evidence, and the written paths."""
    import dataclasses

    from nooverfit.studies.evidence import evidence

    full = result.to_dict()
    for bulky in ("runs", "splits"):
        full.pop(bulky, None)
    full["evidence"] = dataclasses.asdict(evidence(result))
    full["paths"] = {k: str(v) for k, v in paths.items()}
    return full


def _summary(result: StudyResult) -> None:
    from nooverfit.repeats import ceiling_sentence
    from nooverfit.report import cost_line, pct, points, spread, word
    from nooverfit.studies.classic_vs import against
    from nooverfit.studies.evidence import PairedDifference, evidence
    from nooverfit.studies.evidence_words import reading, recommendation_weakness
    from nooverfit.techniques import sample_unit

    ev = evidence(result)
    n = len(ev.seeds)
    seeds = ", ".join(
        f"seed {v.seed}: {word(v.verdict)}"
        + (f" from epoch {v.onset_epoch}" if v.onset_epoch is not None else "")
        for v in ev.verdicts
    )
    console.print(f"Baseline verdict: [bold]{word(ev.verdict)}[/] on {ev.share} — {seeds}")

    def interval(d: PairedDifference) -> str:
        i = d.interval
        return f"[{points(i.low)}, {points(i.high)}]" if n > 1 else "—"

    table = Table(
        title="Remedies, ranked by the paired difference "
        f"(validation accuracy %, {counted(n, 'seed')})",
        caption="− baseline: of the unrounded accuracies, so it can differ by 0.1 from the "
        "difference of the rounded ones",
    )
    acc = "val acc ± std" if n > 1 else "val acc"  # one seed: no spread
    for col in ("#", "remedy", "best setting", acc, "− baseline", "95 % interval"):
        table.add_column(col, justify="left" if col in ("remedy", "best setting") else "right")
    table.add_column("reading")
    b = result.baseline
    table.add_row(
        "",
        "baseline",
        "—",
        spread(b.score.val_accuracy, b.score.val_accuracy_std, n),
        "",
        "",
        "",
    )
    variants = {v.name: v for v in result.variants}
    unit = sample_unit(result)
    ranks = [*map(str, range(1, len(ev.remedies) + 1)), *[""] * len(ev.ensembles)]
    for rank, d in zip(ranks, (*ev.remedies, *ev.ensembles), strict=True):
        v = variants[d.name]  # ensembles follow, unranked: not one remedy alone
        table.add_row(
            rank,
            word(d.role),
            _short(d.name),
            spread(v.score.val_accuracy, v.score.val_accuracy_std, n),
            points(d.interval.mean),
            interval(d),
            reading(d, unit, short=True),
            style="green" if d.interval.reading == "better" else None,
        )
    console.print(table)
    if any(d.selected and d.interval.within_noise for d in (*ev.remedies, *ev.ensembles)):
        console.print(
            "selected: the study counts a remedy as helping at a seed-paired validation gain "
            "of 2 standard errors (SE); the 95 % interval is wider.",
            highlight=False,
        )
    t = result.test
    console.print(
        f"Recommended: [bold green]{result.recommended.name}[/] — test accuracy "
        f"{pct(t['recommended'].accuracy)}% vs baseline {pct(t['baseline'].accuracy)}% "
        f"(means over {counted(n, 'seed')})"
    )
    if result.recommended.name == result.baseline.name:
        console.print(
            "No remedy beat the baseline on validation: the recommendation is the baseline itself."
        )
    else:
        per_seed = ", ".join(points(x) for x in ev.test.per_seed)
        rec, base = t["recommended"].accuracy, t["baseline"].accuracy
        console.print(
            f"Paired by seed, recommended − baseline on test: {points(ev.test.interval.mean)} "
            f"points, 95 % interval {interval(ev.test)} (per seed {per_seed}"
            f"{_unrounded(rec, base, ev.test.interval.mean)}): "
            f"[bold]{ev.test.interval.reading}[/]",
            highlight=False,
        )
        why = recommendation_weakness(result, unit)
        if why:
            console.print(f"Weak evidence for the recommendation: {why}.", highlight=False)
    _class_scores(result.extras, unit)
    if ceiling := ceiling_sentence(result.extras.get("audit")):
        console.print(ceiling, highlight=False)
    classic = result.extras.get("classic")
    vs = against(classic, t["recommended"].per_seed) if classic else None
    if vs is not None:
        tied = f" (tied there with {', '.join(vs.tied_on_val)})" if vs.tied_on_val else ""
        console.print(
            f"Classic model best on validation: {vs.model}{tied}, test {pct(vs.test)}% on the "
            f"same splits; recommended − {vs.model}: {points(vs.diff)} points"
            f"{_unrounded(t['recommended'].accuracy, vs.test, vs.diff, head=' (', tail=')')}",
            highlight=False,
        )
    elif classic:
        why = "; ".join(f"{k}: {v}" for k, v in classic["skipped"].items())
        console.print(f"Classic models not fitted: {why}", highlight=False)
    if result.costs:
        console.print(cost_line(result), highlight=False)
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


def _unrounded(high: float, low: float, diff: float, *, head: str = "; ", tail: str = "") -> str:
    """Where ``diff`` (of the unrounded accuracies) is not the difference of the two rounded
    accuracies printed beside it (:func:`nooverfit.report.rounded_apart`), a clause saying
    so and what the rounded ones give; "" where they add up."""
    from nooverfit.report import pct, rounded_apart

    if (apart := rounded_apart(high, low, diff)) is None:
        return ""
    return (
        f"{head}differences of the unrounded accuracies: {pct(high)} − {pct(low)} as rounded "
        f"gives {apart}{tail}"
    )


def _class_scores(extras: dict[str, Any], unit: str) -> None:
    """The accuracy of always answering the largest class, balanced accuracy, and the
    warnings of imbalanced classes and of a model that answers one class."""
    from nooverfit.studies.class_scores import summary_line

    scores = extras.get("class_scores")
    if not scores:
        return
    console.print(summary_line(scores, unit), highlight=False)
    for text in scores["warnings"]:
        console.print(f"[bold red]Warning:[/] {escape(text)}", highlight=False)


def _short(name: str, limit: int = 40) -> str:
    """A table cell's form of a long variant name (an ensemble lists all its members; the
    report shows them whole)."""
    return name if len(name) <= limit else name[: limit - 1] + "…"
