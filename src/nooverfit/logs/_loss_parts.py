"""A loss logged in parts, one a column, its total in none (Ultralytics' ``results.csv``:
``train/box_loss``, ``train/cls_loss``, ``train/dfl_loss`` and ``val/box_loss``, ...):
the diagnosis needs one training and one validation loss, their sums."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from nooverfit.logs._names import canonical

#: A loss logged in parts, one a column, its total in none: Ultralytics' ``train/box_loss``,
#: ``train/cls_loss``, ``train/dfl_loss`` and ``val/box_loss``, ... (each already weighted
#: by its gain: their sum is the loss optimized).
_PART = re.compile(r"(val_)?([a-z0-9]+)_loss")


def loss_parts(found: Iterable[str], taken: Iterable[str]) -> dict[str, list[str]]:
    """Columns whose sum is ``loss`` and ``val_loss`` where neither is among the targets
    already ``taken``: two or more losses logged apart on both sides under the same names
    (``train/box_loss`` and ``val/box_loss``, ...), as ``{target: [logged, ...]}`` (the
    parts logged on both sides only, in the same order). Empty for any other log."""
    if {"loss", "val_loss"} & set(taken):
        return {}
    sides: dict[str, dict[str, str]] = {"loss": {}, "val_loss": {}}
    for logged in found:
        name = canonical(logged)
        m = _PART.fullmatch(name.target) if name is not None and name.priority == 1 else None
        if m:
            sides["val_loss" if m.group(1) else "loss"].setdefault(m.group(2), logged)
    both = [part for part in sides["loss"] if part in sides["val_loss"]]
    if len(both) < 2:
        return {}
    return {target: [parts[p] for p in both] for target, parts in sides.items()}


def summed(
    rows: list[Mapping[str, float]], parts: Mapping[str, list[str]]
) -> tuple[list[Mapping[str, float]], dict[str, str], str]:
    """``rows`` with a column for each sum of :func:`loss_parts`'s ``parts`` (NaN where a
    part is missing), ``{target: its column}`` and a note saying what was summed."""
    names = {target: " + ".join(logged) for target, logged in parts.items()}
    out: list[Mapping[str, float]] = [
        {
            **row,
            **{names[t]: math.fsum(row.get(c, math.nan) for c in cs) for t, cs in parts.items()},
        }
        for row in rows
    ]
    note = (
        f"no loss column: loss read as the sum {names['loss']}, val_loss as {names['val_loss']} "
        "(the losses logged apart, each weighted as the run optimized them; pass --train-col "
        "and --val-col to read one part)"
    )
    return out, names, note
