"""`read_log`: training logs from Keras, Lightning, TensorBoard, MLflow, CSV/JSONL and nooverfit.

Formats (``format=``):

- ``keras``: ``CSVLogger`` files (``epoch,accuracy,loss,val_accuracy,val_loss``, any
  metric names, any common separator).
- ``lightning``: ``CSVLogger``'s ``metrics.csv`` (sparse rows with ``step`` and
  ``epoch``; ``train_loss_epoch``, ``val_loss``, ``val_acc``, ...), or its run folder.
- ``tensorboard``: event files or run folders (needs the ``tensorboard`` extra).
- ``csv`` / ``jsonl``: any table; map unusual names with ``columns=``.
- ``json``: nooverfit's own ``History`` JSON, or Keras's ``history.history`` saved as JSON
  (JSON lines under a ``.json`` name, detectron2's ``metrics.json``, read as ``jsonl``).
- ``huggingface``: a Trainer's ``trainer_state.json``, its output folder or a checkpoint.
- ``mlflow``: an MLflow run folder (``mlruns/<experiment>/<run>``, or its ``metrics``
  folder): each ``metrics/<name>`` file is a curve, its steps grouped into epochs.
- ``console``: a run's console output saved to a file (Keras's ``fit``, the Trainer's
  printed dicts, a loop's ``Epoch 3, loss: 0.41, val_loss: 0.52`` lines, scikit-learn's
  MLP at ``verbose=True``).

``auto`` (the default) picks by file name and content; all CSV flavours share one parser.
Text logs may be gzip'ed (``log.csv.gz``), in UTF-16, or start with a byte-order mark.
A folder holding several runs is never merged: :func:`list_runs` finds them and
:func:`read_log` asks for one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from nooverfit.errors import relative_to_cwd
from nooverfit.history import History
from nooverfit.logs._file import inner_name, log_text
from nooverfit.logs._runs import list_runs
from nooverfit.logs._table import MAP_HINT, canonical, rows_to_history
from nooverfit.logs._writer import log_writer
from nooverfit.logs.console import is_console, read_console
from nooverfit.logs.huggingface import STATE, read_trainer_state
from nooverfit.logs.mlflow import metric_file, metrics_folder, read_mlflow
from nooverfit.logs.tensorboard import EVENTS, event_files, read_tensorboard
from nooverfit.logs.text import read_csv, read_json, read_jsonl

FORMATS = (
    "auto",
    "keras",
    "lightning",
    "tensorboard",
    "huggingface",
    "mlflow",
    "csv",
    "jsonl",
    "json",
    "nooverfit",
    "console",
)


def detect_format(path: Path) -> str:
    """The format ``auto`` would use for ``path`` (see the module docstring)."""
    if path.is_dir():
        if metrics_folder(path) is not None:  # before its artifacts' event files
            return "mlflow"
        if event_files(path):
            return "tensorboard"
        if any(path.rglob("metrics.csv")):
            return "lightning"
        if any(path.rglob(STATE)):
            return "huggingface"
        runs = list_runs(path)
        if len(runs) == 1 and runs[0].is_file():  # a folder holding one log file
            return detect_format(runs[0])
        # (its CSV or JSON files are named too: a folder of data.csv is no log folder)
        raise ValueError(
            f"{path} is a folder without {EVENTS}*, metrics.csv, {STATE}, MLflow metrics/ "
            "files or a CSV/JSON log (a header naming an epoch or a loss); expected a log "
            "file or a TensorBoard/Lightning/Hugging Face/MLflow run folder"
        )
    if path.name.startswith(EVENTS):
        return "tensorboard"
    if path.name == STATE:
        return "huggingface"
    if metric_file(path):
        return "mlflow"
    suffix = Path(inner_name(path)).suffix.lower()  # log.csv.gz: .csv
    if suffix == ".json":
        start = log_text(path, limit=65536)
        return "huggingface" if '"log_history"' in start else "json"
    head = log_text(path, limit=4096).lstrip()
    # (a .csv is a table even where a column of remarks reads "epoch 3: lr=0.1")
    tables = (".jsonl", ".ndjson", ".csv", ".tsv")
    if suffix not in tables and is_console(log_text(path, limit=65536)):
        return "console"
    if suffix in (".jsonl", ".ndjson") or head.startswith("{"):
        return "jsonl"
    header = head.splitlines()[0] if head else ""
    if "step" in header and "epoch" in header:
        return "lightning"
    return "keras" if "epoch" in header else "csv"


def several_runs(folder: Path, runs: list[Path]) -> str:
    """Why ``folder``, holding ``runs`` (:func:`list_runs`, more than one), is not one log:
    it names them and asks for one."""
    names = ", ".join(str(r.relative_to(folder)) for r in runs[:10])
    more = f" and {len(runs) - 10} more" if len(runs) > 10 else ""
    return (
        f"{folder} holds {len(runs)} runs ({names}{more}); pass one of them, "
        "or diagnose the folder from the command line to see each"
    )


def read_log(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
) -> History:
    """Read a training log written by any framework into a :class:`History`.

    Args:
        path: a log file or a run folder (TensorBoard, Lightning, Hugging Face, MLflow).
        format: one of ``FORMATS`` (default ``"auto"``: detect).
        columns: ``{nooverfit name: logged name}`` for names not recognized, e.g.
            ``{"loss": "train_mse", "val_loss": "valid_mse"}``.

    Returns:
        One row per epoch; values not logged are NaN. A truncated file (a run still in
        progress) gives the epochs that are complete. Its ``framework`` says what wrote
        the log, where the log tells (:mod:`nooverfit.logs._writer`); its ``logged_as``,
        the name each curve was logged under.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: unknown format, a folder holding several runs (the message lists
            them), no curve recognized (the message lists the columns found and how
            to map them), or a binary file (:class:`~nooverfit.errors.BadInput`).
        ImportError: a TensorBoard log without the ``tensorboard`` package.
    """
    p = Path(path)
    if not p.exists():
        where = relative_to_cwd(p)
        raise FileNotFoundError(
            f"log not found: {p}{where}; expected a log file (CSV, JSON, JSONL, TensorBoard "
            "events) or a run folder"
        )
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    if p.is_dir():
        runs = list_runs(p)
        if len(runs) > 1:
            raise ValueError(several_runs(p, runs))
        if runs:
            p = runs[0]
    kind = detect_format(p) if format == "auto" else format
    history = _read(p, kind, columns)
    return replace(history, framework=history.framework or log_writer(p, kind))


def _read(p: Path, kind: str, columns: Mapping[str, str] | None) -> History:
    """The log at ``p`` (a file, or a run folder) read as format ``kind``."""
    if kind == "tensorboard":
        return read_tensorboard(p, columns=columns)
    if kind == "huggingface":
        return read_trainer_state(p, columns=columns)
    if kind == "mlflow":
        return read_mlflow(p, columns=columns)
    if p.is_dir():
        found = sorted(p.rglob("metrics.csv"))
        if not found:
            raise ValueError(f"no metrics.csv under {p}; expected a Lightning run folder")
        p = found[0]
    if kind == "console":
        return read_console(p, columns=columns)
    if kind == "jsonl":
        return read_jsonl(p, columns=columns)
    if kind in ("json", "nooverfit") and Path(inner_name(p)).suffix.lower() == ".json":
        return read_json(p, columns=columns)
    return read_csv(p, columns=columns)


__all__ = [
    "FORMATS",
    "MAP_HINT",
    "canonical",
    "detect_format",
    "list_runs",
    "read_log",
    "rows_to_history",
    "several_runs",
]
