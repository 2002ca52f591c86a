"""Engines execute many `RunConfig`s on one data split and return one `RunResult` each.

- ``sequential``: one config at a time through :func:`nooverfit.train.fit` (the reference).
- ``fused``: K configs of one model family at once as a single batched model
  (:mod:`nooverfit.engine.fused`), in groups packed by :mod:`nooverfit.engine.grouping`
  and, on a CPU, trained two at a time in worker threads (:mod:`nooverfit.engine.workers`).
- ``auto``: fused for two or more configs, else sequential.
"""

from nooverfit.engine.fused import run_fused, train_group
from nooverfit.engine.grouping import plan_groups
from nooverfit.engine.result import RunResult
from nooverfit.engine.runner import ENGINES, resolve_engine, run_configs

__all__ = [
    "ENGINES",
    "RunResult",
    "plan_groups",
    "resolve_engine",
    "run_configs",
    "run_fused",
    "train_group",
]
