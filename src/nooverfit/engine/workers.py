"""`run_in_threads`: train several fused groups at once on a CPU, one per worker thread.

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

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

import torch

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
    """Worker threads for ``groups`` fused groups on a CPU: one per torch thread, at most
    :data:`CPU_WORKERS` and no more than there are groups (torch's threads are shared out
    among them)."""
    return max(1, min(CPU_WORKERS, torch.get_num_threads(), groups))


def run_in_threads(
    tasks: Sequence[Callable[[threading.Event], T]], *, workers: int
) -> Iterator[tuple[int, T]]:
    """Run ``tasks`` in ``workers`` threads, started in the given order (put the longest
    first), yielding ``(index, result)`` as each finishes.

    While they run, torch uses ``threads // workers`` intra-op threads (restored after).
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
