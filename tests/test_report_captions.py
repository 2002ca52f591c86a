"""The blend's figure captions against the recommendation: the share the linear rung's
curve marks is said to be (or not to be) the one recommended."""

from __future__ import annotations

import dataclasses

from nooverfit.report_captions import captions
from nooverfit.studies.curves import ValidationCurve


def _share_curve(chosen: float, val: tuple[float, ...]) -> ValidationCurve:
    return ValidationCurve(
        param="linear_share",
        values=(0.0, 0.25, 0.5, 0.75),
        train=(0.95, 0.94, 0.93, 0.9),
        train_std=(0.01,) * 4,
        val=val,
        val_std=(0.01,) * 4,
        chosen=chosen,
        regions=("fit",) * 4,
        stronger="up",
    )


def _with_share_curve(result, curve):
    kept = [c for c in result.validation_curves if c.param != "linear_share"]
    return dataclasses.replace(result, validation_curves=(*kept, curve))


def test_the_share_caption_says_no_blend_is_recommended_where_the_curve_marks_one(tiny_study):
    result, _ = tiny_study
    assert " at " not in result.recommended.name  # the tiny study recommends no blend
    # the curve's best mean, 0.5, did not beat the choice by the blend's margin
    curve = _share_curve(0.5, (0.90, 0.90, 0.91, 0.89))
    text = captions(_with_share_curve(result, curve))["validation_linear_share"]
    assert text.startswith("Chosen the linear rung's share of the blend = 0.5")
    assert "No blend is recommended" in text
    assert "share 0" in text
