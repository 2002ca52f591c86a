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
averaging its answers over the copies is its prediction averaged over the transformations
it was trained with (the test-time counterpart of the augmentation; Simonyan & Zisserman,
ICLR 2015). So the shifted twin replaces the choice unless it loses seed-paired validation
accuracy (:func:`prefer_shifts`). Validation log loss is no judge here: the average over
copies is less confident, and on digits' whole pool (seed 3, ``bench/small_data.py``) it
raised every network's validation log loss (0.037 to 0.103 nats for the choice) while
keeping or raising accuracy (test 99.33 to 99.44 %). Networks whose augmentation shifts
by less than half a pixel (one pixel is then outside what they were trained on: digits at
``augment=0.5``, test 96.7 to 94.9 % with the shifts), or that are already shifted, get no
twin.

Pure, except :func:`shifted_twins`, which scores through the study's runner.
"""

from __future__ import annotations

from collections.abc import Sequence

from nooverfit.config import RunConfig
from nooverfit.studies.ensemble import Members, Trained, score_members, with_shifts
from nooverfit.studies.select import Score, paired_gain

#: the least largest shift (pixels) of the training augmentation that makes a network
#: eligible for one-pixel test-time shifts
LEAST_SHIFT = 0.5


def eligible(config: RunConfig, side: int) -> bool:
    """Whether a trained configuration gets a shifted twin: nooverfit's CNN, not already
    shifted, trained on images of ``side`` pixels (the shorter side) shifted by up to at
    least :data:`LEAST_SHIFT` pixels (:func:`~nooverfit.data.augment.affine_images` shifts
    by up to ``0.1 * augment`` of the size)."""
    return config.model == "cnn" and not config.tta and 0.1 * config.augment * side >= LEAST_SHIFT


def twin(members: Members, side: int) -> Members | None:
    """The shifted twin of ``members`` (every member :func:`eligible`), else None."""
    if members.trained or not all(eligible(c, side) for c in members.runs):
        return None
    return with_shifts(members)


def prefer_shifts(shifted: Score, plain: Score) -> bool:
    """Whether the shifted twin replaces ``plain``: no loss of seed-paired validation
    accuracy (mean difference >= 0; the prior of the module docstring: where validation
    cannot tell, the shifts stay)."""
    gain, _ = paired_gain(shifted, plain)
    return gain >= -1e-12


def shifted_twins(
    runner: Trained, members: Sequence[Members], epochs: Sequence[float]
) -> list[tuple[Members, Members, Score]]:
    """``(plain, shifted twin, twin's validation score)`` of each of ``members`` that has
    a twin (:func:`twin`); ``epochs`` are each one's mean epochs (its ``Score.epochs``)."""
    out = []
    for m, e in zip(members, epochs, strict=True):
        shape = runner.split_data(m.runs[0].replace(seed=runner.seeds[0])).in_shape
        t = twin(m, min(shape[-2:]))
        if t is not None:
            out.append((m, t, score_members(runner, t, e)))
    return out
