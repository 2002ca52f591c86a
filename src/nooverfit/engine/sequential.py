"""The sequential engine: one `fit` per config, the reference the fused engine must match."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.result import RunResult
from nooverfit.models import build_model
from nooverfit.train import Callback, fit


def run_sequential(
    configs: Sequence[RunConfig],
    data: SplitData,
    *,
    epoch_callback: Callable[[RunConfig], Callback] | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """Train each config in turn, yielding ``(index, result)`` as soon as it is done."""
    for i, config in enumerate(configs):
        model = build_model(config, data.in_shape, data.num_classes)
        callbacks = [epoch_callback(config)] if epoch_callback else []
        history = fit(model, data, config, callbacks=callbacks)
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        yield i, RunResult(config, history, state, "sequential")
