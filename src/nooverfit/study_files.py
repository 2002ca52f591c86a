"""Write a study's files: results.json, histories/*.csv, plots/*.png, best_model.pt (with
best_model.json, see :mod:`nooverfit.saved_model`) and report.html. Every file is written
atomically; temporary files a killed write left behind are removed.

It lives outside ``nooverfit.studies`` because it draws the report: the study's result
never imports its report; the report and this module import the result."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from matplotlib.figure import Figure

from nooverfit._io import atomic_write, atomic_write_text, remove_stale_tmp
from nooverfit.studies.result import StudyResult


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=+-]+", "_", text).strip("_") or "run"


def _save_png(fig: Figure, path: Path) -> None:
    fig.savefig(path, format="png", dpi=100)


def write_study(result: StudyResult, out: str | Path) -> dict[str, Path]:
    """Write every output of ``result`` under ``out``; return the main paths by name."""
    from nooverfit.report import render, study_figures

    root = Path(out)
    for folder in (root, root / "histories", root / "plots"):
        remove_stale_tmp(folder)  # left by a study killed while writing
    for key, record in result.runs.items():
        name = f"{_slug(record.config.label or 'run')}__seed{record.config.seed}__{key}.csv"
        record.history.save(root / "histories" / name)
    figures = study_figures(result)
    for stem, fig in figures.items():
        atomic_write(root / "plots" / f"{stem}.png", partial(_save_png, fig))
    paths = {
        "results": result.save(root / "results.json"),
        "model": result.save_model(root / "best_model.pt"),
    }
    if result.best_card:  # written beside the weights by save_model
        paths["model_card"] = paths["model"].with_suffix(".json")
    paths["report"] = atomic_write_text(root / "report.html", render(result, figures))
    return paths
