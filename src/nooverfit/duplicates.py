"""The data audit's duplicates (:mod:`nooverfit.audit`): exact copies (equal hashes of the
samples' bytes) and near ones (nearest neighbours within a distance,
``sklearn.neighbors.NearestNeighbors``), inside the training set and across splits - a
test sample that is a copy of a training sample is leakage, and makes the test score
optimistic."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nooverfit._words import counted
from nooverfit.data.split import Split
from nooverfit.repeats import Repeats, twin_clause

#: ``(distances, indices)`` of each query row's nearest reference row (:func:`nearest`)
Nearest = tuple[np.ndarray, np.ndarray]


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


def sample_hashes(x: np.ndarray) -> list[str]:
    """A BLAKE2 digest of each sample's float32 bytes (-0.0 counted as 0.0)."""
    flat = np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32) + np.float32(0.0)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).hexdigest() for row in flat]


def nearest(ref: np.ndarray, query: np.ndarray, *, exclude_self: bool) -> Nearest:
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


def find_duplicates(
    feats: np.ndarray,
    hashes: Sequence[str],
    split: Split,
    *,
    threshold: float,
    within: Nearest,
    to_train: Mapping[str, Nearest],
) -> Duplicates:
    """The pairs of samples within ``threshold`` of each other (exact where their
    ``hashes`` are equal): inside the training pool, and from validation and test to the
    training pool and from test to validation (leaks).

    Args:
        feats: ``(N, D)`` features of every sample.
        hashes: every sample's :func:`sample_hashes`.
        split: the pool (training), val and test indices.
        threshold: the largest distance of a near duplicate.
        within: :func:`nearest` of the pool to itself (the audit's calibration, computed
            once).
        to_train: :func:`nearest` of ``"val"`` and ``"test"`` to the pool, where both hold
            samples (the audit's coverage reads them too).
    """
    pool = split.pool
    found, seen = [], set()
    d_tt, m_tt = within
    for i, j, d in zip(pool, pool[m_tt], d_tt, strict=True):
        key = (min(i, j), max(i, j))
        if d <= threshold and key not in seen:  # one entry per pair
            seen.add(key)
            found.append(Pair(int(i), "train", int(j), "train", float(d), hashes[i] == hashes[j]))
    parts = {"val": split.val, "test": split.test}
    leaks = []
    for name, ref in (("train", pool), ("val", split.val)):
        for qname in ("val", "test") if name == "train" else ("test",):
            q = parts[qname]
            if len(q) == 0 or len(ref) == 0:
                continue
            d, m = (
                to_train[qname]
                if name == "train"
                else nearest(feats[ref], feats[q], exclude_self=False)
            )
            for i, j, dist in zip(q, m, d, strict=True):
                if dist <= threshold:
                    exact = hashes[i] == hashes[ref[j]]
                    leaks.append(Pair(int(i), qname, int(ref[j]), name, float(dist), exact))
    return Duplicates(threshold, tuple(found), tuple(leaks))


def duplicate_warnings(d: Duplicates, repeats: Repeats | None) -> list[str]:
    """One line per split with leaks (val, test), and one for exact duplicates inside the
    training set (pure: decisions from the counts; ``repeats`` says what an exact twin
    across splits is, :func:`~nooverfit.repeats.twin_clause`)."""
    out = []
    for split in ("val", "test"):
        exact = d.count(split, exact=True)
        near_ = d.count(split, exact=False)
        if exact or near_:
            nature = twin_clause(repeats) if exact and repeats else ""
            out.append(
                f"leakage: {exact} exact and {near_} near duplicates of {split} samples "
                f"in earlier splits{nature}"
            )
    n_exact = d.count("train", exact=True)
    if n_exact:
        out.append(f"{counted(n_exact, 'exact duplicate pair')} inside the training set")
    return out
