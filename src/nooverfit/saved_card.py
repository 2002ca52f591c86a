"""A study's recommended model together with the preprocessing of its inputs, so that it
predicts on raw data as the study's runs saw it.

``best_model.pt`` holds the weights (a plain state dict, as before); ``best_model.json``
beside it holds what turns raw rows into the network's inputs: the one-hot categories of a
CSV file's text columns, each input encoding's statistics fitted on the first seed's
training pool (the split ``best_model.pt`` was trained on), the class names, each
member's configuration and input shape, and the SHA-256 of ``best_model.pt``, so a model
file from another study is refused rather than fed the wrong encoding. JSON rather than
extra entries in ``best_model.pt``: the weights file stays a state dict that
``model.load_state_dict(torch.load(path, weights_only=True))`` reads, and the encoding is
readable without torch. :func:`load_study_model` reads both. ``nooverfit train`` writes
the same card, of its one network, for its ``model.pt`` (``model.json``: :func:`save_card`
names it after the weights file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nooverfit import formats
from nooverfit._version import __version__
from nooverfit.data.fitted import RECORDED, apply_scaling
from nooverfit.data.impute import training_columns
from nooverfit.data.tabular import DEFAULT_SCALING, fit_scaling
from nooverfit.ink import median_range

if TYPE_CHECKING:
    import torch

    from nooverfit.config import RunConfig
    from nooverfit.data.dataset import Dataset
    from nooverfit.data.tensors import SplitData

#: the file beside ``best_model.pt`` (its name with ``.json``)
CARD = "best_model.json"
#: version of the layout of ``best_model.json`` and the ``best_model.pt`` it describes, the
#: newest this code writes and reads (:func:`~nooverfit.saved_model.load_study_model` reads
#: every older one too; their history in :data:`nooverfit.formats.CARD`).
FORMAT = formats.CARD


def encoding_of(config: RunConfig) -> str:
    """The scaling a run's tabular features had: its ``inputs``, the study's default data
    (prepared with :data:`~nooverfit.data.tabular.DEFAULT_SCALING`) for ``"standard"``."""
    return DEFAULT_SCALING if config.inputs == "standard" else config.inputs


def model_card(
    dataset: Dataset,
    members: Sequence[tuple[RunConfig, SplitData]],
    *,
    name: str,
    ensemble: bool,
    custom: bool = False,
    refused: str | None = None,
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What ``best_model.json`` records of a recommendation (its ``weights`` entry is added
    by :func:`save_card`).

    Args:
        dataset: the study's data set (raw features, columns, class names).
        members: each network's configuration and the split data it trained on (one for a
            single network); the weights are those of these runs.
        name: the recommendation's name in the report.
        ensemble: whether the weights are an :class:`~nooverfit.studies.ensemble.Ensemble`'s.
        custom: whether the network is a user's own (a ``model_factory``'s): loading it
            then needs the module (:func:`load_study_model`'s ``module``).
        refused: why the model cannot be rebuilt from the card; None when it can.
        source: for a transfer network, its source's architecture
            (:func:`nooverfit.transfer.architecture.record`): loading prepares that
            architecture again for the study's classes and inputs, then loads the weights.

    Each encoding's statistics are checked: applied to the raw features they must give the
    training data bit for bit, else the card says so in ``refused`` and a loaded model
    refuses raw data instead of encoding it otherwise.
    """
    tabular = dataset.kind == "tabular"
    encodings: dict[str, Any] = {}
    # missing cells take the medians of the first member's training pool (as it trained)
    pool = members[0][1].split.pool if members else np.arange(len(dataset.x))
    raw, columns = dataset.filled(pool), training_columns(dataset.x, dataset.columns, pool)
    for config, data in members:
        scaling = encoding_of(config) if tabular else None
        if scaling is None or scaling in encodings:
            continue
        if scaling not in RECORDED:
            refused = refused or f"its {scaling} input encoding is not one saved models record"
            continue
        record = fit_scaling(raw, data.split.pool, scaling, counted=dataset.x)
        encodings[scaling] = record
        if refused is None and not _same(apply_scaling(raw, record), data.x):
            refused = f"its {scaling} input encoding could not be recorded exactly"
    if refused is None and dataset.name.startswith("csv:") and dataset.columns is None:
        refused = "how its CSV file's columns were encoded could not be recorded"
    # Other kinds train on the data set's features as they are (a sample's rows checked)
    head = slice(0, 256)
    if (
        refused is None
        and not tabular
        and not all(_same(dataset.x[head], d.x[head]) for _, d in members)
    ):
        refused = "its inputs are not the data set's raw features"
    return {
        "format": FORMAT,
        "nooverfit": __version__,
        "name": name,
        "kind": dataset.kind,
        "classes": list(dataset.classes),
        "ensemble": ensemble,
        "custom": custom,
        "raw_shape": list(dataset.in_shape),
        "raw_range": _range(dataset.x),
        # the images' backgrounds, for predict's check of their ink (nooverfit.ink)
        "image_medians": median_range(dataset.x) if dataset.kind == "image" else None,
        "columns": columns.to_dict() if columns is not None else None,
        "encodings": encodings,
        "members": [
            {
                "config": config.to_dict(),
                "in_shape": list(data.in_shape),
                "encoding": encoding_of(config) if tabular else None,
            }
            for config, data in members
        ],
        "refused": refused,
        "source": source,
    }


def _range(x: np.ndarray) -> list[float] | None:
    """The smallest and largest finite value of the training features (None: none)."""
    finite = np.asarray(x, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return [float(finite.min()), float(finite.max())] if finite.size else None


def _same(raw: np.ndarray, encoded: torch.Tensor) -> bool:
    x = encoded.detach().cpu().numpy()
    return raw.shape == x.shape and bool(np.array_equal(raw, x))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_card(card: dict[str, Any], model: str | Path) -> Path:
    """Write ``card`` beside the weights file ``model`` (``best_model.json``), atomically,
    with the weights' SHA-256; return its path."""
    from nooverfit._io import atomic_write_json

    weights = Path(model)
    entry = {"file": weights.name, "sha256": sha256(weights)}
    return atomic_write_json(weights.with_suffix(".json"), {**card, "weights": entry})
