"""A study's identity: everything besides a run's :class:`RunConfig` that fixes its numbers.

A stored run may be reused only by a study with the same identity: the same data (spec,
loader options and a fingerprint of the loaded content, so a changed CSV or preprocessing
counts), the same class subset, split sizes, seeds, engine, device type, budget, source
network, baseline network and training set (model, width, depth, epochs, training images),
and the nooverfit and torch versions: an ``--out`` folder holds one study, and its report is
never replaced by another study's. The seeds and the budget are part of it
because the fused engine trains a stage's runs on all seeds as one batch whose random
streams depend on its members.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit.config import RunConfig
from nooverfit.data.dataset import Dataset

#: Loader options that say where data is, not what it is (the fingerprint covers content).
_LOCATION_OPTIONS = ("data_dir", "download")


def fingerprint(dataset: Dataset) -> str:
    """A hash of the loaded data: features, labels, class names and kind (16 hex digits)."""
    digest = hashlib.blake2b(digest_size=8)
    for array in (dataset.x, dataset.y):
        a = np.ascontiguousarray(array)
        digest.update(f"{a.dtype}{a.shape}".encode())
        digest.update(a.tobytes())
    digest.update(repr((dataset.classes, dataset.kind)).encode())
    return digest.hexdigest()


def _source_id(source: Any) -> str | None:
    if source is None:
        return None
    if isinstance(source, (str, Path)) and Path(source).is_file():
        content = hashlib.blake2b(Path(source).read_bytes(), digest_size=8).hexdigest()
        return f"{source} ({content})"
    return str(getattr(source, "task", source))


def study_identity(
    dataset: Dataset,
    *,
    spec: str | None,
    options: dict[str, Any],
    classes: str | Sequence[int] | None,
    test: float | int,
    val: float | int,
    seeds: Sequence[int],
    engine: str,
    device: Any,
    budget: Any,
    source: Any = None,
    custom_model: bool = False,
    baseline: RunConfig | None = None,
    fixed_epochs: bool = False,
) -> dict[str, Any]:
    """The identity of a study as a JSON-ready dict (keys are the settings' names).

    Args:
        dataset: the loaded data set, after any class subset.
        spec: the data set spec it was loaded from (None for a ``Dataset`` passed in).
        options: the loader options (where the data lives is left out).
        classes, test, val, seeds, engine: as given to the study (engine resolved).
        device: the torch device (None: CUDA if available); only its type counts.
        budget: the study's :class:`~nooverfit.studies.budget.StudyBudget`.
        source: the transfer source (a file is identified by its content too).
        custom_model: whether a ``model_factory`` builds the networks.
        baseline: the study's baseline run (its network, epochs and training set size).
        fixed_epochs: whether the user fixed the epochs (runs then do not follow curves).
    """
    import torch

    from nooverfit._version import __version__, code_digest

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return {
        "data": spec if spec is not None else dataset.name,
        "data options": {k: v for k, v in sorted(options.items()) if k not in _LOCATION_OPTIONS},
        "data content": fingerprint(dataset),
        "classes": None if classes is None else str(classes),
        "test": test,
        "val": val,
        "seeds": [int(s) for s in seeds],
        "engine": engine,
        "device": torch.device(device).type,
        "budget": (
            dataclasses.asdict(budget)
            if dataclasses.is_dataclass(budget) and not isinstance(budget, type)
            else budget
        ),
        "source": _source_id(source),
        "model factory": "custom" if custom_model else "built-in",
        "baseline": None
        if baseline is None
        else {
            "model": baseline.model,
            "width": baseline.width,
            "depth": baseline.depth,
            "epochs": baseline.epochs,
            "epochs fixed": fixed_epochs,
            "train per class": baseline.train_per_class,
            "train size": baseline.train_size,
        },
        "nooverfit": __version__,
        "nooverfit code": code_digest(),
        "torch": torch.__version__,
    }


def differences(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The settings whose values differ, as ``"name: stored -> current"`` (short)."""

    def short(value: Any) -> str:
        text = str(value)
        return text if len(text) <= 40 else text[:37] + "..."

    out = []
    for name in sorted(set(stored) | set(current)):
        was, now = _normal(stored.get(name)), _normal(current.get(name))
        if was == now:
            continue
        if isinstance(was, dict) and isinstance(now, dict):  # name the settings inside
            out += [f"{name} {inner}" for inner in differences(was, now)]
        else:
            out.append(f"{name}: {short(was)} there, {short(now)} now")
    return out


def _normal(value: Any) -> Any:
    # JSON turns tuples into lists: compare what was written with what would be written.
    if isinstance(value, dict):
        return {str(k): _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    return value
