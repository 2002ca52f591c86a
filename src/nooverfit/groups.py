"""Accuracy per group (a speaker, a recording site) and the homogeneous-data cause it names.

When some groups never occur in training (a speaker split), the gap between the groups
heard in training and those never heard says whether the training data is too homogeneous
(:func:`homogeneous_cause`). Pure: computed from predictions, labels and group names.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from nooverfit.group_noise import worse_group

if TYPE_CHECKING:
    from nooverfit.diagnosis import Cause, Diagnosis


@dataclass(frozen=True)
class GroupGap:
    """Accuracy per group; ``gap`` = overall accuracy - worst group's accuracy.

    Attributes:
        heard: per group, whether it occurs in the training set (empty when not known).
        held_out_gap: accuracy on the samples of heard groups minus accuracy on those of
            groups never heard in training; ``None`` unless both kinds are measured.
        below: the group that scores below the other groups' samples by more than its
            size explains (:func:`~nooverfit.group_noise.worse_group`), else None.
        tested: whether ``below`` was computed (False in records written before it).
    """

    groups: tuple[str, ...]
    counts: tuple[int, ...]
    accuracy: tuple[float, ...]
    overall: float
    worst: str
    gap: float
    heard: tuple[bool, ...] = ()
    held_out_gap: float | None = None
    below: str | None = None
    tested: bool = False


def group_gap(
    pred: np.ndarray, y: np.ndarray, groups: np.ndarray, *, heard: Collection[str] | None = None
) -> GroupGap:
    """Accuracy of predictions ``pred`` per group and the worst-group gap.

    Args:
        pred, y, groups: predictions, labels and group names of the measured samples.
        heard: the groups that occur in the training set; with it, ``held_out_gap`` is
            the accuracy on heard groups' samples minus that on the other groups'.
    """
    names = tuple(str(g) for g in np.unique(groups))
    correct = pred == y
    acc = tuple(float(correct[groups == g].mean()) for g in np.unique(groups))
    counts = tuple(int((groups == g).sum()) for g in np.unique(groups))
    overall = float(correct.mean())
    worst = int(np.argmin(acc))
    gap = GroupGap(names, counts, acc, overall, names[worst], overall - acc[worst])
    below = worse_group(acc, counts)
    gap = replace(gap, below=None if below is None else names[below], tested=True)
    if heard is None:
        return gap
    known = {str(h) for h in heard}
    is_heard = np.array([str(g) in known for g in groups])
    held = None
    if is_heard.any() and not is_heard.all():
        held = float(correct[is_heard].mean() - correct[~is_heard].mean())
    return replace(gap, heard=tuple(n in known for n in names), held_out_gap=held)


#: Share of the heard groups' accuracy above chance that the worst group never heard must
#: lose for the homogeneous-data cause (see :func:`homogeneous_cause`). Calibrated with
#: ``bench/spoken.py --parts groups`` (baseline MLP, 3 seeds): two training voices of
#: ``spoken`` lose 41-50 % on their worst unheard voice (the unheard voices together only
#: 12-26 points), digits trained at two of five positions 63-102 %; groups drawn at
#: random (``spoken``, digits) lose 0-13 %, digits grouped by stroke weight 0-2 %.
SHARE = 0.25


def group_gap_warning(g: GroupGap) -> str | None:
    """The group-gap warning: a group more than 10 points below the other groups' samples
    and below them beyond what its size explains (95 % for all groups together)."""
    if not g.tested or g.below is None:
        return None
    k = g.groups.index(g.below)
    n, rest = g.counts[k], sum(g.counts) - g.counts[k]
    other = (g.overall * sum(g.counts) - g.accuracy[k] * n) / max(1, rest)
    if other - g.accuracy[k] <= 0.1:
        return None
    return (
        f"group gap: {g.below!r} ({n} rows) scores {g.accuracy[k]:.0%} against {other:.0%} "
        f"on the other {rest} rows, {100 * (other - g.accuracy[k]):.0f} points below: more "
        "than its size explains (95 % over all groups)"
    )


def homogeneous_cause(
    groups: GroupGap | None,
    *,
    chance: float = 0.0,
    threshold: float = 0.15,
    share: float = SHARE,
    z: float = 2.0,
) -> Cause | None:
    """The "too homogeneous data" cause, when groups never heard in training (speakers
    held out by the split) score far below the groups heard (pure).

    Far below means either of: the unheard groups together score ``threshold`` or more
    below the heard ones; or the worst unheard group loses ``share`` or more of the heard
    groups' accuracy above ``chance`` (one new speaker the network cannot hear, which an
    average over unheard speakers hides; relative to what the network learned, since a
    network at 60 % cannot lose 30 points), by ``z`` standard errors of that difference at
    least (a small group's accuracy is noisy).
    """
    from nooverfit.diagnosis import Cause

    if groups is None or groups.held_out_gap is None:
        return None
    rows = list(zip(groups.accuracy, groups.counts, groups.heard, strict=True))
    heard = [(a, n) for a, n, h in rows if h]
    worst, n_worst = min((a, n) for a, n, h in rows if not h)
    n_heard = sum(n for _, n in heard)
    acc = sum(a * n for a, n in heard) / max(1, n_heard)
    loss = acc - worst
    se = math.sqrt(acc * (1 - acc) / max(1, n_heard) + worst * (1 - worst) / max(1, n_worst))
    lost = acc > chance and loss >= share * (acc - chance) and loss >= z * se
    if groups.held_out_gap < threshold and not lost:
        return None
    return Cause(
        "homogeneous_data",
        f"Groups never seen in training (e.g. voices never heard) score "
        f"{100 * groups.held_out_gap:.0f} points below those seen ({100 * acc:.0f}%), the "
        f"worst unseen {100 * worst:.0f}%: the training data is too homogeneous; "
        "augmentation or synthesis that varies what differs between groups (speed, pitch, "
        "noise) or data from more groups closes the gap.",
    )


def with_homogeneous_cause(diagnosis: Diagnosis, audit: dict[str, Any] | None) -> Diagnosis:
    """``diagnosis`` with :func:`homogeneous_cause` first among its causes when the audit
    (``AuditReport.to_dict()``) found groups never heard in training far behind."""
    groups = (audit or {}).get("groups")
    classes = ((audit or {}).get("balance") or {}).get("classes") or ()
    chance = 1 / len(classes) if classes else 0.0
    cause = homogeneous_cause(GroupGap(**groups) if groups else None, chance=chance)
    if cause is None:
        return diagnosis
    return replace(diagnosis, causes=(cause, *diagnosis.causes))
