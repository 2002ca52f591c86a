"""Reader for TensorBoard event files and run directories (optional extra ``tensorboard``).

Keras's ``TensorBoard`` callback writes ``RUN/train/events.out.tfevents.*`` and
``RUN/validation/events.out.tfevents.*`` with per-epoch tags ``epoch_loss`` and
``epoch_accuracy`` (TF2 stores them as tensors); PyTorch's ``SummaryWriter`` writes
``simple_value`` scalars under tags such as ``train/loss`` or ``loss/val``. The folder
of each event file below the run directory becomes a prefix of its tags, so both layouts
map onto ``loss``/``val_loss`` the same way. The global step is taken as the epoch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from nooverfit.history import History
from nooverfit.logs._table import rows_to_history

log = logging.getLogger(__name__)

EVENTS = "events.out.tfevents"


def event_files(path: Path) -> list[Path]:
    """Event files at ``path`` (a file, or a run directory searched recursively)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob(f"{EVENTS}*") if p.is_file())


def read_tensorboard(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read the scalars of a TensorBoard run into a history (one row per step).

    Raises:
        ImportError: when the ``tensorboard`` package is not installed.
        ValueError: when no event file or no recognizable curve is found.
    """
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
        from tensorboard.util import tensor_util
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reading TensorBoard logs needs the tensorboard package: "
            "pip install 'nooverfit[tensorboard]'"
        ) from err
    files = event_files(path)
    if not files:
        raise ValueError(f"no {EVENTS}* files under {path}")
    root = path if path.is_dir() else path.parent
    steps: dict[int, dict[str, float]] = {}
    for file in files:
        prefix = "/".join(file.parent.relative_to(root).parts)
        try:
            for event in EventFileLoader(str(file)).Load():
                if not event.HasField("summary"):
                    continue
                for value in event.summary.value:
                    number = _scalar(value, tensor_util)
                    if number is None:
                        continue
                    tag = f"{prefix}/{value.tag}" if prefix else value.tag
                    steps.setdefault(int(event.step), {})[tag] = number
        except Exception as err:  # a file still being written may end mid-record
            log.warning("%s: stopped reading at a damaged record (%s)", file, err)
    rows = [{"epoch": float(step), **values} for step, values in sorted(steps.items())]
    return rows_to_history(rows, columns=columns, source=str(path))


def _scalar(value: object, tensor_util: object) -> float | None:
    if value.HasField("simple_value"):  # type: ignore[attr-defined]
        return float(value.simple_value)  # type: ignore[attr-defined]
    if value.HasField("tensor"):  # type: ignore[attr-defined]
        try:
            array = tensor_util.make_ndarray(value.tensor)  # type: ignore[attr-defined]
        except Exception:
            return None
        if array.size == 1 and array.dtype.kind in "fiu":
            return float(array.reshape(()))
    return None
