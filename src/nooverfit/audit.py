"""The data audit: is the data too small, too homogeneous, duplicated or leaking?

- Class balance per split.
- Exact duplicates (hash of the sample's bytes) and near-duplicates (nearest neighbours)
  within the training set and across train/val/test (:mod:`nooverfit.duplicates`).
- Coverage: the fraction of val/test samples farther from every training sample than
  the ``quantile`` of train-to-train nearest-neighbour distances. With i.i.d. splits about
  ``1 - quantile`` of them are; many more means the training data does not cover what
  the model will meet ("all the dogs in the training set are bulldogs").
- Columns (tabular data): numeric columns that look like row identifiers
  (:mod:`nooverfit.identifiers`), columns that copy the label
  (:mod:`nooverfit.label_copies`), missing cells and columns of one value
  (:mod:`nooverfit.feature_columns`), the last two as notes rather than warnings.
- Group gaps: accuracy per group of a trained model and the worst-group gap; when some
  groups never occur in training (a speaker split), the gap between the groups heard in
  training and those never heard, which names homogeneous data as a cause of overfitting
  (:mod:`nooverfit.groups`).

Distances are Euclidean on flattened inputs (tabular features filled and scaled with the
training pool's statistics, as for training:
:func:`~nooverfit.data.tensors.network_inputs`), or on any features given
(e.g. a model's penultimate layer, :func:`model_features`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from nooverfit.audit_rows import located
from nooverfit.data.dataset import Dataset
from nooverfit.data.split import Split
from nooverfit.data.tabular import DEFAULT_SCALING
from nooverfit.data.tensors import network_inputs
from nooverfit.duplicates import (
    Duplicates,
    Pair,
    duplicate_warnings,
    find_duplicates,
    nearest,
    sample_hashes,
)
from nooverfit.feature_columns import (
    Constant,
    MissingCells,
    column_notes,
    constant_columns,
    feature_columns,
    missing_cells,
)
from nooverfit.groups import GroupGap, group_gap, group_gap_warning, homogeneous_cause
from nooverfit.identifiers import Identifier, identifier_warnings, identifiers
from nooverfit.imbalance import balance_warnings, class_counts, imbalance
from nooverfit.label_copies import LabelCopy, label_copies, label_copy_warnings
from nooverfit.repeats import Repeats, repeat_warnings, repeats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Balance:
    """Samples per class in each split; ``imbalance`` is max/min count in train.

    ``pool`` counts the whole training pool the training set was drawn from (the same
    as ``train`` when it is the whole pool); ``data_imbalance`` is max/min count over the
    whole data set (pool, val and test): the data's own balance, which a per-class
    training subsample hides.
    """

    classes: tuple[str, ...]
    train: tuple[int, ...]
    val: tuple[int, ...]
    test: tuple[int, ...]
    imbalance: float
    pool: tuple[int, ...] = ()
    data_imbalance: float = float("nan")


@dataclass(frozen=True)
class Coverage:
    """Held-out samples far from every training sample.

    Attributes:
        threshold: the ``quantile`` of train-to-train nearest-neighbour distances.
        quantile: its level (``1 - quantile`` of held-out samples are expected beyond it).
        far: fraction of each held-out split beyond the threshold, ``{"val": .., "test": ..}``.
        examples: the farthest held-out samples (index, split, nearest train, distance).
    """

    threshold: float
    quantile: float
    far: dict[str, float]
    examples: tuple[Pair, ...]

    @property
    def expected(self) -> float:
        return 1.0 - self.quantile


@dataclass(frozen=True)
class AuditReport:
    """Everything :func:`audit` found, and the one-line warnings and notes (what the data
    lacks that training handles: missing cells, columns of one value) it derives."""

    name: str
    samples: int
    balance: Balance
    duplicates: Duplicates
    coverage: Coverage
    groups: GroupGap | None
    warnings: tuple[str, ...]
    repeats: Repeats | None = None
    identifiers: tuple[Identifier, ...] = ()
    missing: tuple[MissingCells, ...] = ()
    constant: tuple[Constant, ...] = ()
    notes: tuple[str, ...] = ()
    copies: tuple[LabelCopy, ...] = ()

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["warnings"], data["notes"] = list(self.warnings), list(self.notes)
        return data


def class_balance(
    y: np.ndarray, split: Split, classes: tuple[str, ...], *, pool: np.ndarray | None = None
) -> Balance:
    """Per-class counts in the pool (train), val and test; ``pool``: the whole training
    pool ``split.pool`` was drawn from (default: ``split.pool`` itself)."""

    def counts(idx: np.ndarray) -> tuple[int, ...]:
        return tuple(int(c) for c in class_counts(y[idx], len(classes)))

    train, val, test = counts(split.pool), counts(split.val), counts(split.test)
    whole = train if pool is None else counts(np.asarray(pool, dtype=np.int64))
    data = tuple(p + v + t for p, v, t in zip(whole, val, test, strict=True))
    return Balance(
        classes, train, val, test, imbalance(train), pool=whole, data_imbalance=imbalance(data)
    )


def model_features(model: nn.Module, x: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """Inputs to the last layer of an ``nn.Sequential`` model, ``(N, D)`` (eval mode)."""
    if not isinstance(model, nn.Sequential) or len(model) < 2:
        raise ValueError("model_features needs an nn.Sequential with at least two layers")
    body = model[:-1]
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    with torch.no_grad():
        out = [
            body(torch.as_tensor(x[i : i + chunk], device=device)).flatten(1).cpu().numpy()
            for i in range(0, len(x), chunk)
        ]
    model.train(was)
    return np.concatenate(out)


def audit(
    dataset: Dataset,
    split: Split,
    *,
    features: np.ndarray | None = None,
    model: nn.Module | None = None,
    groups: np.ndarray | None = None,
    group_split: str = "val",
    group_index: np.ndarray | None = None,
    pool: np.ndarray | None = None,
    scaling: str = DEFAULT_SCALING,
    warn_balance: bool = True,
    near: float = 0.1,
    quantile: float = 0.95,
    examples: int = 5,
) -> AuditReport:
    """Audit ``dataset`` under ``split``.

    Args:
        dataset: the data.
        split: its train pool / val / test split.
        features: ``(N, D)`` features to measure distances in (default: the flattened
            input, standardized with train statistics).
        model: a trained classifier of ``dataset.x``; needed for group gaps.
        groups: a group name per sample (default ``dataset.groups``).
        group_split: where group accuracy is measured: ``"val"`` (default) or ``"test"``.
        group_index: the samples group accuracy is measured on instead (e.g. unused
            training-pool samples of heard groups plus validation); groups present in
            ``split.pool`` count as heard, and with ``pool``, samples of its groups that
            ``split.pool`` lacks are left out (never heard, but not held out either).
        pool: the whole training pool, when ``split.pool`` is a subset drawn from it (a
            study's training set): the class balance reports both, and the inputs are
            filled and scaled with its statistics, as the network trained on them.
        scaling: the tabular features' encoding the network trained with (a run's
            ``config.inputs``; default ``"standard"``).
        warn_balance: whether the warnings include the class-balance ones (default True;
            a study computes those once, with its per-class scores:
            :mod:`nooverfit.studies.class_scores`).
        near: near-duplicate threshold as a fraction of the median train-to-train
            nearest-neighbour distance (default 0.1).
        quantile: coverage threshold level of train-to-train distances (default 0.95).
        examples: how many far held-out samples to list (default 5).
    """
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    if near < 0:
        raise ValueError(f"near must be >= 0, got {near}")
    if group_split not in ("val", "test"):
        raise ValueError(f"group_split must be 'val' or 'test', got {group_split!r}")
    parts = {"train": split.pool, "val": split.val, "test": split.test}
    # the network's own inputs (from the whole pool it was trained from), for distances too
    inputs = network_inputs(dataset, split.pool if pool is None else pool, scaling=scaling)
    feats = inputs.reshape(len(inputs), -1) if features is None else np.asarray(features)
    hashes = sample_hashes(dataset.x)
    # train to train: the calibration of both thresholds
    d_tt, m_tt = nearest(feats[split.pool], feats[split.pool], exclude_self=True)
    positive = d_tt[d_tt > 0]
    scale = float(np.median(positive)) if len(positive) else 0.0
    nearest_train = {
        q: nearest(feats[split.pool], feats[parts[q]], exclude_self=False)
        for q in ("val", "test")
        if len(parts[q]) and len(split.pool)
    }
    found = find_duplicates(
        feats, hashes, split, threshold=near * scale, within=(d_tt, m_tt), to_train=nearest_train
    )
    cut = float(np.quantile(positive, quantile)) if len(positive) else 0.0
    far, far_pairs = {}, []
    for qname, (d, m) in nearest_train.items():
        far[qname] = float(np.mean(d > cut))
        far_pairs += [
            Pair(int(parts[qname][k]), qname, int(split.pool[m[k]]), "train", float(d[k]), False)
            for k in np.flatnonzero(d > cut)
        ]
    far_pairs.sort(key=lambda p: -p.distance)
    lines, paths = dataset.lines, dataset.paths
    coverage = Coverage(cut, quantile, far, located(far_pairs[:examples], lines, paths))
    dups = replace(
        found,
        within_train=located(found.within_train, lines, paths),
        leaks=located(found.leaks, lines, paths),
    )
    gap = None
    groups = dataset.groups if groups is None else np.asarray(groups)
    if model is not None and groups is not None:
        idx = parts[group_split] if group_index is None else np.asarray(group_index)
        heard = set(groups[split.pool].tolist())
        if pool is not None:
            # a pool group the training subset did not draw was neither heard nor held out
            # by the split: on neither side of the gap
            undrawn = list(set(groups[pool].tolist()) - heard)
            idx = idx[~np.isin(groups[idx], undrawn)]
        if len(idx):
            pred = _predict(model, inputs[idx])
            gap = group_gap(pred, dataset.y[idx], groups[idx], heard=heard)
    elif groups is not None and model is None:
        log.info("groups given without a model: group gaps skipped")
    balance = class_balance(dataset.y, split, dataset.classes, pool=pool)
    # a file's columns (a constant pixel, an image's copy: no column's)
    columns = feature_columns(dataset) if dataset.kind == "tabular" else ()
    same = repeats(hashes, dataset.y, columns=[c.values for c in columns])
    held = {"val": split.val, "test": split.test}
    ids = identifiers(columns, dataset.y, train=split.pool, **held)
    report = AuditReport(dataset.name, len(dataset), balance, dups, coverage, gap, (), same, ids)
    report = replace(
        report,
        missing=missing_cells(columns),
        constant=constant_columns(columns),
        copies=label_copies(columns, dataset.y, dataset.classes, target=_target(dataset)),
    )
    notes = column_notes(report.missing, report.constant, rows=report.samples)
    return replace(
        report, warnings=audit_warnings(report, balance=warn_balance), notes=tuple(notes)
    )


def audit_warnings(report: AuditReport, *, balance: bool = True) -> tuple[str, ...]:
    """One line per problem found (pure: decisions from the numbers in ``report``); the
    class-balance ones (:func:`~nooverfit.imbalance.balance_warnings`) only if ``balance``."""
    out: list[str] = []
    b = report.balance
    if balance:  # the data's own balance counts even when training on a balanced subsample
        out += balance_warnings(b.train, b.val, b.test, b.classes, pool=b.pool or None)
    out += duplicate_warnings(report.duplicates, report.repeats)
    if report.repeats is not None:
        out += repeat_warnings(report.repeats)
    out += identifier_warnings(report.identifiers)
    out += label_copy_warnings(report.copies)
    cov = report.coverage
    for split, frac in cov.far.items():
        if frac > 2 * cov.expected + 0.02:
            out.append(
                f"coverage: {frac:.0%} of {split} samples are far from all training samples "
                f"(expected about {cov.expected:.0%}); the training data is too homogeneous"
            )
    if report.groups is not None and (line := group_gap_warning(report.groups)):
        out.append(line)
    cause = homogeneous_cause(report.groups, chance=1 / max(1, len(report.balance.classes)))
    if cause is not None:
        out.append(cause.reason)
    return tuple(out)


def _target(dataset: Dataset) -> str | None:
    """The label column's name, where the data set's file named it."""
    return dataset.columns.target if dataset.columns is not None else None


def _predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    device = next(model.parameters()).device
    was = model.training
    model.eval()
    with torch.no_grad():
        pred = [
            model(torch.as_tensor(x[i : i + 4096], device=device)).argmax(1).cpu().numpy()
            for i in range(0, len(x), 4096)
        ]
    model.train(was)
    return np.concatenate(pred)


def unrepeated_warnings(extras: dict[str, Any]) -> list[str] | None:
    """A study's audit warnings less those its class scores already give (``extras`` of a
    :class:`~nooverfit.studies.result.StudyResult`), or None when none repeats: a
    results.json written before the audit left the class-balance warnings to the class
    scores holds them in both, and a re-rendered report would show each twice."""
    audit, scores = extras.get("audit"), extras.get("class_scores")
    if not isinstance(audit, dict) or not isinstance(scores, dict):
        return None
    said, warnings = set(scores.get("warnings", ())), list(audit.get("warnings", ()))
    kept = [w for w in warnings if w not in said]
    return kept if len(kept) < len(warnings) else None
