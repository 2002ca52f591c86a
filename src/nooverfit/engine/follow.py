"""When a run of a study has trained enough: runs whose length follows their validation
curve, and the hook through which a study stops runs that are clearly behind.

`Follow`: a run stops once its validation curve is far enough past its best to be
diagnosed: ``factor`` times the epochs it took to reach its lowest validation loss, and at
least ``min_epochs`` epochs and ``min_steps`` optimizer steps. An overfitting baseline then
keeps as many epochs after its best as before it (the report shows the rise), and a run
still improving trains to its epoch budget. The weights kept are the last epoch's, as for
a run that completed its epochs (a run with ``early_stopping`` keeps its criterion's best
epoch, as always); its history says ``stop_reason == "curve"``.

`Judge`: called by the fused engine after every epoch with the curves of the configs of a
group; the configs it returns stop at once (``stop_reason == "halved"``). It sees only its
group, so its decisions depend on the group's configs, never on timing or threads.

`Policy` bundles both for :func:`nooverfit.engine.run_configs`. The sequential engine
follows curves (through ``fit``'s epoch callback) but has no groups to judge.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.sequential import Factory, RunResult, run_sequential
from nooverfit.stopping import StopReason


@dataclass(frozen=True)
class Follow:
    """Stop a run once its validation curve is far enough past its best to diagnose.

    Attributes:
        factor: epochs trained over epochs to the best validation loss (1-based).
        min_epochs: the fewest epochs a followed run trains.
        min_steps: the fewest optimizer steps it takes (a small training set has few
            batches an epoch, and its first epochs say little).
    """

    factor: float = 2.0
    min_epochs: int = 10
    min_steps: int = 200

    def __post_init__(self) -> None:
        if not self.factor >= 1:
            raise ValueError(f"factor must be >= 1, got {self.factor!r}")

    def least(self, batches: int) -> int:
        """The fewest epochs of a run with ``batches`` optimizer steps an epoch."""
        return max(self.min_epochs, math.ceil(self.min_steps / max(1, batches)))

    def enough(self, epochs: int, best_epoch: int, batches: int) -> bool:
        """Whether a run that trained ``epochs`` epochs, lowest validation loss at
        ``best_epoch`` (0-based), ``batches`` steps an epoch, has curve enough."""
        wanted = max(self.least(batches), math.ceil(self.factor * (best_epoch + 1)))
        return epochs >= wanted


def follows(config: RunConfig) -> bool:
    """Whether a run of ``config`` may stop at its curve: not an annealed one, whose
    schedule is set by its epochs (:mod:`nooverfit.annealing`)."""
    return not config.cosine


class Tracker:
    """One run's lowest validation loss so far, epoch by epoch, against a :class:`Follow`."""

    def __init__(self, follow: Follow, batches: int) -> None:
        self.follow, self.batches = follow, batches
        self.low, self.best, self.epochs = math.inf, 0, 0

    def update(self, val_loss: float) -> bool:
        """Record the next epoch's validation loss; True once the run has curve enough."""
        if val_loss < self.low:  # NaN never counts as a best
            self.low, self.best = val_loss, self.epochs
        self.epochs += 1
        return self.follow.enough(self.epochs, self.best, self.batches)


class Judge(Protocol):
    """Picks the configs of a group to stop as clearly behind (successive halving)."""

    def __call__(
        self,
        epoch: int,
        configs: Sequence[RunConfig],
        curves: Sequence[Sequence[float]],
        running: Sequence[int],
    ) -> list[int]:
        """Args:
            epoch: the epoch just finished (0-based).
            configs: every config of the group.
            curves: each config's validation accuracy per epoch so far.
            running: the indices of the configs still training.

        Returns:
            Indices (among ``running``) of the configs to stop now.
        """
        ...


@dataclass(frozen=True)
class Policy:
    """How the runs of one :func:`~nooverfit.engine.run_configs` call end besides their
    epochs and early stopping.

    Attributes:
        follow: stop each run once its curve is diagnosable (None: train all epochs).
        judge: stop clearly-behind configs of a fused group (None: never).
    """

    follow: Follow | None = None
    judge: Judge | None = None


def run_followed(
    configs: Sequence[RunConfig],
    datas: Sequence[SplitData],
    *,
    follow: Follow | None,
    factory: Factory | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """:func:`~nooverfit.engine.sequential.run_sequential`, each run following its curve
    (through ``fit``'s epoch callback) when ``follow`` is given."""
    if follow is None:
        yield from run_sequential(configs, datas, factory=factory)
        return
    batches = {
        c.key: math.ceil(
            len(d.train_index(train_size=c.train_size, train_per_class=c.train_per_class))
            / c.batch_size
        )
        for c, d in zip(configs, datas, strict=True)
    }

    def callback(config: RunConfig) -> Callable[[int, dict[str, float]], bool]:
        tracker = Tracker(follow, batches[config.key])
        if not follows(config):
            return lambda epoch, logs: False
        return lambda epoch, logs: tracker.update(logs["val_loss"])

    for i, result in run_sequential(configs, datas, factory=factory, epoch_callback=callback):
        yield i, _relabel(result)


def _relabel(result: RunResult) -> RunResult:
    """A run the follower stopped, as ended by its curve (``fit`` calls any stop a
    callback asked for "requested"), or as completed when that was its last epoch anyway
    (as the fused engine records it)."""
    history = result.history
    if history.stop_reason != StopReason.REQUESTED.value:
        return result
    full = len(history) >= result.config.epochs
    reason = StopReason.COMPLETED if full else StopReason.CURVE
    history = dataclasses.replace(history, stop_reason=reason.value)
    return dataclasses.replace(result, history=history)
