"""`run_configs`: hand a list of configs to an engine and collect the results in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.result import RunResult
from nooverfit.engine.sequential import run_sequential

ENGINES = ("sequential",)


def run_configs(
    configs: Sequence[RunConfig],
    data: SplitData,
    *,
    engine: str = "sequential",
    on_result: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Train every config on ``data`` with ``engine``; results come back in input order.

    Args:
        configs: the runs to train.
        data: tensors and split shared by all runs.
        engine: one of :data:`ENGINES`.
        on_result: called as each run finishes (for progress bars and saving to disk).
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    stream: Iterator[tuple[int, RunResult]] = run_sequential(configs, data)
    results: dict[int, RunResult] = {}
    for i, result in stream:
        results[i] = result
        if on_result is not None:
            on_result(result)
    return [results[i] for i in range(len(configs))]
