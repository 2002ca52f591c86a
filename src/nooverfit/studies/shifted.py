"""Test-time shifts added after training: the study's choice and its ensembles, each
evaluated on the image and its four one-pixel shifts (:mod:`nooverfit.shifts`).

As a remedy or a search option, test-time shifts cost a second training of the same
network (a configuration with ``tta`` is another run) and must win on validation, where
150 images cannot see their gain: one image is 0.67 points, and on digits' whole pool the
shifts gained about 0.3 test points (``bench/augment_digits.py``: 4 of 4 single networks
up). Here they cost no training: the trained networks of the choice and of each ensemble
candidate are evaluated with the shifts, and the shifted twin is one more candidate.

Which one is kept follows a prior, since validation cannot tell: a network trained on
shifted images (augmentation) has learned to answer the same on each shifted copy, and
averaging its answers over the copies is its prediction averaged over the very
transformations it was trained with (the test-time counterpart of the augmentation;
Simonyan & Zisserman, ICLR 2015). So the shifted twin replaces the choice unless
validation speaks against it: it must not lose seed-paired validation accuracy and must not
raise the mean validation log loss (:func:`prefer_shifts`). Networks trained without
augmentation, or already shifted, get no twin.

Pure, except :func:`shifted_twins`, which scores through the study's runner.
"""

from __future__ import annotations

from collections.abc import Sequence

from nooverfit.config import RunConfig
from nooverfit.studies.ensemble import Members, Trained, score_members, with_shifts
from nooverfit.studies.select import Score, paired_gain


def eligible(config: RunConfig) -> bool:
    """Whether a trained configuration gets a shifted twin: nooverfit's CNN, trained on
    shifted images (``augment > 0``), not already shifted."""
    return config.model == "cnn" and config.augment > 0 and not config.tta


def twin(members: Members) -> Members | None:
    """The shifted twin of ``members`` (every member :func:`eligible`), else None."""
    if members.trained or not all(eligible(c) for c in members.runs):
        return None
    return with_shifts(members)


def prefer_shifts(shifted: Score, plain: Score) -> bool:
    """Whether the shifted twin replaces ``plain``: no loss of seed-paired validation
    accuracy (mean difference >= 0) and a mean validation log loss no higher (the prior of
    the module docstring: where validation cannot tell, the shifts stay)."""
    gain, _ = paired_gain(shifted, plain)
    return gain >= -1e-12 and shifted.val_loss <= plain.val_loss


def shifted_twins(
    runner: Trained, members: Sequence[Members], epochs: Sequence[float]
) -> list[tuple[Members, Members, Score]]:
    """``(plain, shifted twin, twin's validation score)`` of each of ``members`` that has
    a twin (:func:`twin`); ``epochs`` are each one's mean epochs (its ``Score.epochs``)."""
    out = []
    for m, e in zip(members, epochs, strict=True):
        t = twin(m)
        if t is not None:
            out.append((m, t, score_members(runner, t, e)))
    return out
