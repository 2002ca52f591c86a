"""Which framework wrote a log (``History.framework``), so that the remedies of its
diagnosis speak that framework (:mod:`nooverfit.remedy_words`).

Read from the format the log was read as and what lies beside it, never from the curves:

- ``huggingface``: ``"hf"``; ``lightning`` (``metrics.csv``): ``"lightning"``;
  ``nooverfit``: ``"nooverfit"``;
- a CSV with an epoch column: ``"nooverfit"`` where it is a ``nooverfit train`` or
  ``tune`` run's history (beside the run's ``metrics.json`` and ``model.pt``, or the
  tuning's ``best.json``), a study's ``histories/`` CSV (beside its ``results.json``),
  or carries nooverfit's ``stop_reason`` column; ``"keras"`` where it is named
  ``training.log`` or has ``CSVLogger``'s header (``epoch``, then the logged names
  sorted, ``loss`` among them); else not known;
- JSON: nooverfit's own history (``epoch`` and ``extras``, or a study's
  ``runs/<key>.json`` holding one), or Keras's ``history.history``
  (lists, ``loss`` among them, no epoch);
- TensorBoard: Lightning's ``TensorBoardLogger`` (``hparams.yaml`` beside the events, or a
  ``lightning_logs`` folder), Keras's ``TensorBoard`` callback (``train``/``validation``
  folders of events), else a ``SummaryWriter`` in a PyTorch loop (``"pytorch"``);
- MLflow: the autologging flavour its run recorded (``tags/mlflow.autologging``);
- generic CSV, JSON lines, console prints: not known (``""``).
"""

from __future__ import annotations

import json
from pathlib import Path

from nooverfit._io import STUDY_MARKS, TRAIN_MARKS, TUNE_MARKS
from nooverfit.logs._file import log_text
from nooverfit.logs.mlflow import METRICS

#: MLflow's autologging flavours (``mlflow.<flavour>.autolog``) and who trained:
#: ``mlflow.pytorch.autolog`` logs Lightning's ``Trainer`` or a ``SummaryWriter`` loop, so
#: PyTorch's words (modules and optimizers, which Lightning's are too).
_AUTOLOG = {"keras": "keras", "tensorflow": "keras", "pytorch": "pytorch", "transformers": "hf"}


def log_writer(path: Path, kind: str) -> str:
    """The framework that wrote the log at ``path``, read as format ``kind``:
    ``"nooverfit"``, ``"keras"``, ``"pytorch"``, ``"lightning"``, ``"hf"``, or ``""``
    where the log does not say (see the module docstring)."""
    try:
        if kind in ("huggingface", "lightning", "nooverfit"):
            return {"huggingface": "hf"}.get(kind, kind)
        if kind == "tensorboard":
            return _tensorboard(path)
        if kind == "mlflow":
            return _mlflow(path)
        if kind == "json":
            return _json(path)
        if kind == "keras":
            return _table(path)
    except (OSError, ValueError):  # the reader read it: who wrote it is only unknown
        return ""
    return ""


def _table(path: Path) -> str:
    """A CSV with an epoch column: nooverfit's own history, Keras's ``CSVLogger``, or ""."""
    head = log_text(path, limit=4096).lstrip().splitlines()
    names = [n.strip().strip('"') for n in head[0].split(",")] if head else []
    folder = path.parent
    own = all((folder / n).is_file() for n in TRAIN_MARKS) or (folder / TUNE_MARKS[0]).is_file()
    if "stop_reason" in names or (own and path.name in ("history.csv", TUNE_MARKS[1])):
        return "nooverfit"
    if folder.name == "histories" and (folder.parent / STUDY_MARKS[0]).is_file():
        return "nooverfit"  # (a study's run: its histories/ CSV beside its results.json)
    rest = names[1:]
    if path.name == "training.log" or (names[:1] == ["epoch"] and "loss" in rest):
        return "keras" if path.name == "training.log" or rest == sorted(rest) else ""
    return ""


def _json(path: Path) -> str:
    """nooverfit's own JSON history, Keras's ``history.history`` saved as JSON, or ""."""
    data = json.loads(log_text(path))
    if not isinstance(data, dict):
        return ""
    run = data.get("history")
    if ("epoch" in data and "extras" in data) or (
        "config" in data and isinstance(run, dict) and "extras" in run
    ):
        return "nooverfit"  # (its own history, or a study's runs/<key>.json that holds one)
    lists = all(isinstance(v, list) for v in data.values())
    return "keras" if lists and "loss" in data and "epoch" not in data else ""


def _tensorboard(path: Path) -> str:
    """Lightning's logger, Keras's callback, or a plain ``SummaryWriter``."""
    root = path if path.is_dir() else path.parent
    # (an events file of Keras's train/ or validation/ folder: its run is one up)
    run = root.parent if root.name in ("train", "validation") else root
    if "lightning_logs" in run.parts or (run / "hparams.yaml").is_file():
        return "lightning"
    if (run / "train").is_dir() and (run / "validation").is_dir():
        return "keras"
    return "pytorch"


def _mlflow(path: Path) -> str:
    """The autologging flavour of the MLflow run at ``path`` (its folder, its metrics
    folder, or one metric file), or ""."""
    run = next((p.parent for p in (path, *path.parents) if p.name == METRICS), path)
    tag = run / "tags" / "mlflow.autologging"
    return _AUTOLOG.get(tag.read_text().strip(), "") if tag.is_file() else ""
