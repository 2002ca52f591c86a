"""A diagnosis printed with rich: the view ``diagnose`` and ``watch`` share (verdict,
evidence table, notes, causes, remedies), and ``diagnose --stopping``'s replay table."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.table import Table

from nooverfit._words import gl_figure, loss_figure
from nooverfit.cli._app import console

if TYPE_CHECKING:
    # Imported where used: the diagnosis loads numpy, which --help does not need.
    from nooverfit.diagnosis import Diagnosis

#: The colour of each verdict.
COLORS = {
    "overfitting": "red",  # Verdict values (a str enum looks them up)
    "diverging": "red",
    "underfitting": "yellow",
    "still_improving": "cyan",
    "good_fit": "green",
    "insufficient_evidence": "magenta",
}


def render(
    result: Diagnosis,
    *,
    title: str = "",
    notes: tuple[str, ...] = (),
    framework: str = "nooverfit",
) -> None:
    """Print a diagnosis with rich: verdict, evidence table, notes, causes, remedies (their
    heading names ``framework``, what their settings were written for; nooverfit's own
    and plain words are not named)."""
    color = COLORS[result.verdict]
    # the title is a path: printed as written (no markup read in "run[1]"), on one line
    # (wrapped at the console's width it broke "metrics.csv" across two lines)
    console.print(
        f"[bold {color}]{result.verdict.value.replace('_', ' ').upper()}[/]"
        + (f"  [dim]{escape(title)}[/]" if title else ""),
        soft_wrap=True,
        highlight=False,
    )
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    if result.evaluated_at and result.unit == "step":  # (epochs not known: evaluations)
        table.add_row("evaluations", str(result.epochs))
    else:
        evaluations = f" ({len(result.evaluated_at)} evaluations)" if result.evaluated_at else ""
        table.add_row("epochs", f"{result.epochs}{evaluations}")
    if result.monitor != "loss" and result.best_epoch is not None:
        # no best epoch: no validation curve at all, so none was decided on
        table.add_row("decided on", f"val_{result.monitor} (no validation loss logged)")
    if result.best_epoch is not None:
        # (rows that are evaluations, several an epoch, named with the epochs done)
        if result.evaluated_at or result.unit != "epoch":
            table.add_row("best", result.epoch_name(result.best_epoch))
        else:
            table.add_row("best epoch", str(result.best_epoch))
    if result.onset_epoch is not None:
        table.add_row("overfitting from", result.epoch_name(result.onset_epoch))
    if math.isfinite(result.generalization_loss):
        gl = gl_figure(result.generalization_loss, sign=True)  # "+": worse than the best
        table.add_row("last vs best", f"{gl}% val loss (GL)")
    gap = result.gap
    if math.isfinite(gap.loss_at_best):
        ends = (loss_figure(gap.loss_at_best), loss_figure(gap.loss_at_last))  # as the texts
        table.add_row("loss gap", f"{ends[0]} at best, {ends[1]} at end")
    if gap.metric and math.isfinite(gap.metric_at_best):
        # an accuracy in points, as the text says it (a share of samples)
        points = gap.metric == "accuracy" and abs(gap.metric_at_best) <= 1
        fmt = (lambda g: f"{100 * g:+.1f} points") if points else (lambda g: f"{g:+.3g}")
        table.add_row(
            f"{gap.metric} gap",
            f"{fmt(gap.metric_at_best)} at best, {fmt(gap.metric_at_last)} at end",
        )
    console.print(table)
    for note in notes:
        console.print(f"[dim]note: {escape(note)}[/]", highlight=False)
    console.print(result.explanation, highlight=False)
    if result.causes:
        console.print("[bold]likely causes[/]")
        for i, cause in enumerate(result.causes, 1):
            console.print(
                f" {i}. [bold]{cause.kind.replace('_', ' ')}[/]: {cause.reason}", highlight=False
            )
    if result.remedies:
        from nooverfit.remedy_words import FRAMEWORK_NAMES

        named = FRAMEWORK_NAMES.get(framework)
        console.print("[bold]remedies[/]" + (f" [dim](for {named})[/]" if named else ""))
        for i, remedy in enumerate(result.remedies, 1):
            setting = f" [dim]({remedy.setting})[/]" if remedy.setting else ""
            console.print(
                f" {i}. [bold]{remedy.kind.replace('_', ' ')}[/]: {remedy.reason}{setting}",
                highlight=False,
            )


def render_stopping(rows: list[dict[str, object]]) -> None:
    """Print the early-stopping replay table."""
    table = Table(title="early stopping replayed on this log")
    for name in ("criterion", "stops at", "keeps", "val loss kept", "vs best", "epochs saved"):
        table.add_column(name, justify="left" if name == "criterion" else "right")
    for r in rows:
        table.add_row(
            str(r["criterion"]),
            f"{r['stop_epoch']}" if r["fired"] else "never",
            str(r["kept_epoch"]),
            f"{r['val_loss']:.4g}",
            f"{r['vs_best_pct']:+.1f}%",
            str(r["epochs_saved"]),
        )
    console.print(table)
