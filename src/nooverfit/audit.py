"""The data audit: is the data too small, too homogeneous, duplicated or leaking?

- Class balance per split.
- Exact duplicates (hash of the sample's bytes) and near-duplicates (nearest neighbours,
  ``sklearn.neighbors.NearestNeighbors``) within the training set and across
  train/val/test - a test sample that is a copy of a training sample is leakage and
  makes the test score optimistic.
- Coverage: the fraction of val/test samples farther from every training sample than
  the ``quantile`` of train-to-train nearest-neighbour distances. With i.i.d. splits about
  ``1 - quantile`` of them are; many more means the training data does not cover what
  the model will meet ("all the dogs in the training set are bulldogs").
- Columns (tabular data): numeric columns that look like row identifiers
  (:mod:`nooverfit.identifiers`), missing cells and columns of one value
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

import hashlib
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
from nooverfit.repeats import Repeats, repeat_warnings, repeats, twin_clause

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
class Pair:
    """A sample (``index`` in ``split``) and its nearest training (or val) sample; of a
    CSV file, the lines their rows start at; of an image folder, their files
    (:mod:`nooverfit.audit_rows`)."""

    index: int
    split: str
    match: int
    match_split: str
    distance: float
    exact: bool
    line: int | None = None
    match_line: int | None = None
    path: str | None = None
    match_path: str | None = None


@dataclass(frozen=True)
class Duplicates:
    """Exact and near-duplicate pairs.

    Attributes:
        threshold: near-duplicate distance (``near * median`` train nearest-neighbour
            distance).
        within_train: pairs inside the training set.
        leaks: pairs across splits (val or test sample with a train or val twin).
    """

    threshold: float
    within_train: tuple[Pair, ...]
    leaks: tuple[Pair, ...]

    def count(self, split: str, *, exact: bool) -> int:
        pairs = self.within_train if split == "train" else self.leaks
        return sum(1 for p in pairs if p.exact == exact and (split == "train" or p.split == split))


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

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["warnings"], data["notes"] = list(self.warnings), list(self.notes)
        return data


def sample_hashes(x: np.ndarray) -> list[str]:
    """A BLAKE2 digest of each sample's float32 bytes (-0.0 counted as 0.0)."""
    flat = np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32) + np.float32(0.0)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).hexdigest() for row in flat]


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


def _nearest(
    ref: np.ndarray, query: np.ndarray, *, exclude_self: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Distance to and index of each query's nearest ``ref`` row (not itself)."""
    from sklearn.neighbors import NearestNeighbors

    k = 2 if exclude_self else 1
    nn_ = NearestNeighbors(n_neighbors=min(k, len(ref))).fit(ref)
    dist, idx = nn_.kneighbors(query)
    if not exclude_self:
        return dist[:, 0], idx[:, 0]
    # with duplicates the first neighbour may be another copy rather than the sample
    own = idx[:, 0] == np.arange(len(query))
    col = np.where(own, 1, 0) if dist.shape[1] > 1 else np.zeros(len(query), int)
    rows = np.arange(len(query))
    return dist[rows, col], idx[rows, col]


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
    d_tt, m_tt = _nearest(feats[split.pool], feats[split.pool], exclude_self=True)
    positive = d_tt[d_tt > 0]
    scale = float(np.median(positive)) if len(positive) else 0.0
    threshold = near * scale
    within, seen = [], set()
    for i, j, d in zip(split.pool, split.pool[m_tt], d_tt, strict=True):
        key = (min(i, j), max(i, j))
        if d <= threshold and key not in seen:  # one entry per pair
            seen.add(key)
            within.append(Pair(int(i), "train", int(j), "train", float(d), hashes[i] == hashes[j]))
    leaks, nearest_train = [], {}
    for name, ref in (("train", split.pool), ("val", split.val)):
        for qname in ("val", "test") if name == "train" else ("test",):
            q = parts[qname]
            if len(q) == 0 or len(ref) == 0:
                continue
            d, m = _nearest(feats[ref], feats[q], exclude_self=False)
            if name == "train":
                nearest_train[qname] = (d, m)
            for i, j, dist in zip(q, m, d, strict=True):
                if dist <= threshold:
                    exact = hashes[i] == hashes[ref[j]]
                    leaks.append(Pair(int(i), qname, int(ref[j]), name, float(dist), exact))
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
    dups = Duplicates(threshold, located(within, lines, paths), located(leaks, lines, paths))
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
    report = replace(report, missing=missing_cells(columns), constant=constant_columns(columns))
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
    for split in ("val", "test"):
        exact = report.duplicates.count(split, exact=True)
        near_ = report.duplicates.count(split, exact=False)
        if exact or near_:
            r = report.repeats
            nature = twin_clause(r) if exact and r else ""
            out.append(
                f"leakage: {exact} exact and {near_} near duplicates of {split} samples "
                f"in earlier splits{nature}"
            )
    n_exact = report.duplicates.count("train", exact=True)
    if n_exact:
        out.append(f"{n_exact} exact duplicate pairs inside the training set")
    if report.repeats is not None:
        out += repeat_warnings(report.repeats)
    out += identifier_warnings(report.identifiers)
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
