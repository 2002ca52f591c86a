"""Write a study's files: results.json, histories/*.csv, plots/*.png, best_model.pt (with
best_model.json, see :mod:`nooverfit.saved_model`) and report.html. Every file is written
atomically; temporary files a killed write left behind are removed.

The files are several, so an interruption between two of them (Ctrl-C, a full disk) could
leave a rerun's results.json beside the earlier run's report. While they are written the
folder holds a marker (:data:`~nooverfit.studies.results_file.WRITING`, which ``predict``
refuses) and report.html says, at its top, that the files may be from two runs; the last
writes replace that report with the plain one and remove the marker.

It lives outside ``nooverfit.studies`` because it draws the report: the study's result
never imports its report; the report and this module import the result."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from nooverfit._io import atomic_write, atomic_write_text, remove_stale_tmp
from nooverfit.config import RunConfig
from nooverfit.studies.result import StudyResult

if TYPE_CHECKING:
    from nooverfit.studies.evidence import Evidence


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=+-]+", "_", text).strip("_") or "run"


def _run_label(config: RunConfig, result: StudyResult) -> str:
    """A run's name in ``histories/``: its label, and its training set where that differs
    from the baseline's (the learning curve's runs are the baseline at other sizes)."""
    label, base = config.label or "run", result.baseline.config
    size = (config.train_per_class, config.train_size)
    if size == (base.train_per_class, base.train_size):
        return label
    if config.train_per_class:
        return f"{label} {config.train_per_class} per class"
    return f"{label} {config.train_size or 'whole pool'} train"


def _remove_others(folder: Path, patterns: tuple[str, ...], keep: set[str]) -> None:
    for path in sorted({p for pattern in patterns for p in folder.glob(pattern)}):
        if path.name not in keep:
            path.unlink(missing_ok=True)


#: the names of the figures a study draws (:func:`nooverfit.report_figures.study_figures`): the
#: PNGs under plots/ an earlier study may have left and this one removes; others there
#: (``nooverfit tune --out``'s history.png and importance.png) are not a study's to remove
STUDY_PLOTS = (
    "curves.png",
    "remedies.png",
    "capacity.png",
    "learning_curve.png",
    "validation_*.png",
)


#: what :func:`write_study` replaces in its folder (globs; plots and histories it also prunes)
_WRITES = (
    "results.json",
    "report.html",
    "best_model.pt",
    "best_model.json",
    "plots/*.png",
    "histories/*__seed*__*.csv",
)


def check_study_out(out: str | Path, *, named: str = "") -> None:
    """Refuse a study folder ``out`` that holds files :func:`write_study` would replace
    or remove and that no study wrote (a project folder with its own ``results.json`` or
    ``plots/``), or a newer nooverfit's study: checked before the first run, so nothing is
    lost. A study's folder (its run store, its ``results.json``, or the marker of a write
    interrupted) is the study's to resume and rewrite.

    Args:
        out: the study folder.
        named: how the message names the folder (default ``out='PATH'``, the Python
            argument; the command line passes ``--out PATH``).

    Raises:
        NewerFile: its ``results.json`` has a newer ``schema_version`` than this
            nooverfit writes (the refusal of :func:`.results_file.read_results`).
        BadInput: naming the first file no study wrote, or a train run's model and
            metrics.json (a study's model beside them would leave predict two to choose).
    """
    from nooverfit.errors import BadInput, NewerFile
    from nooverfit.studies.results_file import WRITING, read_results
    from nooverfit.studies.store import IDENTITY

    root = Path(out)
    if not root.is_dir():
        return
    earlier = None
    if (root / "results.json").is_file():
        try:
            earlier = read_results(root / "results.json")
        except NewerFile as err:  # this study would replace a newer one's results
            where = named.split(" ")[0] if named else "out"
            raise NewerFile(f"{err}, or choose another {where}") from None
        except BadInput:
            earlier = None  # not a study's: refused below
    if (root / "model.pt").is_file() and (root / "metrics.json").is_file():
        # a study's best_model.pt beside it: predict could not tell which the folder means
        raise BadInput(
            f"{named or f'out={str(root)!r}'} holds a nooverfit train run (model.pt, "
            "metrics.json); expected a new folder or a study's (one command's model to a "
            "folder)"
        )
    if (root / "runs" / IDENTITY).is_file() or (root / WRITING).is_file():
        return  # a study's (the second: its files were being written, with no run store)
    if earlier is not None and "settings" in earlier:
        return  # an earlier study's results (its runs/ deleted to train it again)
    for pattern in _WRITES:
        for path in sorted(root.glob(pattern)):
            raise BadInput(
                f"{named or f'out={str(root)!r}'} holds {path.relative_to(root)}, which no "
                "nooverfit study wrote and the study would replace or remove; expected a new "
                "folder or a study's"
            )


def write_study(
    result: StudyResult,
    out: str | Path,
    *,
    extra: Mapping[str, bytes] | None = None,
    ev: Evidence | None = None,
) -> dict[str, Path]:
    """Write every output of ``result`` under ``out``; return the main paths by name.
    ``extra`` figures (PNG bytes by name: tuning's Optuna plots) go into the report only.
    ``ev``: the study's :func:`~nooverfit.studies.evidence.evidence`, computed once here
    where not given, for the remedies figure and the report's text.

    Raises:
        BadInput: where ``out`` holds files no study wrote that this would replace or
            remove (:func:`check_study_out`, as ``nooverfit study --out`` refuses them).
    """
    from nooverfit.report import render
    from nooverfit.report_figures import study_pngs
    from nooverfit.studies.evidence import evidence
    from nooverfit.studies.results_file import WRITING

    check_study_out(out)  # nothing of the user's is replaced or removed
    root = Path(out)
    for folder in (root, root / "histories", root / "plots"):
        remove_stale_tmp(folder)  # left by a study killed while writing
    ev = ev if ev is not None else evidence(result)
    pngs = study_pngs(result, ev)  # each figure drawn once, for its file and the report
    report = render(result, {**pngs, **(extra or {})}, ev=ev)
    # From here to the marker's removal the folder's files may be from two runs (this one
    # and an earlier one, e.g. rerun with --no-classic): the marker tells predict, the
    # report's first version the reader.
    atomic_write_text(root / WRITING, f"{UNFINISHED}\n")
    atomic_write_text(root / "report.html", _unfinished(report))
    written = set()
    for key, record in result.runs.items():
        name = f"{_slug(_run_label(record.config, result))}__seed{record.config.seed}__{key}.csv"
        written.add(record.history.save(root / "histories" / name).name)
    for stem, png in pngs.items():
        atomic_write(root / "plots" / f"{stem}.png", partial(Path.write_bytes, data=png))
    # Files an earlier study wrote here and this one did not: left in place they would mix
    # two studies' runs and figures under one report.
    _remove_others(root / "histories", ("*__seed*__*.csv",), written)
    _remove_others(root / "plots", STUDY_PLOTS, {f"{stem}.png" for stem in pngs})
    paths = {
        "results": result.save(root / "results.json"),
        "model": result.save_model(root / "best_model.pt"),
    }
    if result.best_card:  # written beside the weights by save_model
        paths["model_card"] = paths["model"].with_suffix(".json")
    paths["report"] = atomic_write_text(root / "report.html", report)
    (root / WRITING).unlink(missing_ok=True)
    return paths


#: What an interrupted write leaves said, at the top of report.html (and in the marker).
UNFINISHED = (
    "Unfinished: this folder's files are being written. If this note stays, nooverfit was "
    "interrupted while writing them, and results.json, best_model.pt and this report may "
    "describe two different runs of the study: run the same nooverfit command again (same "
    "--out and options) to finish them."
)


def _unfinished(report: str) -> str:
    """``report`` with :data:`UNFINISHED` at the top of its page."""
    from nooverfit.studies.results_file import UNFINISHED_ID

    said = f'<p {UNFINISHED_ID} class="verdict"><b>{UNFINISHED}</b></p>\n'
    head, body, rest = report.partition("<body>\n")
    return f"{head}{body}{said}{rest}" if body else said + report
