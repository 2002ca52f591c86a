"""Engines execute many `RunConfig`s on one data split and return one `RunResult` each.

- ``sequential``: one config at a time through :func:`nooverfit.train.fit` (the reference).
- ``fused``: K configs of one model family at once as a single batched model
  (:mod:`nooverfit.engine.fused`), in groups packed by :mod:`nooverfit.engine.schedule`
  and, on a CPU, trained two at a time in worker threads (:mod:`nooverfit.engine.schedule`).
- ``auto``: fused for two or more configs, else sequential.
"""

from nooverfit.engine.fused import run_fused, train_group
from nooverfit.engine.runner import ENGINES, resolve_engine, run_configs
from nooverfit.engine.schedule import plan_groups
from nooverfit.engine.sequential import RunResult

__all__ = [
    "ENGINES",
    "RunResult",
    "plan_groups",
    "resolve_engine",
    "run_configs",
    "run_fused",
    "train_group",
]
