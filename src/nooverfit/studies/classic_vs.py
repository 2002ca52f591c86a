"""The recommended network against the classic models fitted on its own splits
(:mod:`nooverfit.studies.classic`): the comparison the report and the summary print.

Values in, comparison out: the record :func:`nooverfit.studies.classic.references` wrote
and the network's test accuracy per seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nooverfit.studies.evidence import Interval


@dataclass(frozen=True)
class ClassicComparison:
    """The recommended network against the classic model a user choosing on validation
    would take, on the same test splits.

    Attributes:
        model: that model's name.
        test: its mean test accuracy.
        diff: mean of the seed-paired test differences, network - model.
        per_seed: those differences, in seed order.
        better_on_test: the classic models whose mean test accuracy is above the network's
            as the report rounds them (one above it by less than the rounding is level).
        interval: the 95 % t interval of ``diff`` over the seeds (its bounds NaN with one
            seed), whose reading :attr:`within_noise` gives.
        tied_on_test: the other classic models whose mean test accuracy is the network's,
            as the report rounds them (below or above it unrounded).
        tied_on_val: the other classic models whose mean validation accuracy is
            ``model``'s (which is the first of them in the record's order), in that order.
    """

    model: str
    test: float
    diff: float
    per_seed: tuple[float, ...]
    better_on_test: tuple[str, ...]
    interval: Interval
    tied_on_test: tuple[str, ...] = ()
    tied_on_val: tuple[str, ...] = ()

    @property
    def within_noise(self) -> bool:
        """Whether the interval includes 0 (one seed: no interval to say otherwise)."""
        return self.interval.within_noise


def against(found: Mapping[str, Any], network: Sequence[float]) -> ClassicComparison | None:
    """The recommended network's test accuracy against the classic model best on
    validation.

    Args:
        found: :func:`nooverfit.studies.classic.references`' record.
        network: the recommended network's test accuracy per seed, in the same seed order.

    Returns:
        The comparison, or None when no classic model was fitted.
    """
    best = found.get("best")
    if best is None:
        return None
    from nooverfit._words import exact, pct
    from nooverfit.studies.evidence import t_interval

    model = found["models"][best]
    diffs = [exact(n - m) for n, m in zip(network, model["test"], strict=True)]
    mean = float(np.mean(network))
    # level as the table rounds them: "ties it" and "Above the network's mean test
    # accuracy" are never said of a model the table shows at the network's accuracy
    level = {k for k, m in found["models"].items() if pct(m["test_mean"]) == pct(mean)}
    return ClassicComparison(
        model=best,
        test=model["test_mean"],
        diff=exact(float(np.mean(diffs))),
        per_seed=tuple(diffs),
        better_on_test=tuple(
            sorted(
                k
                for k, m in found["models"].items()
                if exact(m["test_mean"] - mean) > 0 and k not in level
            )
        ),
        interval=t_interval(diffs, bounds=(-1.0, 1.0)),
        tied_on_test=tuple(sorted(k for k in level if k != best)),
        tied_on_val=tuple(
            k
            for k, m in found["models"].items()
            if k != best
            and "val_mean" in m
            and "val_mean" in model
            and exact(m["val_mean"] - model["val_mean"]) == 0
        ),
    )
