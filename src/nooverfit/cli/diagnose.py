"""``nooverfit diagnose LOG``: verdict, onset, gap, causes and remedies for a training log."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from nooverfit._io import _jsonable, atomic_write
from nooverfit.cli._app import app, console, guard
from nooverfit.cli._options import For, check_for
from nooverfit.cli._render import COLORS, render, render_stopping
from nooverfit.errors import BadInput, OutputExists
from nooverfit.history import History
from nooverfit.logs import FORMATS, list_runs, read_log
from nooverfit.stopping import STANDARD_CRITERIA, replay

if TYPE_CHECKING:
    # Imported where used: the diagnosis loads numpy, which --help does not need.
    from nooverfit.diagnosis import Diagnosis, Verdict

#: Criteria replayed by ``--stopping``.
CRITERIA = STANDARD_CRITERIA

Metric = Annotated[
    str | None, typer.Option(help="Metric to compare, e.g. accuracy or auc (default: accuracy).")
]
Format = Annotated[
    str,
    typer.Option(
        "--format",
        help=f"{', '.join(FORMATS)}.",  # from the reader's list: it cannot drift
    ),
]
TrainCol = Annotated[str | None, typer.Option("--train-col", help="Column of the training loss.")]
ValCol = Annotated[str | None, typer.Option("--val-col", help="Column of the validation loss.")]


def column_map(train_col: str | None, val_col: str | None) -> dict[str, str] | None:
    """The ``columns=`` mapping the ``--train-col/--val-col`` flags describe.

    Raises:
        BadInput: both name the same column (the log would read as training and validation
            being one curve: no gap, whatever the run did).
    """
    if train_col and train_col == val_col:
        raise BadInput(
            f"--train-col and --val-col both name {train_col!r}; expected two columns, the "
            "training loss and the validation loss"
        )
    mapping = {k: v for k, v in (("loss", train_col), ("val_loss", val_col)) if v}
    return mapping or None


FailOn = Annotated[
    str,
    typer.Option(
        "--fail-on",
        help="Comma-separated verdicts that make the command exit 1 (for CI), e.g. "
        "overfitting,diverging.",
    ),
]


def parse_fail_on(text: str) -> set[Verdict]:
    """The verdicts named in ``--fail-on`` (empty text: none).

    Raises:
        ValueError: a name that is not a verdict (the message lists them).
    """
    names = [n.strip() for n in text.split(",") if n.strip()]
    from nooverfit.diagnosis import Verdict

    known = {v.value: v for v in Verdict}
    # case-insensitive, "-" for "_": the printed verdict reads "OVERFITTING", "GOOD FIT"
    keys = {n: n.lower().replace("-", "_").replace(" ", "_") for n in names}
    wrong = [n for n in names if keys[n] not in known]
    if wrong:
        raise ValueError(
            f"--fail-on got {', '.join(wrong)}; expected verdicts among {', '.join(known)}"
        )
    return {known[keys[n]] for n in names}


@app.command("diagnose")
@guard
def diagnose_command(
    log: Annotated[Path, typer.Argument(help="Log file or run folder (Keras, Lightning, ...).")],
    metric: Metric = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Write a plot of the curves (PNG, or the format of its suffix: .svg, .pdf)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    stopping: Annotated[
        bool, typer.Option("--stopping", help="Replay every early-stopping criterion.")
    ] = False,
    train_col: TrainCol = None,
    val_col: ValCol = None,
    log_format: Format = "auto",
    fail_on: FailOn = "",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --plot file.")
    ] = False,
    framework: For = None,
) -> None:
    """Diagnose a training log: verdict, onset of overfitting, gap, causes and remedies.

    A folder holding several runs is diagnosed run by run. An existing --plot file is
    refused unless --overwrite. The remedies are written for the framework that wrote the
    log (--for chooses another). Exits 1 when a verdict is in --fail-on, 2 on bad input,
    0 otherwise.
    """
    failing = parse_fail_on(fail_on)
    check_for(framework)
    image = None if plot is None else _plot_format(plot)
    if plot is not None and plot.exists() and not overwrite:  # before reading: nothing lost
        raise OutputExists(
            f"{plot} already exists; choose another --plot or pass --overwrite to replace it"
        )
    runs = list_runs(log) if log.is_dir() else []
    if len(runs) > 1:
        if plot is not None or stopping:
            raise ValueError(
                f"{log} holds {len(runs)} runs; --plot and --stopping need one of them"
            )
        verdicts = _diagnose_runs(
            log, runs, metric, train_col, val_col, log_format, as_json, framework
        )
        _check_fail_on(failing, verdicts)
        return
    if len(runs) == 1 and runs[0] != log:  # the folder's one run: name it
        log = runs[0]
    history = read_log(log, format=log_format, columns=column_map(train_col, val_col))
    result, words = _diagnosed(history, metric, framework)
    replays = stopping_table(history) if stopping else []
    if plot is not None:
        from nooverfit.plots.diagnosis import plot_diagnosis

        figure = plot_diagnosis(history, result)
        atomic_write(plot, lambda tmp: figure.savefig(tmp, format=image, dpi=120))
    if as_json:
        data = {"log": str(log), **result.to_dict(), "notes": list(history.notes)}
        data["framework"] = words or None  # (None: plain words, the writer not known)
        if stopping:
            data["stopping"] = replays
        typer.echo(json.dumps(_jsonable(data), indent=2))
    else:
        render(result, title=str(log), notes=history.notes, framework=words)
        if stopping:
            render_stopping(replays)
            if not history.has("loss"):
                console.print(
                    "pq criteria left out: they need a training loss, which this log lacks",
                    highlight=False,
                )
        if plot is not None:
            console.print(f"wrote {plot}")
    _check_fail_on(failing, [result.verdict])


def _diagnosed(
    history: History, metric: str | None, framework: str | None
) -> tuple[Diagnosis, str]:
    """The diagnosis of ``history`` with its remedies written for ``framework`` (``None``:
    the framework that wrote the log), and the framework they are written for."""
    from nooverfit._rules import diagnose
    from nooverfit.remedy_words import in_words

    words = history.framework if framework is None else framework
    result = diagnose(history, metric=metric)
    return in_words(result, words, logged_as=history.logged_as), words


def _check_fail_on(failing: set[Verdict], verdicts: list[Verdict]) -> None:
    """Exit 1 when a verdict is in ``failing``; say so when a verdict of insufficient
    evidence left the check undecided (a CI job must not pass on it silently)."""
    from nooverfit.diagnosis import Verdict

    if failing & set(verdicts):
        raise typer.Exit(1)
    unknown = verdicts.count(Verdict.INSUFFICIENT_EVIDENCE)
    if failing and unknown:
        names = ", ".join(sorted(v.value for v in failing))
        typer.echo(
            f"warning: --fail-on {names} not checked on {unknown} of {len(verdicts)} "
            "log(s): insufficient evidence; add insufficient_evidence to --fail-on to fail on "
            "it",
            err=True,
        )


def _plot_format(plot: Path) -> str:
    """The image format of ``--plot`` from its suffix (no suffix: PNG).

    Raises:
        BadInput: a suffix matplotlib cannot write, before the log is read.
    """
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = plot.suffix.lower().removeprefix(".")
    if suffix and suffix not in FigureCanvasBase.get_supported_filetypes():
        raise BadInput(
            f"--plot {plot}: {suffix!r} is not an image format; expected a file ending in "
            ".png, .svg or .pdf"
        )
    return suffix or "png"


def _diagnose_runs(
    folder: Path,
    runs: list[Path],
    metric: str | None,
    train_col: str | None,
    val_col: str | None,
    log_format: str,
    as_json: bool,
    framework: str | None = None,
) -> list[Verdict]:
    """Diagnose each run of a folder separately; print a table (or JSON) of them, the
    remedies written for ``framework`` (``None``: each run's own)."""
    rows, failed = [], []
    for run in runs:
        try:  # one unreadable run is reported on its row; the others are still diagnosed
            history = read_log(run, format=log_format, columns=column_map(train_col, val_col))
            rows.append((run, history, *_diagnosed(history, metric, framework)))
        except (ValueError, OSError, ImportError) as err:
            failed.append((run, str(err)))
    if not rows:
        raise ValueError(f"no run in {folder} could be read; {failed[0][0]}: {failed[0][1]}")
    if as_json:
        data: list[dict[str, object]] = [
            {"log": str(run), **d.to_dict(), "notes": list(h.notes), "framework": words or None}
            for run, h, d, words in rows
        ]
        data += [{"log": str(run), "error": why} for run, why in failed]
        typer.echo(json.dumps(_jsonable(data), indent=2))
        return [d.verdict for _, _, d, _ in rows]
    table = Table(title=f"{len(runs)} runs in {escape(str(folder))} (each diagnosed on its own)")
    # the run's path takes the width the short columns leave (at 80 columns it had been
    # folded into 17-character pieces beside "overfitting from")
    table.add_column("run", overflow="fold", ratio=1)
    table.add_column("verdict", no_wrap=True)
    for name in ("epochs", "best epoch", "onset"):
        table.add_column(name, justify="right", no_wrap=True)
    for run, _, d, _ in rows:
        table.add_row(
            escape(str(run.relative_to(folder))),
            f"[{COLORS[d.verdict]}]{d.verdict.value}[/]",
            str(d.epochs),
            "" if d.best_epoch is None else str(d.best_epoch),
            "" if d.onset_epoch is None else str(d.onset_epoch),
        )
    for run, _ in failed:
        table.add_row(escape(str(run.relative_to(folder))), "[red]unreadable[/]", "", "", "")
    console.print(table)
    for run, why in failed:
        console.print(
            f"[red]{escape(str(run.relative_to(folder)))}[/]: {escape(why)}", highlight=False
        )
    console.print("pass one run to see its causes and remedies", highlight=False)
    return [d.verdict for _, _, d, _ in rows]


def stopping_table(history: History) -> list[dict[str, object]]:
    """Replay :data:`CRITERIA` on the history's validation loss (PQ needs training loss).

    The criteria see the validated epochs only, as Keras's ``EarlyStopping`` (which skips
    an epoch without ``val_loss``) and ``watch`` do; the epochs named are the log's, and
    the epochs saved are the log's epochs after the stop (its rows where it shows steps
    as epochs), 0 where the criterion never fires.

    Raises:
        ValueError: when the log has no validation loss.
    """
    validated = [i for i, v in enumerate(history.val_loss) if math.isfinite(v)]
    if not history.has("val_loss") or not validated:
        raise ValueError("--stopping needs a val_loss column; map it with --val-col NAME")
    val = [history.val_loss[i] for i in validated]
    filled = _filled(history.loss) if history.has("loss") else None
    train = None if filled is None else [filled[i] for i in validated]
    lowest = min(val)  # at the best epoch (history.best_index's), every value finite
    last = len(history) - 1
    rows = []
    for spec in CRITERIA:
        if spec.startswith("pq") and train is None:
            continue
        r = replay(spec, val, train)
        stop = validated[r.stop_epoch]  # the row it stops at
        saved = (
            last - stop if history.steps_as_epochs else history.epoch[last] - history.epoch[stop]
        )
        rows.append(
            {
                "criterion": spec,
                "fired": r.fired,
                "stop_epoch": history.epoch[stop],
                "kept_epoch": history.epoch[validated[r.kept_epoch]],
                "val_loss": r.kept_val_loss,
                "vs_best_pct": 100 * (r.kept_val_loss / lowest - 1) if lowest > 0 else 0.0,
                "epochs_saved": saved if r.fired else 0,
            }
        )
    return rows


def _filled(values: tuple[float, ...]) -> list[float]:
    """NaN epochs take the previous finite value (the first finite one at the start)."""
    first = next((v for v in values if math.isfinite(v)), 0.0)
    out, last = [], first
    for v in values:
        last = v if math.isfinite(v) else last
        out.append(last)
    return out
