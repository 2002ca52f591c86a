"""A validation curve whose chosen value is not the setting the remedies table shows for
the same knob (dropout 0 chosen on the curve; the row, a remedy's best setting other than
the baseline's, dropout 0.3) says so in its caption, so the two agree."""

from __future__ import annotations

import dataclasses

from nooverfit.plots.study import curve_row_note
from nooverfit.report import captions


def _with_curve(result, param, chosen):
    """``result`` with its remedy for ``param`` set to 0.3 and a curve of ``param`` that
    chose ``chosen``."""
    remedies = list(result.remedies)
    k = next(i for i, o in enumerate(remedies) if o.remedy == param)
    chosen_variant = dataclasses.replace(
        remedies[k].chosen, config=remedies[k].chosen.config.replace(**{param: 0.3})
    )
    remedies[k] = dataclasses.replace(remedies[k], chosen=chosen_variant)
    curve = next(c for c in result.validation_curves if c.param in ("dropout", "l2", "mixup"))
    values = (0.0, 0.1, 0.3)
    curve = dataclasses.replace(
        curve,
        param=param,
        values=values,
        train=(1.0,) * 3,
        train_std=(0.0,) * 3,
        val=(0.9, 0.85, 0.8),
        val_std=(0.01,) * 3,
        chosen=chosen,
        regions=("fit",) * 3,
        halved=(),
    )
    others = [c for c in result.validation_curves if c.param != param]
    return dataclasses.replace(result, remedies=remedies, validation_curves=[*others, curve])


def test_a_curve_that_chose_the_baseline_says_which_setting_the_row_shows(tiny_study):
    result, _ = tiny_study
    assert result.baseline.config.dropout == 0
    odd = _with_curve(result, "dropout", 0.0)
    caption = captions(odd)["validation_dropout"]
    assert caption.startswith("Chosen dropout rate = 0 (")
    assert (
        "The remedies table's dropout rate row shows its best setting other than the "
        "baseline's, 0.3; the curve's 0 is the baseline's own value" in caption
    )
    agreeing = _with_curve(result, "dropout", 0.3)
    assert curve_row_note(agreeing, agreeing.validation_curves[-1]) is None
    assert "remedies table" not in captions(agreeing)["validation_dropout"]


def test_a_weight_average_curve_that_chose_one_step_names_the_rows_decay(tiny_study):
    """The CNN study's weight-average figure chose 1 step (no averaging, the baseline's
    own), while the remedies table's ema row showed weight average=0.99; the caption said
    nothing, as the curve's knob (steps, 1 / (1 - decay)) is no config field."""
    result, _ = tiny_study
    assert result.baseline.config.ema == 0
    remedies = list(result.remedies)
    row = dataclasses.replace(
        remedies[0].chosen,
        name="weight average=0.99",
        config=result.baseline.config.replace(ema=0.99, label="weight average=0.99"),
    )
    remedies[0] = dataclasses.replace(remedies[0], remedy="ema", chosen=row)
    curve = dataclasses.replace(
        result.validation_curves[0],
        param="ema_window",
        values=(1.0, 100.0, 1000.0),
        train=(1.0,) * 3,
        train_std=(0.0,) * 3,
        val=(0.9, 0.89, 0.88),
        val_std=(0.01,) * 3,
        chosen=1.0,
        regions=("fit",) * 3,
        halved=(),
    )
    odd = dataclasses.replace(result, remedies=remedies, validation_curves=(curve,))
    assert curve_row_note(odd, curve) == (
        "The remedies table's weight average row shows its best setting other than the "
        "baseline's, 100 steps (weight average=0.99); the curve's 1 is the baseline's own "
        "value: no setting of it beat the baseline."
    )
    caption = captions(odd)["validation_ema_window"]
    assert "100 steps (weight average=0.99)" in caption
    assert "try smaller" not in caption  # 1 step is no averaging: nothing below it
    agreeing = dataclasses.replace(curve, chosen=100.0, val=(0.88, 0.9, 0.89))
    assert curve_row_note(odd, agreeing) is None
