"""Engines execute many `RunConfig`s on one data split and return one `RunResult` each.

- ``sequential``: one config at a time through :func:`nooverfit.train.fit` (the reference).
- ``fused``: K configs of one model family at once as a single batched model.
"""

from nooverfit.engine.result import RunResult
from nooverfit.engine.runner import ENGINES, run_configs

__all__ = ["ENGINES", "RunResult", "run_configs"]
