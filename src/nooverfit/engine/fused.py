"""The fused engine: train groups of K configs at once, each as one batched model
(:class:`~nooverfit.engine.stacked.StackedNet`, or
:class:`~nooverfit.engine.functional.FunctionalNet` for a user's own modules); see
:mod:`nooverfit.engine.group` for how a group trains and how it matches ``fit``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
import warnings
from collections.abc import Iterator, Sequence

import torch

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.chain import stackable
from nooverfit.engine.feed import DataArg, Feed, per_run
from nooverfit.engine.follow import Policy
from nooverfit.engine.functional import FunctionalNet, has_running_stats, structure
from nooverfit.engine.group import GroupTraining
from nooverfit.engine.schedule import (
    CPU_GROUP,
    CPU_WORKERS,
    GPU_GROUP,
    Cancelled,
    config_steps,
    cpu_workers,
    group_cost,
    group_key,
    plan_groups,
    run_in_threads,
)
from nooverfit.engine.sequential import Factory, RunResult, make_model

log = logging.getLogger(__name__)


#: the warning autograd gives once for gradients that are views of the group's buffer
LAYOUT_WARNING = "grad and param do not obey"


def train_group(
    configs: Sequence[RunConfig],
    data: DataArg,
    *,
    factory: Factory | None = None,
    policy: Policy | None = None,
) -> list[RunResult]:
    """Train ``configs`` (one :func:`~nooverfit.engine.schedule.group_key`) as one model.

    Args:
        configs: the runs.
        data: one split for all runs, or one per run (e.g. a seed's own split each).
        factory: builds a user's own network per config (default: ``build_model``); its
            modules are stacked (see :func:`~nooverfit.engine.functional.stack_modules`),
            so they must share one structure.
        policy: how runs end besides their epochs and early stopping (see
            :mod:`~nooverfit.engine.follow`).

    Returns:
        One :class:`RunResult` per config, in order, with ``engine == "fused"``.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=LAYOUT_WARNING)
        return _train(configs, data, factory=factory, policy=policy)


def _train(
    configs: Sequence[RunConfig],
    data: DataArg,
    *,
    factory: Factory | None = None,
    cancel: threading.Event | None = None,
    policy: Policy | None = None,
) -> list[RunResult]:
    """:func:`train_group` without touching the warning filters (they are process-wide, so
    worker threads leave them to the main thread); training stops with
    :class:`~nooverfit.engine.schedule.Cancelled` once ``cancel`` is set (checked each
    epoch)."""
    feed = Feed.of(per_run(data, len(configs)))
    group = GroupTraining(configs, feed, factory=factory, policy=policy)
    dev = group.device
    with contextlib.ExitStack() as stack:
        if isinstance(group.net, FunctionalNet):
            # Dropout inside a user's module draws from the global generator, seeded for the
            # whole run; like train.fit (and unlike seeding.seeded) without a lock, which
            # would be held for the whole run. User modules train on the calling thread.
            cuda = [dev.index or 0] if dev.type == "cuda" else []
            stack.enter_context(torch.random.fork_rng(devices=cuda))
            torch.manual_seed(group.seed)
        for epoch in range(max(c.epochs for c in configs)):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"fused group of {len(configs)} configs stopped")
            running = group.running(epoch)
            if not any(running):
                break
            start = time.perf_counter()
            alive = group.train_epoch(epoch, running)
            group.end_epoch(epoch, running, alive, start)
    group.finish(list(range(len(group.ids))))
    return [group.results[i] for i in range(len(configs))]


def run_fused(
    configs: Sequence[RunConfig],
    data: DataArg,
    *,
    max_group: int | None = None,
    factory: Factory | None = None,
    workers: int | None = None,
    policy: Policy | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """Train ``configs`` in fused groups, yielding ``(index, result)`` group by group.

    Args:
        configs: the runs; any mix of families and sizes (see
            :func:`~nooverfit.engine.schedule.plan_groups`).
        data: one split for all runs, or one per run; runs of different splits of one data
            set share groups.
        max_group: the most configs per group (default: sized to the device).
        factory: builds a user's own network per config. Modules that are plain chains of
            the built-in models' layers (see :mod:`~nooverfit.engine.chain`) train as the
            built-in networks do; otherwise configs whose modules share a structure are
            fused through ``torch.func``.
        workers: groups trained at once in worker threads, each with its share of torch's
            threads; the configs are grouped for that many workers, so results depend on
            it. Default on a CPU: grouped for :data:`~nooverfit.engine.schedule.CPU_WORKERS`
            whatever the thread count (so the groups, and with them the random draws, are
            the same on any machine), trained as many at a time as
            :func:`~nooverfit.engine.schedule.cpu_workers` allows. On a GPU, and for a
            user's modules that are not chains: 1.
        policy: how runs end besides their epochs and early stopping (see
            :mod:`~nooverfit.engine.follow`).
    """
    datas = per_run(data, len(configs))
    if not datas:
        return
    first = datas[0]
    if factory is not None and not stackable(configs, datas, factory):
        yield from _run_functional(configs, datas, factory, max_group=max_group, policy=policy)
        return
    cpu = first.device.type == "cpu"
    # the plan never depends on the machine's thread count, so neither do the numbers
    shares = workers if workers is not None else CPU_WORKERS if cpu else 1
    steps = [_steps(c, d) for c, d in zip(configs, datas, strict=True)] if shares > 1 else None
    groups = plan_groups(
        configs,
        first.in_shape,
        first.num_classes,
        device=first.device,
        max_group=max_group,
        workers=shares,
        steps=steps,
    )
    if workers is None:
        workers = cpu_workers(len(groups)) if cpu else 1
    workers = min(workers, len(groups))
    if workers == 1:
        for group in groups:
            log.info("fused group of %d configs", len(group))
            chosen = [configs[i] for i in group]
            results = train_group(
                chosen, [datas[i] for i in group], factory=factory, policy=policy
            )
            yield from zip(group, results, strict=True)
        return
    assert steps is not None
    groups.sort(key=lambda g: -group_cost(g, steps))  # longest first, so all end together
    log.info("fused groups of %s configs, %d at a time", [len(g) for g in groups], workers)
    tasks = [
        functools.partial(
            _task,
            [configs[i] for i in group],
            [datas[i] for i in group],
            factory=factory,
            policy=policy,
        )
        for group in groups
    ]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=LAYOUT_WARNING)
        for g, results in run_in_threads(tasks, workers=workers):
            yield from zip(groups[g], results, strict=True)


def _task(
    configs: list[RunConfig],
    datas: list[SplitData],
    cancel: threading.Event,
    *,
    factory: Factory | None = None,
    policy: Policy | None = None,
) -> list[RunResult]:
    return _train(configs, datas, factory=factory, cancel=cancel, policy=policy)


def _steps(config: RunConfig, data: SplitData) -> int:
    """Optimizer steps of a run on its training subset of ``data``."""
    subset = data.train_index(train_size=config.train_size, train_per_class=config.train_per_class)
    return config_steps(config, len(subset))


def _run_functional(
    configs: Sequence[RunConfig],
    datas: Sequence[SplitData],
    factory: Factory,
    *,
    max_group: int | None,
    policy: Policy | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """Group a user's modules by structure (and :func:`group_key`) and train each group
    through :class:`FunctionalNet`; modules with batch norm only with runs of one
    training-set size (so that partial batches are alike, see :class:`FunctionalNet`)."""
    keyed: dict[tuple, list[int]] = {}
    for i, (config, split) in enumerate(zip(configs, datas, strict=True)):
        module = make_model(config, split, factory=factory)
        size = None
        if has_running_stats(module):
            subset = split.train_index(
                train_size=config.train_size, train_per_class=config.train_per_class
            )
            size = len(subset)
        keyed.setdefault((group_key(config), structure(module), size), []).append(i)
    for members in keyed.values():
        limit = max_group or (CPU_GROUP if datas[0].device.type != "cuda" else GPU_GROUP)
        for start in range(0, len(members), limit):
            group = members[start : start + limit]
            log.info("fused group of %d configs of a user's module", len(group))
            results = train_group(
                [configs[i] for i in group],
                [datas[i] for i in group],
                factory=factory,
                policy=policy,
            )
            yield from zip(group, results, strict=True)
