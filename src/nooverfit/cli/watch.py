"""``nooverfit watch LOG``: follow a log another process writes and warn when to stop."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from nooverfit.cli._app import app, console, guard
from nooverfit.cli._options import For, check_for
from nooverfit.cli._render import render
from nooverfit.cli._watched import absent_column, no_validation, pq_blind, several_runs_in
from nooverfit.cli.diagnose import Format, Metric, TrainCol, ValCol, column_map
from nooverfit.errors import BadInput
from nooverfit.history import History
from nooverfit.logs import FORMATS, read_log
from nooverfit.stopping import EarlyStopping, parse_criterion

if TYPE_CHECKING:  # the diagnosis loads numpy, which --help does not need
    from nooverfit.diagnosis import Diagnosis

#: The overfitting warning given: (epoch seen at, onset, best epoch), or None.
Warned = tuple[int, int | None, int | None] | None
#: The criterion's stop: (epoch it fired at, epoch whose weights it named), or None.
Stopped = tuple[int, int | None] | None
#: Seconds a log may stay unreadable before watch says why (at most half of --idle).
NOTE_AFTER = 10.0


@app.command()
@guard
def watch(
    log: Annotated[Path, typer.Argument(help="Log file or run folder being written.")],
    criterion: Annotated[
        str, typer.Option(help="Early-stopping rule: patience:N, gl:ALPHA, pq:ALPHA, up:S.")
    ] = "gl:5",
    idle: Annotated[
        float, typer.Option(help="Exit after the log has not grown for this many seconds.")
    ] = 300.0,
    interval: Annotated[float, typer.Option(help="Seconds between checks of the log.")] = 2.0,
    metric: Metric = None,
    train_col: TrainCol = None,
    val_col: ValCol = None,
    log_format: Format = "auto",
    framework: For = None,
) -> None:
    """Print a line per new epoch; warn once when the criterion fires and once when the
    verdict turns to overfitting; end with a diagnosis when the log goes idle (or Ctrl-C),
    its remedies written for the framework that wrote the log (or --for's).
    An epoch is printed once it is complete: the log's last epoch when it holds its
    validation loss and is unchanged for one --interval, else when a later one arrives."""
    from nooverfit._rules import diagnose
    from nooverfit.remedy_words import in_words

    parse_criterion(criterion)
    check_for(framework)
    if log_format not in FORMATS:  # before the wait: read_log would say so only at --idle
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, got {log_format!r}")
    if not log.parent.exists():  # before the "watching" line: a mistyped path is one line
        raise FileNotFoundError(
            f"{log.parent} does not exist; expected the folder of a log being written "
            "(a log not yet created there is waited for)"
        )
    if several := several_runs_in(log):  # an experiment folder: no run of it is followed
        raise ValueError(several)
    columns = column_map(train_col, val_col)
    history: History | None = None
    shown: list[tuple[float, ...]] = []  # (epoch, loss, val_loss) of the epochs printed
    before: list[tuple[float, ...]] = []  # the same of every epoch at the check before
    said: set[tuple[object, ...]] = set()  # the STOP and WARNING lines printed
    stopped: Stopped = None  # (fired at, weights named) of the STOP line
    interrupted, told, why, unvalidated = False, False, "", False
    warned: Warned = None  # (seen at, onset, best) of the overfitting warning
    stamp: tuple[float, int] | None = None
    changed = start = time.monotonic()
    # A log still unreadable this long is not just a header being written: say why now
    # rather than only when --idle runs out (300 s by default).
    patience, noted = min(NOTE_AFTER, idle / 2), False
    waiting = "" if log.exists() else f"; waiting up to {idle:g} s for it to be created"
    console.print(f"watching {log} (criterion {criterion}{waiting}; Ctrl-C to stop)")
    try:
        while time.monotonic() - changed < idle:
            current = _stamp(log)
            if current is not None and current != stamp:
                stamp, changed = current, time.monotonic()
                try:
                    history = read_log(log, format=log_format, columns=columns)
                except BadInput:
                    raise  # a binary file, a damaged gzip: no later write makes it a log
                except ValueError as err:
                    history, why = None, str(err)  # header not written yet, or no curve
                    if never := several_runs_in(log) or absent_column(log, columns, log_format):
                        raise ValueError(never) from None
                if history is not None and not told and pq_blind(criterion, history):
                    told = True
                    console.print(
                        f"note: {criterion} needs the training loss at every epoch, which "
                        "this log lacks: it will not fire",
                        highlight=False,
                    )
                if (
                    history is not None
                    and not unvalidated
                    and (said_why := no_validation(history))
                ):
                    unvalidated = True
                    console.print(f"note: {said_why}", highlight=False, soft_wrap=True)
            if history is None and why and not noted and time.monotonic() - start >= patience:
                noted = True
                console.print(
                    f"note: {escape(str(log))} is not readable yet ({escape(why)}); still "
                    f"waiting, up to {idle:g} s after its last change",
                    highlight=False,
                    soft_wrap=True,
                )
            if history is not None:
                rows = _rows(history)
                ready = len(rows) if _settled(rows, before) else len(rows) - 1
                shown, stopped, warned = _show(
                    history, shown, ready, (stopped, warned), said, criterion, metric
                )
                before = rows
            time.sleep(interval)
    except KeyboardInterrupt:
        interrupted = True
        console.print("interrupted")
    if history is not None:  # the log is done: its last epoch is complete
        shown, stopped, warned = _show(
            history, shown, len(history), (stopped, warned), said, criterion, metric
        )
    if history is None and not log.exists():
        waited = (  # Ctrl-C ends the wait early: not the --idle seconds
            f"was not created in the {time.monotonic() - start:.0f} s before the interruption"
            if interrupted
            else f"was never created in {idle:g} s"
        )
        raise FileNotFoundError(f"{log} {waited}; expected a log being written")
    if history is None:
        last = f" (last read: {why})" if why else ""
        raise ValueError(
            f"{log} never held a readable log{last}; expected a growing log file or run folder"
        )
    console.print(
        "final diagnosis:" if interrupted else f"no new epoch for {idle:g} s; final diagnosis:"
    )
    # (the remedies in the words of the framework that wrote the log, as diagnose's)
    words = history.framework if framework is None else framework
    result = in_words(diagnose(history, metric=metric), words, logged_as=history.logged_as)
    notes = history.notes + _revised(warned, result) + _kept(stopped, result, history)
    render(result, title=str(log), notes=notes, framework=words)


def _kept(stopped: Stopped, result: Diagnosis, history: History) -> tuple[str, ...]:
    """A note where the STOP line named other weights than the final best epoch: the
    criterion saw only the epochs up to its stop, and a run that went on past it can reach
    a lower validation loss later. Both are the lowest validation loss (the first on ties,
    :func:`nooverfit.history.best_index`), over different epochs."""
    if stopped is None:
        return ()
    (at, named), best = stopped, result.best_epoch
    if named is None or best is None or best == named:
        return ()

    def val(epoch: int) -> str:
        return f"{history.val_loss[history.epoch.index(epoch)]:.4g}"

    return (
        f"the STOP at epoch {at} named the weights of epoch {named} (val_loss {val(named)}, "
        f"the lowest up to the stop); training went on, and over all {result.epochs} epochs "
        f"the best epoch is {best} (val_loss {val(best)}): keep epoch {best}'s weights if "
        f"they were saved, else epoch {named}'s",
    )


def _revised(warned: Warned, result: Diagnosis) -> tuple[str, ...]:
    """A note where the final diagnosis dates overfitting otherwise than the live warning
    did (the warning saw only the epochs up to it; the moving average behind the onset,
    and the best epoch, move as later epochs arrive), or no longer finds it."""
    from nooverfit.diagnosis import Verdict

    if warned is None:
        return ()
    seen, onset, best = warned
    then = f"the warning at epoch {seen} ({_dates(onset, best)}, from the epochs then)"
    if result.verdict is not Verdict.OVERFITTING:
        return (
            f"{then} was provisional: with all {result.epochs} epochs the verdict is "
            f"{result.verdict.value}",
        )
    if (onset, best) == (result.onset_epoch, result.best_epoch):
        return ()
    starts = (
        "no onset is named (validation was lowest among its last evaluations)"
        if result.onset_epoch is None
        else f"overfitting starts at epoch {result.onset_epoch}"
    )
    return (
        f"{then} was provisional: with all {result.epochs} epochs {starts} and the best "
        f"epoch is {result.best_epoch}",
    )


def _dates(onset: int | None, best: int | None) -> str:
    """The onset and best epoch of a warning, the onset left out where none is named."""
    return f"best epoch {best}" if onset is None else f"onset {onset}, best epoch {best}"


def _rows(history: History) -> list[tuple[float, ...]]:
    """``(epoch, loss, val_loss)`` of each epoch of ``history``."""
    return list(zip(history.epoch, history.loss, history.val_loss, strict=True))


def _settled(rows: list[tuple[float, ...]], before: list[tuple[float, ...]]) -> bool:
    """Whether the log's last epoch is complete: it holds its validation loss, and its
    training loss where the epochs before hold one, as it did at the check before. A log
    with several rows an epoch (Lightning's ``metrics.csv``) writes an epoch's training
    steps, its validation and its epoch-level values one after another: read in between,
    the epoch lacks its validation, or holds a value about to be replaced."""
    if not rows or not math.isfinite(rows[-1][2]):
        return False
    if not math.isfinite(rows[-1][1]) and any(math.isfinite(r[1]) for r in rows[:-1]):
        return False
    return bool(before) and _common(rows[-1:], before[-1:]) == 1


def _show(
    history: History,
    shown: list[tuple[float, ...]],
    ready: int,
    state: tuple[Stopped, Warned],
    said: set[tuple[object, ...]],
    criterion: str,
    metric: str | None,
) -> tuple[list[tuple[float, ...]], Stopped, Warned]:
    """Print the first ``ready`` epochs of ``history`` not printed yet, after a line when
    the log no longer holds the epochs ``shown``; return what is shown and the updated
    (stopped, warned)."""
    stopped, warned = state
    rows = _rows(history)
    kept = _common(shown, rows)
    if kept < len(shown):  # rewritten or restarted: what was shown is gone
        what = (
            f"the log changed from epoch {shown[kept][0]:g} on"
            if kept < len(rows)
            else f"the log now ends at epoch {rows[-1][0]:g}, before the epochs "
            f"{shown[kept][0]:g} to {shown[-1][0]:g} shown"
            if rows
            else "the log holds no epoch now"
        )
        now = rows[kept] if kept < len(rows) else None
        why = _why_changed(history, shown[kept], now)
        console.print(f"{what} ({why}); following it from there")
        # a STOP or warning given at an epoch the log still holds unchanged stands; one
        # given at a changed epoch is judged again on what the log holds
        changed = shown[kept][0]
        stopped = stopped if stopped is not None and stopped[0] < changed else None
        warned = warned if warned is not None and warned[0] < changed else None
        shown = shown[:kept]
    for i in range(len(shown), ready):
        stopped, warned = _epoch(history, i, criterion, stopped, warned, metric, said)
    return rows[: max(len(shown), ready)], stopped, warned


def _why_changed(history: History, was: tuple[float, ...], now: tuple[float, ...] | None) -> str:
    """What made the log drop epochs already shown (``was``, the first epoch changed, is
    ``now`` as the log holds it; None where it is gone): its validation came in after it
    was shown without one (an evaluator running behind training, the same training loss);
    else as its reader noted it (:mod:`nooverfit.logs._resumed`, whose words the
    TensorBoard reader's notes share): a run resumed from a checkpoint keeps the epochs
    before the resume, a restarted run starts over; else the file was rewritten."""
    from nooverfit.logs._resumed import RESTARTED, RESUMED

    came = now is not None and math.isnan(was[2]) and not math.isnan(now[2])
    if came and now is not None and _common([was[:2]], [now[:2]]) == 1:
        return "its validation came in after it was shown"
    if any(RESUMED in note for note in history.notes):
        return "a run resumed from a checkpoint"
    if any(RESTARTED in note for note in history.notes):
        return RESTARTED
    return "a rewritten log"


def _common(shown: list[tuple[float, ...]], rows: list[tuple[float, ...]]) -> int:
    """How many leading epochs ``rows`` shares with ``shown`` (NaN equals NaN)."""
    n = 0
    for a, b in zip(shown, rows, strict=False):
        if any(
            x != y and not (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
        ):
            break
        n += 1
    return n


def _stopper(history: History, i: int, criterion: str) -> EarlyStopping:
    """The criterion replayed over epochs ``0..i`` as the log holds them now (a value
    rewritten since it was first read counts as rewritten)."""
    stopper = EarlyStopping(criterion)
    for j in range(i + 1):
        val, loss = history.val_loss[j], history.loss[j]
        if not math.isfinite(val):
            continue
        try:
            if stopper.update(history.epoch[j], val, loss if math.isfinite(loss) else None):
                break
        except ValueError:  # pq without a training loss
            break
    return stopper


def _stamp(path: Path) -> tuple[float, int] | None:
    """Latest modification time and total size of the log (all files of a run folder)."""
    try:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        stats = [f.stat() for f in files]
    except FileNotFoundError:
        return None
    if not stats:
        return None
    return max(s.st_mtime for s in stats), sum(s.st_size for s in stats)


def _epoch(
    history: History,
    i: int,
    criterion: str,
    stopped: Stopped,
    warned: Warned,
    metric: str | None,
    said: set[tuple[object, ...]],
) -> tuple[Stopped, Warned]:
    """Print epoch ``i`` and any warning it triggers (a STOP or WARNING line already in
    ``said`` is not printed again: a log rewritten under watch is judged again, and finds
    the same stop); return the updated (stopped, warned)."""
    from nooverfit._rules import diagnose
    from nooverfit.diagnosis import Verdict

    epoch = history.epoch[i]
    loss, val = history.loss[i], history.val_loss[i]
    result = diagnose(history.head(i + 1), metric=metric)
    verdict = result.verdict
    shown = f"val_loss {val:.4g}"
    if not history.has("val_loss") and history.has("val_accuracy"):  # what is decided on
        shown = f"val_accuracy {history.val_accuracy[i]:.4g}"
    console.print(f"epoch {epoch:>4}  loss {loss:.4g}  {shown}  {verdict.value}", highlight=False)
    stopper = _stopper(history, i, criterion)
    if stopped is None and stopper.stop_reason is not None and stopper.stopped_epoch is not None:
        stopped = (stopper.stopped_epoch, stopper.best_epoch)
        if ("stop", *stopped) not in said:
            said.add(("stop", *stopped))
            console.print(
                f"[bold red]STOP:[/] {stopper.criterion.spec} fired at epoch "
                f"{stopper.stopped_epoch} ({stopper.stop_reason.value}); keep the weights of "
                f"epoch {stopper.best_epoch}"
            )
    if warned is None and verdict is Verdict.OVERFITTING:
        warned = (epoch, result.onset_epoch, result.best_epoch)
        if ("warning", *warned) not in said:
            said.add(("warning", *warned))
            onset = result.onset_epoch
            console.print(
                f"[bold red]WARNING:[/] overfitting seen at epoch {epoch}: on the epochs so far, "
                f"best epoch {result.best_epoch}"
                + ("" if onset is None else f" and onset about epoch {onset}")
                + " (provisional: later epochs can move both; the final diagnosis dates them)"
            )
    return stopped, warned
