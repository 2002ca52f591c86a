"""`run_configs`: hand a list of configs to an engine and collect the results in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from nooverfit.config import RunConfig
from nooverfit.engine.feed import DataArg
from nooverfit.engine.sequential import Factory, RunResult, run_sequential

ENGINES = ("auto", "fused", "sequential")


def resolve_engine(engine: str, configs: Sequence[RunConfig]) -> str:
    """The engine that runs ``configs``: ``"auto"`` means fused for two or more configs
    (every built-in model family stacks) and sequential for a single one.

    Raises:
        ValueError: if ``engine`` is not one of :data:`ENGINES`.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "auto":
        return "fused" if len(configs) > 1 else "sequential"
    return engine


def run_configs(
    configs: Sequence[RunConfig],
    data: DataArg,
    *,
    engine: str = "sequential",
    on_result: Callable[[RunResult], None] | None = None,
    max_group: int | None = None,
    factory: Factory | None = None,
    workers: int | None = None,
) -> list[RunResult]:
    """Train every config on ``data`` with ``engine``; results come back in input order.

    Args:
        configs: the runs to train.
        data: one split for all runs, or one per run (e.g. each seed's own split: the
            fused engine then trains runs of different splits in one group).
        engine: one of :data:`ENGINES` (default ``"sequential"``, the reference).
        on_result: called as each run finishes (for progress bars and saving to disk);
            the fused engine finishes a whole group at once.
        max_group: the fused engine's largest group (default: sized to the device).
        workers: the fused engine's groups trained at once on a CPU (default: see
            :func:`~nooverfit.engine.fused.run_fused`).
        factory: ``factory(config) -> nn.Module`` builds your own network per config
            (default: the built-in models); the fused engine stacks such modules through
            ``torch.func`` where they share a structure (see
            :func:`~nooverfit.engine.functional.stack_modules`).
    """
    chosen = resolve_engine(engine, configs)
    stream: Iterator[tuple[int, RunResult]]
    if chosen == "fused":
        from nooverfit.engine.fused import run_fused

        stream = run_fused(configs, data, max_group=max_group, factory=factory, workers=workers)
    else:
        stream = run_sequential(configs, data, factory=factory)
    results: dict[int, RunResult] = {}
    for i, result in stream:
        results[i] = result
        if on_result is not None:
            on_result(result)
    return [results[i] for i in range(len(configs))]
