"""Grouping and scheduling for the fused engine.

Pack configs into fused groups: same model family, depth, batch size and optimizer
family, no more configs than fit in device memory, and (for groups trained side by side)
shares of work that end together.

`run_in_threads`: train several fused groups at once on a CPU, one per worker thread.

A small fused group on a CPU spends most of each step in fixed per-operation costs
(Python, dispatch, allocation), which torch's intra-op threads cannot share out: at two
threads a step of six configs takes about as long as at one. Groups trained side by side,
each in its own thread with its share of torch's threads, overlap those costs (torch
releases the GIL inside its operations). Measured on the 2-core test machine: the default
study's learning-curve groups finished 1.5x sooner in two threads of one torch thread each
than one after another with two torch threads, and its 57-config remedy stage cut in two
halves 1.1-1.2x sooner. Groups that are mostly matrix products gain little or nothing
(a 48-config validation curve at 16 torch threads: 4.5 s in two workers, 4.0 s in one).

Each group's numbers depend only on its configs and torch's thread count, not on which
worker trains it or when: a group's random draws come from its own generator, and
seeding the global generator (weight initialization) is serialized by
:func:`nooverfit.seeding.seeded`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

import torch

from nooverfit.config import RunConfig

#: largest group on a CPU
CPU_GROUP = 256
#: weights of the CPU groups trained at once, in bytes: the stacked weights should stay in
#: the last-level cache (measured on a 2-core EPYC with 32 MiB L3: K = 256 default MLPs,
#: 88 MB of weights, ran 2.2x slower per config than K = 64, 22 MB)
CPU_WEIGHT_BYTES = 24 << 20
#: largest group on a GPU, whatever the memory
GPU_GROUP = 8192
#: share of free GPU memory a group may plan to use
MEMORY_SHARE = 0.5
#: the fixed cost of a fused step (Python, op dispatch), in configs' worth of compute
STEP_OVERHEAD = 4


GroupKey = tuple[str, int, int, str, int | None, int | None, int, bool]


def group_key(config: RunConfig) -> GroupKey:
    """What configs of one fused group share: ``(model, depth, batch_size, optimizer
    family, train_size, train_per_class, convs, tta)``. Adam and AdamW are one family
    (both run AdamW with decoupled weight decay). Width, L2, weight decay, dropout, batch norm,
    augmentation, learning rate, epochs, early stopping and seed may differ in a group.

    The engine can train different training subsets in one group too, but a group takes
    as many steps per epoch as its largest subset needs: a learning curve's 5-per-class
    runs would ride along for every step of its 100-per-class runs (measured: the fused
    learning-curve stage of the default study took 2.4x the sequential time).
    """
    family = "sgd" if config.optimizer == "sgd" else "adamw"
    return (
        config.model,
        config.depth,
        config.batch_size,
        family,
        config.train_size,
        config.train_per_class,
        config.convs,
        config.tta,
    )


def config_params(config: RunConfig, in_shape: Sequence[int], classes: int) -> int:
    """An upper bound on the trainable parameters of ``config``'s network."""
    features = math.prod(in_shape)
    w, d = config.width, config.depth
    if config.model == "cnn":
        params, prev = 0, in_shape[0]
        for c in (w * 2**i for i in range(d)):
            params, prev = params + 9 * c * prev + 3 * c, c
            params += (config.convs - 1) * (9 * c * c + 3 * c)  # the block's other convs
        return params + prev * features * classes  # output layer, bounded by an unpooled map
    if d == 0:  # logistic regression
        return features * classes + classes
    return features * w + (d - 1) * w * w + w * classes + 3 * d * w + classes


def config_bytes(config: RunConfig, in_shape: Sequence[int], classes: int) -> int:
    """A rough upper bound on the memory one config adds to a group, in bytes.

    Parameters are stored five times (weights, gradients, two optimizer moments, a
    best-epoch copy); activations are counted for a training batch and an eval chunk.
    """
    features = math.prod(in_shape)
    w, d = config.width, config.depth
    activations = d * w
    if config.model == "cnn":
        activations = config.convs * sum(w * 2**i for i in range(d)) * features
    rows = config.batch_size * 8 + 256  # training batch (fwd + bwd temporaries) + eval chunk
    return 4 * (5 * config_params(config, in_shape, classes) + rows * activations)


def group_limit(
    configs: Sequence[RunConfig],
    in_shape: Sequence[int],
    classes: int,
    *,
    device: torch.device,
    max_group: int | None = None,
    workers: int = 1,
) -> int:
    """How many of ``configs`` (one group key) fit in one group on ``device``.

    Args:
        max_group: an explicit cap (default: on CPU, as many as keep the stacked weights
            of the ``workers`` groups trained at once within :data:`CPU_WEIGHT_BYTES`
            together (they share the cache), at most :data:`CPU_GROUP`; on CUDA, the free
            memory times :data:`MEMORY_SHARE` divided by the widest config's
            :func:`config_bytes`, at most :data:`GPU_GROUP`).
    """
    if max_group is not None:
        if max_group < 1:
            raise ValueError(f"max_group must be >= 1, got {max_group}")
        return max_group
    widest = max(configs, key=lambda c: c.width)
    if device.type != "cuda":
        per = 4 * config_params(widest, in_shape, classes)
        return max(1, min(CPU_GROUP, CPU_WEIGHT_BYTES // (per * workers)))
    free, _ = torch.cuda.mem_get_info(device)
    per = config_bytes(widest, in_shape, classes)
    return max(1, min(GPU_GROUP, int(free * MEMORY_SHARE) // per))


def plan_groups(
    configs: Sequence[RunConfig],
    in_shape: Sequence[int],
    classes: int,
    *,
    device: torch.device,
    max_group: int | None = None,
    workers: int = 1,
    steps: Sequence[int] | None = None,
) -> list[list[int]]:
    """Split ``configs`` into fused groups; returns lists of indices into ``configs``.

    Configs with one :func:`group_key` are sorted by width (so padding to a group's widest
    network wastes little) and cut into equal chunks of at most :func:`group_limit`.
    For ``workers`` > 1 groups trained side by side, groups are then cut further (see
    :func:`share_work`). Groups come out in the order of their first config.

    Args:
        max_group: the most configs per group (default: :func:`group_limit`).
        workers: groups trained at once (default 1).
        steps: optimizer steps of each config, epochs times batches per epoch (needed
            when ``workers`` > 1).
    """
    keyed: dict[GroupKey, list[int]] = {}
    for i, config in enumerate(configs):
        keyed.setdefault(group_key(config), []).append(i)
    groups: list[list[int]] = []
    for members in keyed.values():
        members = sorted(members, key=lambda i: (configs[i].width, i))
        limit = group_limit(
            [configs[i] for i in members],
            in_shape,
            classes,
            device=device,
            max_group=max_group,
            workers=workers,
        )
        size = math.ceil(len(members) / math.ceil(len(members) / limit))  # balanced chunks
        for start in range(0, len(members), size):
            groups.append(sorted(members[start : start + size]))
    if workers > 1:
        if steps is None:
            raise ValueError("plan_groups needs the steps of each config for workers > 1")
        groups = share_work(groups, configs, steps, workers=workers)
    return sorted(groups, key=lambda g: g[0])


def _features(config: RunConfig) -> tuple[int, bool, bool, bool]:
    """What makes a config's step cost more than a plain one's, with its width first."""
    return (config.width, config.batchnorm, config.augment > 0, config.dropout > 0)


def config_steps(config: RunConfig, train_samples: int) -> int:
    """Optimizer steps of a run on ``train_samples`` images: epochs times batches."""
    return config.epochs * max(1, math.ceil(train_samples / config.batch_size))


def group_cost(group: Sequence[int], steps: Sequence[int]) -> int:
    """A group's work in config-steps: it takes as many steps as its longest config, each
    costing its configs plus a fixed :data:`STEP_OVERHEAD`."""
    return max(steps[i] for i in group) * (len(group) + STEP_OVERHEAD)


def share_work(
    groups: Sequence[Sequence[int]],
    configs: Sequence[RunConfig],
    steps: Sequence[int],
    *,
    workers: int,
) -> list[list[int]]:
    """Cut the costliest group (by :func:`group_cost`) in two until there are at least
    ``workers`` groups and none holds more than its workers' share of the total, so that
    ``workers`` threads finish together; single configs stay whole.

    A group is cut between configs sorted by width and by batch norm, augmentation and
    dropout, so that plain configs do not pay for the masks and gathers of the others
    (measured on the default study's learning curve: two groups of 3 took 3-20 % less
    CPU time than one group of 6 mixing both).
    """
    out = [list(g) for g in groups]
    while True:
        total = sum(group_cost(g, steps) for g in out)
        g = max(out, key=lambda g: group_cost(g, steps))
        if len(g) < 2 or (len(out) >= workers and group_cost(g, steps) * workers <= total):
            return out
        ordered = sorted(g, key=lambda i: (_features(configs[i]), i))
        half = len(g) // 2
        out.remove(g)
        out += [sorted(ordered[:half]), sorted(ordered[half:])]


#: most worker threads on a CPU. Each step also needs the GIL for its Python part, so more
#: workers stop paying: on the 16-core host of an H200, 2 workers beat 1 at 2, 4 and 16
#: torch threads on learning-curve groups (12.5 / 17.4 s, 9.5 / 13.7 s, 10.3 / 12.2 s),
#: while 4 workers were no faster than 1 (13.5 / 13.7 s at 4 threads)
CPU_WORKERS = 2

T = TypeVar("T")


class Cancelled(Exception):
    """Raised inside a task whose ``cancel`` event was set (another task failed, or the
    caller stopped reading results)."""


def cpu_workers(groups: int) -> int:
    """Worker threads for ``groups`` fused groups on a CPU: one per torch thread (at most
    :data:`CPU_WORKERS`) and, given two threads or more, one more; never more than there
    are groups. Torch's threads are shared out among them, at least one each.

    The extra worker fills the time a group spends in Python between its products (the
    interpreter lock held, the cores idle): the default study on 2 cores took 43.2 s with
    3 workers against 48.4 s with 2, with the same numbers (the groups never depend on
    the workers). Asked for one thread, a study keeps to one.
    """
    threads = torch.get_num_threads()
    extra = 1 if threads >= 2 else 0
    return max(1, min(CPU_WORKERS + extra, threads + extra, groups))


def run_in_threads(
    tasks: Sequence[Callable[[threading.Event], T]], *, workers: int
) -> Iterator[tuple[int, T]]:
    """Run ``tasks`` in ``workers`` threads, started in the given order (put the longest
    first), yielding ``(index, result)`` as each finishes.

    While they run, torch uses ``threads // workers`` intra-op threads, at least one
    (restored after).
    Each task gets a ``threading.Event`` that is set when the others should stop: when a
    task raises (its exception is re-raised here once the rest have stopped), or when the
    caller stops iterating (e.g. on ``KeyboardInterrupt``). Tasks should check it between
    units of work and raise :class:`Cancelled`.
    """
    cancel = threading.Event()
    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads // workers))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nooverfit-group")
    try:
        pending: dict[Future[T], int] = {
            pool.submit(task, cancel): i for i, task in enumerate(tasks)
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: pending[f]):
                index = pending.pop(future)
                yield index, future.result()
    finally:
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(threads)
