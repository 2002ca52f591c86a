"""Reader for MLflow run folders (the file store's ``mlruns/<experiment>/<run>/``).

MLflow's file store writes each metric of a run to ``<run>/metrics/<name>``, one line per
logged value: ``<timestamp ms> <value> <step>`` (the step 0 when none was logged; a name
holding ``/`` is stored in sub-folders: ``metrics/train/loss``). Each metric is a column
and the rows are joined by step; steps are grouped into epochs as TensorBoard's are
(:func:`~nooverfit.logs.tensorboard.epoch_rows`): an ``epoch`` metric where logged,
else validation rounds at other steps than training close epochs, else each step is an
epoch (``step=epoch``). A run logged without steps (every value at step 0) is read by
the order of its lines: the n-th value of each metric is epoch n, with a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from nooverfit.history import History
from nooverfit.logs.tensorboard import steps_history

METRICS = "metrics"
#: ``<timestamp ms> <value> <step>`` (MLflow before 1.0 wrote no step).
_LINE = re.compile(r"\d+ \S+( -?\d+)?")


def metric_file(path: Path) -> bool:
    """Whether ``path`` is one MLflow metric file: inside a ``metrics`` folder, its first
    line ``<timestamp ms> <value> <step>``."""
    if not path.is_file() or METRICS not in [p.name for p in path.parents]:
        return False
    try:
        with path.open("rb") as f:
            first = f.readline(256).decode("utf-8", errors="replace").strip()
    except OSError:
        return False
    return bool(_LINE.fullmatch(first))


def metrics_folder(path: Path) -> Path | None:
    """The ``metrics`` folder of the MLflow run at ``path`` (a run folder, or its
    ``metrics`` folder itself); None when ``path`` is no MLflow run."""
    folder = path if path.name == METRICS else path / METRICS
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    written = [f for f in files[:5] if f.stat().st_size]
    return folder if written and all(metric_file(f) for f in written) else None


def read_mlflow(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read an MLflow run folder (or its ``metrics`` folder) into a history.

    Raises:
        ValueError: ``path`` is one metric file (the message names its run folder), not
            an MLflow run, or holds no recognizable curve.
    """
    if path.is_file():
        if metric_file(path):
            run = next(p for p in path.parents if p.name == METRICS).parent
            raise ValueError(
                f"{path} is one MLflow metric file (<timestamp> <value> <step> lines); "
                f"pass its run folder ({run}) to read every metric of the run"
            )
        raise ValueError(f"{path} is not an MLflow run folder (one holding {METRICS}/)")
    folder = metrics_folder(path)
    if folder is None:
        raise ValueError(
            f"{path} is not an MLflow run folder; expected {METRICS}/<name> files of "
            "'<timestamp> <value> <step>' lines"
        )
    files = sorted(f for f in folder.rglob("*") if f.is_file())
    logged = {f.relative_to(folder).as_posix(): _values(f) for f in files}
    logged = {name: values for name, values in logged.items() if values}
    notes: tuple[str, ...] = ()
    unstepped = all(step == 0 for values in logged.values() for step, _ in values)
    if unstepped and any(len(values) > 1 for values in logged.values()):
        logged = {n: [(i, v) for i, (_, v) in enumerate(vs)] for n, vs in logged.items()}
        notes = (
            "no step logged (every value at step 0): the n-th value of each metric is "
            "read as epoch n",
        )
    steps: dict[int, dict[str, float]] = {}
    for name, values in logged.items():
        for step, value in values:  # a step logged twice keeps its last value
            steps.setdefault(step, {})[name] = value
    return steps_history(steps, columns=columns, source=str(path), notes=notes)


def _values(file: Path) -> list[tuple[int, float]]:
    """``(step, value)`` of each line of a metric file, in the order logged; a line cut
    short (a run still writing) is left out."""
    values = []
    for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) not in (2, 3) or not _LINE.fullmatch(" ".join(parts)):
            continue
        try:
            value = float(parts[1])
        except ValueError:
            continue
        values.append((int(parts[2]) if len(parts) == 3 else 0, value))
    return values
