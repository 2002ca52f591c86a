"""The remedies' validation curves and the capacity curve, built from the study's
variants: which knob each remedy turns, and where the baseline sits on its axis. Pure.
"""

from __future__ import annotations

from nooverfit.studies.curves import ValidationCurve, validation_curve
from nooverfit.studies.result import Variant


def remedy_curves(
    base: Variant, by_stage: dict[str, list[Variant]]
) -> tuple[ValidationCurve, ...]:
    """The validation curve of each remedy with a knob, over its grid (``by_stage``:
    remedy -> its variants), the baseline's point added where the knob's off value is
    the baseline (dropout 0, an EMA of one step...)."""
    curves = []
    l2 = by_stage.get("l2", [])
    decay = "weight_decay" if any(v.config.weight_decay > 0 for v in l2) else "l2"
    knobs = (
        (decay, "l2"),
        ("dropout", "dropout"),
        ("label_smoothing", "label_smoothing"),
        ("augment", "augment"),
        ("cutout", "cutout"),
        ("mixup", "mixup"),
        ("ema_window", "ema"),
        ("annealed_augment", "cosine"),  # augmentation strength at a cosine-annealed rate
        ("linear_l2", "linear"),  # the linear rung's L2 penalty (0: none)
    )
    for param, stage in knobs:
        variants = by_stage.get(stage, [])
        if not variants:
            continue
        if param == "ema_window":  # the decay as the steps it averages: 1 / (1 - decay)
            pts = [(float(f"{1 / (1 - v.config.ema):.6g}"), v.score) for v in variants]
            pts.insert(0, (1.0, base.score))  # the last iterate alone
        elif param == "annealed_augment":  # its first point, cosine alone, is strength 0
            pts = [(v.config.augment, v.score) for v in variants]
        elif param == "linear_l2":  # no baseline point: the baseline has hidden layers
            pts = [(v.config.l2, v.score) for v in variants]
        else:
            pts = [(getattr(v.config, param), v.score) for v in variants]
        if param in ("dropout", "label_smoothing", "augment", "mixup", "cutout"):  # 0: baseline
            pts.insert(0, (0.0, base.score))
        curves.append(
            validation_curve(
                param,
                [p for p, _ in pts],
                [s for _, s in pts],
                [s.accuracy_std for _, s in pts],
                ties_stronger=param == "linear_l2",  # as the rung's choice (select.best_penalized)
            )
        )
    return tuple(curves)


def capacity_curve(base: Variant, variants: list[Variant]) -> ValidationCurve | None:
    """Validation accuracy over the width, the baseline's among the capacity remedy's
    ``variants`` (None without them)."""
    if not variants:
        return None
    pts = [(float(v.config.width), v.score) for v in variants] + [
        (float(base.config.width), base.score)
    ]
    return validation_curve(
        "width",
        [p for p, _ in pts],
        [s for _, s in pts],
        [s.accuracy_std for _, s in pts],
        stronger="down",
    )
