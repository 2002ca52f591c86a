"""The pseudo-labels remedy: unlabeled pool samples, labelled by the study's choice.

A study that trains on a subset of its pool (``train_per_class``, ``train_size``) leaves
the rest of the pool unused. After the choice so far is made (an ensemble, a combination,
a remedy alone), its network labels those samples; each confidence threshold keeps the
samples it labels with at least that probability, and a network of the choice's
configuration (the best member of an ensemble) trains from scratch on the labelled subset
plus them (self-training: Lee, "Pseudo-Label", ICML 2013 workshop; with the choice's own
noise, augmentation and dropout, the "noisy student" of Xie et al., CVPR 2020). The
threshold is the remedy's knob, chosen on validation; the students of every threshold are
also averaged (an ensemble, trained at no extra cost). The best of them replaces the choice
only where an ensemble would (:func:`~.select.admissible`: more accurate beyond the seeds'
noise, or a lower log loss at no loss of accuracy).

Validation and test samples are never labelled or trained on
(:func:`nooverfit.data.pool.check_unlabeled`), so the selection and the one test stay as
they were. Each student trains for about as many optimizer steps as its configuration did
on the subset (:data:`STEPS`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.pool import unlabeled_index, with_pseudo_labels
from nooverfit.studies.curves import validation_curve
from nooverfit.studies.ensemble import Members, score_members
from nooverfit.studies.result import RemedyOutcome, Variant
from nooverfit.studies.select import admissible, best, improves

if TYPE_CHECKING:
    from nooverfit.studies.plan import UnlabeledStage
    from nooverfit.studies.session import StudySession

#: a student's optimizer steps, as a multiple of its configuration's on the subset alone
STEPS = 1.0
#: rows the teacher labels per forward pass
_CHUNK = 1024


@dataclass(frozen=True)
class PseudoLabels:
    """The teacher's labels of one seed's unlabeled pool samples.

    Attributes:
        index: the unlabeled samples (indices into the data set), ``(M,)``.
        labels: the teacher's class for each, ``(M,)``.
        confidence: its probability of that class, ``(M,)``.
    """

    index: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray

    def confident(self, threshold: float) -> tuple[np.ndarray, np.ndarray]:
        """The samples labelled with probability >= ``threshold``, and their labels."""
        keep = self.confidence >= threshold
        return self.index[keep], self.labels[keep]


def pseudo_labels(teacher: nn.Module, x: torch.Tensor, index: np.ndarray) -> PseudoLabels:
    """Label samples ``index`` of ``x`` with ``teacher``'s most probable class (eval mode).

    Args:
        teacher: a network returning logits (or log-probabilities) ``(B, classes)``.
        x: every sample's features, ``(N, ...)``.
        index: the samples to label.
    """
    teacher.eval()
    probs = []
    with torch.no_grad():
        rows = torch.as_tensor(index, device=x.device)
        for start in range(0, len(rows), _CHUNK):
            probs.append(teacher(x[rows[start : start + _CHUNK]]).softmax(-1).cpu())
    p = torch.cat(probs) if probs else torch.zeros(0, 1)
    confidence, labels = p.max(-1) if len(p) else (torch.zeros(0), torch.zeros(0))
    return PseudoLabels(
        index=np.asarray(index, dtype=np.int64),
        labels=labels.numpy().astype(np.int64),
        confidence=confidence.numpy().astype(np.float64),
    )


def student_config(base: RunConfig, threshold: float, *, labelled: int, pool: int) -> RunConfig:
    """The configuration trained on ``base``'s subset plus the pseudo-labelled samples.

    Its epochs give about :data:`STEPS` times ``base``'s optimizer steps on a training set
    the size of the whole pool (the most it can hold), so a larger set costs no more steps.

    Args:
        base: the choice's configuration (with its training subset).
        threshold: the least confidence of a pseudo-label, in (0, 1].
        labelled: samples in ``base``'s training subset.
        pool: samples in the training pool (labelled and unlabeled).
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"a pseudo-label threshold must be in (0, 1], got {threshold!r}")
    steps = STEPS * base.epochs * math.ceil(labelled / base.batch_size)
    epochs = max(1, math.ceil(steps / math.ceil(pool / base.batch_size)))
    return base.replace(
        train_size=None,
        train_per_class=None,
        pseudo=float(threshold),
        epochs=epochs,
        init=0,
        label=f"pseudo-labels >= {threshold:g}",
    )


Teacher = Callable[[Variant, int], nn.Module]


def run_unlabeled(
    stage: UnlabeledStage, session: StudySession, found: Any, teacher: Teacher
) -> None:
    """Label the unused pool with the choice so far, train a student per threshold on every
    seed, and record the remedy's row, its validation curve and the new choice.

    Args:
        stage: the thresholds.
        session: the study's data and runs (each student's data is registered there).
        found: the findings so far, a :class:`~.stages.Findings` (the choice is
            ``found.recommended``; not imported here, since :mod:`.stages` imports this).
        teacher: the trained network of a variant on a seed (an ensemble's: its average).
    """
    choice = found.recommended
    # measured on images only (bench/small_data.py); tabular and audio data keep the choice
    if choice is None or not stage.thresholds or session.dataset.kind != "image":
        return
    # A transferred network has another architecture: its student is the best
    # configuration trained from scratch.
    scratch = choice.stage != "transfer"
    base = choice.config if scratch else (found.best_scratch or found.base).config
    # each seed's training subset, drawn once for the labelling and the students' data
    trains = {s: np.asarray(t, dtype=np.int64) for s, t in session.train_indices(base).items()}
    labels: dict[int, PseudoLabels] = {}
    for seed in session.seeds:
        data = session.split_data(base.replace(seed=seed))
        train = trains[seed]
        rest = unlabeled_index(data.split, train)
        if len(rest) == 0:  # the subset is the whole pool: nothing to label
            return
        labels[seed] = pseudo_labels(teacher(choice, seed), data.x, rest)
    first = session.data[session.seeds[0]]
    pool = len(first.split.pool)
    labelled = pool - len(labels[session.seeds[0]].index)
    students = [student_config(base, t, labelled=labelled, pool=pool) for t in stage.thresholds]
    kept: dict[str, list[int]] = {}
    right: dict[str, list[float | None]] = {}
    for seed, pl in labels.items():
        data, train = session.split_data(base.replace(seed=seed)), trains[seed]
        for c in students:
            index, y = pl.confident(c.pseudo)
            session.derived[c.replace(seed=seed).key] = with_pseudo_labels(data, train, index, y)
            kept.setdefault(f"{c.pseudo:g}", []).append(len(index))
            # For the report only, never for a choice: how often the labels are right.
            truth = session.dataset.y[index]
            right.setdefault(f"{c.pseudo:g}", []).append(
                float((truth == y).mean()) if len(y) else None
            )
    session.expect(len(students) * len(session.seeds))
    session.train(students)
    variants = [
        session.variant(c, "pseudo_labels", found.base.config, name=c.label) for c in students
    ]
    candidates = [*variants, *_students_ensemble(session, found, variants)]
    pick = candidates[best([v.score for v in candidates])]
    found.outcomes.append(
        RemedyOutcome(
            remedy="pseudo_labels",
            chosen=pick,
            helped=improves(pick.score, found.base.score),
            delta=pick.score.val_accuracy - found.base.score.val_accuracy,
            gap_delta=pick.score.gap - found.base.score.gap,
        )
    )
    if len(variants) >= 2:
        scores = [v.score for v in variants]
        curve = validation_curve(
            "pseudo_threshold",
            [float(c.pseudo) for c in students],
            scores,
            [s.accuracy_std for s in scores],
            stronger="down",  # a lower threshold trains on more (and noisier) labels
        )
        found.validation_curves = (*found.validation_curves, curve)
    # as an ensemble replaces the choice (select.admissible): more accurate beyond noise,
    # or a lower log loss at no loss of accuracy (on 150 validation images the students and
    # their teacher often tie on accuracy: seed 0 of bench/small_data.py at 10 per class)
    replaced = admissible(pick.score, choice.score)
    found.extras["pseudo_labels"] = {
        "teacher": choice.name,
        "unlabeled": [len(pl.index) for pl in labels.values()],
        "kept": kept,
        "label_accuracy": right,
        "student": pick.name,
        "recommended": replaced,
    }
    if replaced:
        found.recommended = pick


def _students_ensemble(
    session: StudySession, found: Any, variants: list[Variant]
) -> list[Variant]:
    """The average of every threshold's student (none for fewer than two): their labels
    differ, so their errors do; trains nothing."""
    if len(variants) < 2:
        return []
    members = Members(
        tuple(v.config for v in variants),
        tuple(v.name for v in variants),
        title=f"{len(variants)} pseudo-label students",
    )
    epochs = sum(v.score.epochs for v in variants) / len(variants)
    found.ensembles[members.name] = members
    runs = tuple(key for v in variants for key in v.runs)
    s = score_members(session, members, epochs)
    return [Variant(members.name, "ensemble", members.configs[0], s, variants[0].verdict, runs)]
