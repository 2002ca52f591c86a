"""The regularization search space and how a trial samples a `RunConfig` from it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nooverfit.config import RunConfig, check_dropout
from nooverfit.stopping import earliest_stop, parse_criterion

if TYPE_CHECKING:
    import optuna

#: Stopping criteria a trial chooses from (Prechelt's GL, PQ, UP and Keras patience).
CRITERIA = ("patience:10", "gl:5", "pq:0.5", "up:3")


@dataclass(frozen=True)
class Space:
    """Ranges the tuner samples; a range whose low equals its high pins the value.

    Args:
        l2: coupled L2 lambda range, sampled log-uniformly (default 1e-6 to 1e-1).
        dropout: dropout rate range, uniform in [low, high] (default 0 to 0.6).
        batchnorm: batch-norm choices (default both off and on).
        augment: augmentation strength range, uniform (default 0 to 0.5).
        width: hidden units or first-block channels, log-uniform integers (default 32-512).
        depth: hidden layers or conv blocks, integers (default 1-3).
        early_stopping: stopping criteria to choose from (default :data:`CRITERIA`); a
            trial of fewer epochs than one needs to fire is not offered it
            (:meth:`stopping_within`).
        lr: learning-rate range, log-uniform (default 1e-4 to 1e-2).
    """

    l2: tuple[float, float] = (1e-6, 1e-1)
    dropout: tuple[float, float] = (0.0, 0.6)
    batchnorm: tuple[bool, ...] = (False, True)
    augment: tuple[float, float] = (0.0, 0.5)
    width: tuple[int, int] = (32, 512)
    depth: tuple[int, int] = (1, 3)
    early_stopping: tuple[str, ...] = CRITERIA
    lr: tuple[float, float] = (1e-4, 1e-2)

    def __post_init__(self) -> None:
        for name in ("l2", "lr"):
            low, high = getattr(self, name)
            if not (0 < low <= high and math.isfinite(high)):
                raise ValueError(f"{name} range must satisfy 0 < low <= high, got {(low, high)}")
        for name in ("width", "depth"):
            low, high = getattr(self, name)
            if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
                raise ValueError(
                    f"{name} range must be integers with 1 <= low <= high, got {(low, high)}"
                )
        check_dropout(self.dropout[0], name="dropout low")
        check_dropout(self.dropout[1], name="dropout high")
        if not 0 <= self.augment[0] <= self.augment[1] <= 1:
            raise ValueError(f"augment range must lie in [0, 1], got {self.augment}")
        if self.dropout[0] > self.dropout[1]:
            raise ValueError(f"dropout range must satisfy low <= high, got {self.dropout}")
        if not self.batchnorm or not self.early_stopping:
            raise ValueError("batchnorm and early_stopping need at least one choice each")
        for spec in self.early_stopping:
            parse_criterion(spec)

    def stopping_within(self, epochs: int) -> tuple[str, ...]:
        """The stopping criteria a run of ``epochs`` epochs chooses from: those that can stop
        it before its last epoch (:func:`~nooverfit.stopping.earliest_stop` below
        ``epochs``). Any other only keeps the best epoch's weights, as every criterion does,
        so it is the same configuration under another name, whose importance would be noise
        (``patience:10`` over 5 epochs). Where none can, the one that would fire first:
        a single choice, which pins it."""
        fire = {spec: earliest_stop(spec) for spec in self.early_stopping}
        within = tuple(spec for spec in self.early_stopping if fire[spec] < epochs)
        return within or (min(self.early_stopping, key=fire.__getitem__),)


def suggest_config(trial: optuna.trial.BaseTrial, space: Space, base: RunConfig) -> RunConfig:
    """Sample one configuration: ``base`` with the searched fields replaced.

    Parameter names in the study are the `RunConfig` field names, so ``trial.params``
    reads as a config (``{"l2": 3e-4, "dropout": 0.2, ...}``).
    """
    return base.replace(
        l2=trial.suggest_float("l2", *space.l2, log=True),
        dropout=trial.suggest_float("dropout", *space.dropout),
        batchnorm=trial.suggest_categorical("batchnorm", list(space.batchnorm)),
        augment=trial.suggest_float("augment", *space.augment),
        width=trial.suggest_int("width", *space.width, log=True),
        depth=trial.suggest_int("depth", *space.depth),
        early_stopping=trial.suggest_categorical(
            "early_stopping", list(space.stopping_within(base.epochs))
        ),
        lr=trial.suggest_float("lr", *space.lr, log=True),
        label=f"trial {trial.number}",
    )


def config_from_params(params: dict[str, object], base: RunConfig, *, label: str) -> RunConfig:
    """Rebuild the configuration a finished trial ran from its ``params``."""
    return RunConfig.from_dict({**base.to_dict(), **params, "label": label})
