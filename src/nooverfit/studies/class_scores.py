"""A study's figures per class: the accuracy of always answering the largest class on the
same validation and test rows, the balanced accuracy and per-class recall of the baseline
and the recommendation on test, and whether either answers one class for every row.

:func:`summarize` is pure (labels and predictions in, results.json's
``extras["class_scores"]`` out; the figures from :mod:`nooverfit.imbalance`);
:func:`class_scores` predicts with the study's trained networks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from nooverfit.imbalance import (
    balance_warnings,
    balanced_accuracy,
    class_counts,
    majority,
    one_class_warning,
    recalls,
)
from nooverfit.imbalance import single_class as one_class
from nooverfit.studies.ensemble import Members, member_probabilities
from nooverfit.studies.result import Variant
from nooverfit.studies.session import StudySession
from nooverfit.techniques import unit_of

#: results.json's names of the held-out parts, and the words for them in warnings
SPLITS = {"val": "validation", "test": "test"}

#: ``{role: {seed: {"val": labels, "test": labels}}}``: each model's predicted classes
Predictions = Mapping[str, Mapping[int, Mapping[str, np.ndarray]]]


def summarize(
    y: np.ndarray,
    rows: Mapping[int, Mapping[str, np.ndarray]],
    predictions: Predictions,
    classes: Sequence[str],
    *,
    training: Mapping[str, np.ndarray] | None = None,
    unit: str = "rows",
) -> dict[str, Any]:
    """The per-class section of a study's results.

    Args:
        y: every sample's class index.
        rows: per seed, the ``"val"`` and ``"test"`` row indices, and optionally the
            training ``"pool"``: the constant answer is then the pool's largest class (what
            a model that learned only the classes' shares answers), not each held-out
            part's own largest class, which only its labels show.
        predictions: per role (``"baseline"``, ``"recommended"``) and seed, the predicted
            class of each of those rows.
        classes: the class names.
        training: the first seed's ``"train"`` indices and the ``"pool"`` they were drawn
            from, for the class-balance warnings (:func:`~nooverfit.imbalance.balance_warnings`).
        unit: what one sample is called in the captions (``"rows"``, ``"images"``, ...).

    Returns:
        ``majority``: per held-out part, each seed's constant answer (the largest class of
        its training pool, else of the part's rows), its share of the part's rows (the
        accuracy of always answering it) and their mean; per role, the test
        ``balanced_accuracy`` (per seed and mean) and mean ``recall`` per class; and
        ``warnings``: the class-balance ones of the first seed's split, and one for a model
        that answers one class on a seed's validation or test rows.
    """
    k, seeds = len(classes), list(rows)
    warnings = []
    if training is not None and seeds:
        first = rows[seeds[0]]
        counts = {
            name: [int(c) for c in class_counts(y[idx], k)]
            for name, idx in {**training, "val": first["val"], "test": first["test"]}.items()
        }
        warnings += balance_warnings(
            counts["train"], counts["val"], counts["test"], classes, pool=counts["pool"]
        )
    out: dict[str, Any] = {"classes": list(classes), "majority": {}}
    for part in SPLITS:
        found = [_constant(y, rows[s], part, k) for s in seeds]
        out["majority"][part] = {
            "class": [classes[c] if c >= 0 else None for c, _ in found],
            "per_seed": [share for _, share in found],
            "share": float(np.mean([share for _, share in found])),
        }
    pool = rows[seeds[0]].get("pool") if seeds else None
    train = training["train"] if training is not None else pool
    if train is not None and pool is not None:
        answered = [c for c in out["majority"]["test"]["class"] if c is not None]
        tied = tie_caption(
            class_counts(y[train], k),
            class_counts(y[pool], k),
            classes,
            answered,
            len(train),
            unit=unit,
        )
        if tied:
            out["majority"]["caption"] = tied
    same: dict[tuple[str, tuple[tuple[int, str], ...]], list[str]] = {}
    for role, by_seed in predictions.items():
        truth = {s: y[rows[s]["test"]] for s in seeds}
        per_seed = [balanced_accuracy(truth[s], by_seed[s]["test"], k) for s in seeds]
        per_class = [recalls(truth[s], by_seed[s]["test"], k) for s in seeds]
        single = [
            (s, part, one_class(y[rows[s][part]], by_seed[s][part]))
            for s in seeds
            for part in SPLITS
        ]
        flagged = [(s, part, c) for s, part, c in single if c is not None]
        out[role] = {
            "balanced_accuracy": float(np.mean(per_seed)),
            "balanced_per_seed": per_seed,
            "recall": [_mean([r[c] for r in per_class]) for c in range(k)],
            "single_class": [
                {"seed": s, "split": part, "class": classes[c]} for s, part, c in flagged
            ],
        }
        for name in dict.fromkeys(classes[c] for _, _, c in flagged):
            where = tuple((s, SPLITS[p]) for s, p, c in flagged if classes[c] == name)
            same.setdefault((name, where), []).append(role)
    # one warning for models that fail alike (the recommendation is often the baseline)
    out["warnings"] = warnings + [one_class_warning(r, w, n) for (n, w), r in same.items()]
    return out


def tie_caption(
    train: np.ndarray | Sequence[int],
    pool: np.ndarray | Sequence[int],
    classes: Sequence[str],
    answered: Sequence[str],
    rows: int,
    *,
    unit: str = "rows",
) -> str | None:
    """The subject of the majority-class sentence where the training rows' largest classes
    tie (``train``: their counts per class; ``pool``: the training pool's, which ``rows``
    training rows were drawn from, the first seed's; ``answered``: each seed's constant
    answer, in seed order; ``unit``: what a sample is called, images on image data), else
    None. Where the seeds answer different classes, the tie is said of the first seed and
    each seed's answer named (:func:`seed_by_seed`).

    Every class tied for largest fits the training rows equally well as a constant
    answer; the study answers the pool's largest class (the share of the data the
    training rows were drawn from), and the first in the classes' order where the pool's
    largest tie too (``numpy.argmax`` takes the lowest index)."""
    counts = np.asarray(train)
    if counts.sum() == 0:
        return None
    top = int(counts.max())
    tied = [classes[c] for c in range(len(classes)) if counts[c] == top]
    if len(tied) < 2:
        return None
    each = f"{top} {unit} each" if len(tied) == len(classes) else f"{top} {unit} each of"
    if len(tied) < len(classes):
        each += " " + ", ".join(repr(c) for c in tied)
    # the tie is the first seed's training rows'; other seeds may answer other classes
    names = repr(answered[0]) if answered else ""
    per_seed = seed_by_seed(answered)
    whole = int(np.asarray(pool).sum()) == rows  # the training rows are the whole pool
    pool_top = np.asarray(pool) == np.asarray(pool).max()
    if not whole and pool_top.sum() == 1:
        why = f"the training pool's largest ({names}), the {unit} they were drawn from"
    elif whole:
        why = f"the first of them in the classes' order ({names})"
    else:
        why = f"the first of the training pool's largest in the classes' order ({names})"
    whose, answer = (
        ("The first seed's", "the first seed's") if per_seed else ("The", "the study's")
    )
    answering = f"each seed's own ({per_seed})" if per_seed else names
    return (
        f"{whose} training classes are tied ({each}): a constant answer fits them equally "
        f"well whichever class it is, and {answer} is {why}. Always answering {answering}"
    )


def seed_by_seed(answered: Sequence[str]) -> str:
    """Each seed's constant answer, ``"seed by seed: 'a', 'b'"``, where the seeds answer
    different classes (each its own training pool's largest); "" where they answer one,
    which is then the one fact to say."""
    if len(set(answered)) < 2:
        return ""
    return "seed by seed: " + ", ".join(repr(c) for c in answered)


def _constant(
    y: np.ndarray, rows: Mapping[str, np.ndarray], part: str, k: int
) -> tuple[int, float]:
    """The class always answered on ``rows[part]`` (the training pool's largest when the
    pool is given) and its share of that part's rows."""
    if "pool" not in rows:
        return majority(y[rows[part]], k)
    top, _ = majority(y[rows["pool"]], k)
    held = y[rows[part]]
    return top, float(np.mean(held == top)) if len(held) else float("nan")


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


@torch.no_grad()
def predicted(
    session: StudySession, variant: Variant, members: Members | None, seed: int
) -> dict[str, np.ndarray]:
    """``variant``'s (or the ensemble ``members``') predicted class of ``seed``'s
    validation and test rows."""
    if members is None:  # one network: an ensemble of one
        members = Members((variant.config,), (variant.name,))
    data = session.split_data(members.runs[0].replace(seed=seed))
    parts = {"val": data.val_index, "test": data.test_index}
    return {
        p: member_probabilities(session, members, seed, i).argmax(1).cpu().numpy()
        for p, i in parts.items()
    }


def class_scores(
    session: StudySession,
    roles: Mapping[str, tuple[Variant, Members | None]],
) -> dict[str, Any]:
    """:func:`summarize` of the study's ``roles`` (e.g. ``{"baseline": (base, None),
    "recommended": (variant, members)}``) on every seed's validation and test rows."""
    rows = {
        s: {
            "val": session.data[s].split.val,
            "test": session.data[s].split.test,
            "pool": session.data[s].split.pool,
        }
        for s in session.seeds
    }
    predictions = {
        role: {s: predicted(session, v, m, s) for s in session.seeds}
        for role, (v, m) in roles.items()
    }
    dataset, first = session.dataset, session.seeds[0]
    base = roles["baseline"][0].config if "baseline" in roles else None
    training = (
        {
            "train": np.asarray(session.train_indices(base)[first], dtype=np.int64),
            "pool": session.data[first].split.pool,
        }
        if base is not None
        else None
    )
    unit = unit_of(dataset.kind)
    return summarize(dataset.y, rows, predictions, dataset.classes, training=training, unit=unit)


def majority_subject(scores: Mapping[str, Any]) -> str:
    """The subject of the sentence on always answering the largest class, the one the
    report and the CLI both print before :func:`summarize`'s figures: the tie caption
    where the training classes tie (:func:`tie_caption`), else the class answered, or each
    seed's where the seeds answer different ones (:func:`seed_by_seed`)."""
    major = scores["majority"]
    if major.get("caption"):
        return str(major["caption"])
    answered = [c for c in major["test"]["class"] if c is not None]
    if per_seed := seed_by_seed(answered):
        return f"Always answering each seed's largest training class ({per_seed})"
    which = f" ({answered[0]!r})" if answered else ""  # no test rows: no class answered
    return f"Always answering the training data's largest class{which}"


def summary_line(scores: Mapping[str, Any], unit: str = "rows") -> str:
    """The CLI's line of :func:`summarize`'s figures: always answering the largest class
    (:func:`majority_subject`) on the same test ``unit`` (rows, images, clips), and the
    balanced accuracy of each model on test (in %)."""
    major = scores["majority"]
    roles = [r for r in ("recommended", "baseline") if r in scores]
    balanced = ", ".join(f"{r} {100 * scores[r]['balanced_accuracy']:.1f}%" for r in roles)
    line = (
        f"{majority_subject(scores)} scores "
        f"{100 * major['test']['share']:.1f}% on the same test {unit} "
        f"(validation {100 * major['val']['share']:.1f}%)"
    )
    if roles:
        pairs = zip(scores["classes"], scores[roles[0]]["recall"], strict=True)
        known = [(name, r) for name, r in pairs if r is not None]
        many = len(known) > 10  # then the three classes the model recognizes least
        shown = sorted(known, key=lambda nr: nr[1])[:3] if many else known
        per_class = ", ".join(f"{name} {100 * r:.0f}%" for name, r in shown)
        line += (
            f"; balanced accuracy on test (mean recall per class): {balanced}; "
            f"{roles[0]}'s {'lowest ' if many else ''}recall per class: {per_class}"
        )
    return line
