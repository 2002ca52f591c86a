"""Engines execute many `RunConfig`s on one data split and return one `RunResult` each.

- ``sequential``: one config at a time through :func:`nooverfit.train.fit` (the reference).
- ``fused``: K configs of one model family at once as a single batched model
  (:mod:`nooverfit.engine.fused`), in groups packed by :mod:`nooverfit.engine.schedule`
  and, on a CPU, trained two at a time in worker threads (:mod:`nooverfit.engine.schedule`).
- ``auto``: fused for two or more configs, else sequential.

The modules, from the public entry down:

- ``runner``: :func:`run_configs` and the engine names.
- ``sequential``: the reference (one ``fit`` per config) and :class:`RunResult`.
- ``fused``: :func:`run_fused` and :func:`train_group`, a group's epochs.
- ``schedule``: which configs share a group, and groups trained side by side in threads.
- ``group``: :class:`~nooverfit.engine.group.GroupTraining`, the fused training step.
- ``optimizer``: the stacked AdamW/SGD update; ``weight_penalty`` applies L2 and decay.
- ``feed``: each config's samples and batch order (``Feed``, ``Layout``).
- ``stacked``, ``layers``: the stacked network and its layers (linear, batch norm, dropout).
- ``functional``: the protocol both nets follow, and a user's own module via ``torch.func``.
- ``skeleton``: the layer sequences a stacked net computes exactly.
- ``chain``: a user's module made of the built-in layers, mapped onto ``stacked``.
- ``flops``: the FLOPs of a run's matrix products and convolutions, counted from shapes.
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
