"""`RunResult`: what an engine returns for one config."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nooverfit.config import RunConfig
from nooverfit.history import History


@dataclass(frozen=True, eq=False)
class RunResult:
    """One finished run.

    Attributes:
        config: the configuration trained.
        history: its per-epoch curves.
        state: the kept weights (best epoch under early stopping, else the last), on CPU,
            with the keys of :func:`nooverfit.models.build_model`'s network.
        engine: ``"sequential"`` or ``"fused"``.
    """

    config: RunConfig
    history: History
    state: dict[str, torch.Tensor]
    engine: str
