"""The sequential engine: one `fit` per config, the reference the fused engine must match;
and `RunResult`, what every engine returns for one config."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.feed import DataArg, per_run
from nooverfit.history import History
from nooverfit.models import network_for
from nooverfit.seeding import seeded
from nooverfit.train import Callback, fit

#: ``factory(config) -> nn.Module``: a user's own network for a config.
Factory = Callable[[RunConfig], nn.Module]


@dataclass(frozen=True, eq=False)
class RunResult:
    """One finished run.

    Attributes:
        config: the configuration trained.
        history: its per-epoch curves.
        state: the kept weights (best epoch under early stopping, else the last), on CPU,
            with the keys of :func:`nooverfit.models.build_model`'s network.
        engine: ``"sequential"`` or ``"fused"``.
    """

    config: RunConfig
    history: History
    state: dict[str, torch.Tensor]
    engine: str


def make_model(config: RunConfig, data: SplitData, *, factory: Factory | None = None) -> nn.Module:
    """The network of ``config``: ``factory(config)`` when given, else :func:`build_model`;
    either way initialized under ``config.init_seed`` with the global random state untouched."""
    if factory is None:
        return network_for(config, data)
    with seeded(config.init_seed):
        return factory(config)


def run_sequential(
    configs: Sequence[RunConfig],
    data: DataArg,
    *,
    epoch_callback: Callable[[RunConfig], Callback] | None = None,
    factory: Factory | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """Train each config in turn, yielding ``(index, result)`` as soon as it is done.

    Args:
        configs: the runs.
        data: one split for all runs, or one per run.
        epoch_callback: ``epoch_callback(config)`` gives a per-epoch callback for ``fit``.
        factory: builds a user's own network for each config (see :func:`make_model`).
    """
    datas = per_run(data, len(configs))
    for i, (config, split) in enumerate(zip(configs, datas, strict=True)):
        model = make_model(config, split, factory=factory)
        callbacks = [epoch_callback(config)] if epoch_callback else []
        history = fit(model, split, config, callbacks=callbacks)
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        yield i, RunResult(config, history, state, "sequential")
