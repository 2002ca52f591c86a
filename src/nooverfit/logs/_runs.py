"""`list_runs`: the separate runs in a folder, so that they are diagnosed one by one.

A run is what one training process logged:

- Lightning: each ``metrics.csv`` (one per ``version_N`` folder);
- Hugging Face: each output folder with ``trainer_state.json`` (in it or in its
  ``checkpoint-N`` folders, which are one run);
- MLflow: each run folder holding ``metrics/`` (an experiment folder holds several),
  logs written under its ``artifacts/`` included;
- TensorBoard: each folder of event files, where ``train``/``validation`` sub-folders
  (Keras's layout) and folders next to an event file of their parent (what
  ``SummaryWriter.add_scalars`` writes) belong to their parent's run;
- any other CSV, JSON, JSON-lines or Keras ``.log`` file, gzip'ed or not.
"""

from __future__ import annotations

import re
from pathlib import Path

from nooverfit.logs._file import inner_name, log_text
from nooverfit.logs._frame_json import frame_lists
from nooverfit.logs.mlflow import METRICS, metrics_folder

_SPLITS = {"train", "training", "validation", "val", "valid", "eval", "test"}
_CHECKPOINT = re.compile(r"checkpoint-\d+$")
_TEXT = {".csv", ".json", ".jsonl", ".ndjson", ".log", ".tsv"}


def list_runs(folder: Path) -> list[Path]:
    """The runs under ``folder``, each a path :func:`~nooverfit.logs.read_log` accepts.

    Returns an empty list when ``folder`` holds no log at all.
    """
    if metrics_folder(folder) is not None:  # an MLflow run, or its metrics folder
        return [folder]
    mlflow = {
        m.parent
        for m in folder.rglob(METRICS)
        if m.is_dir() and ".trash" not in m.relative_to(folder).parts and metrics_folder(m)
    }  # (mlruns/.trash holds the runs deleted)
    runs: set[Path] = set()
    for file in folder.rglob("metrics.csv"):
        runs.add(file)
    for file in folder.rglob("trainer_state.json"):
        parent = file.parent
        runs.add(parent.parent if _CHECKPOINT.search(parent.name) and parent != folder else parent)
    for file in folder.rglob("events.out.tfevents*"):
        parent = file.parent
        if parent != folder and (
            parent.name.lower() in _SPLITS or any(parent.parent.glob("events.out.tfevents*"))
        ):  # Keras's train/validation folders, add_scalars's MAIN_KEY folders next to
            # the writer's own event file: one run
            parent = parent.parent
        runs.add(parent)
    # an MLflow run's artifacts (a TensorBoard folder, a CSV logged beside its metrics)
    # are that run's, not runs of their own
    runs = {r for r in runs if not any(m in r.parents for m in mlflow)} | mlflow
    taken = set(runs)
    for file in folder.rglob("*"):
        if (
            file.is_file()
            and Path(inner_name(file)).suffix.lower() in _TEXT  # log.csv.gz too
            and file.name != "metrics.csv"
            and not any(run in file.parents for run in taken if run.is_dir())
            and _looks_like_log(file)
        ):
            runs.add(file)
    return sorted(runs)


def _looks_like_log(file: Path) -> bool:
    """Whether a text file starts like a training log (a header naming an epoch or loss;
    for JSON, such a key in its first megabyte)."""
    json = Path(inner_name(file)).suffix.lower() == ".json"  # an object of lists: keys anywhere
    try:
        head = log_text(file, limit=1 << 20 if json else 2048).lower()
    except (OSError, ValueError):  # a binary file named .csv: no log
        return False
    first = head if json else (head.splitlines()[0] if head else "")
    if not ("epoch" in first or "loss" in first):
        return False
    return not json or _json_curves(file)


def _json_curves(file: Path) -> bool:
    """Whether a JSON file holds curves at its top level: records with an epoch or loss
    key, or an object with such a key holding a list (Keras's ``history.history``). A
    study's own ``results.json`` and run records name losses deeper down: they are not
    logs. A file that does not parse is left to the reader, which says why."""
    import json

    try:
        data = json.loads(log_text(file))
    except ValueError:
        return True

    def curve_key(key: object) -> bool:
        return isinstance(key, str) and ("loss" in key.lower() or "epoch" in key.lower())

    if isinstance(data, list):
        return any(isinstance(r, dict) and any(map(curve_key, r)) for r in data[:10])
    if isinstance(data, dict):
        data = frame_lists(data) or data  # pandas's to_json of a history frame
        return any(curve_key(k) and isinstance(v, list) for k, v in data.items())
    return False
