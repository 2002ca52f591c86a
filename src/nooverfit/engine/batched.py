"""`BatchedNet`: what the fused engine needs of K networks trained as one model.

Two kinds provide it: :class:`~nooverfit.engine.stacked.StackedNet` (nooverfit's own
MLP/CNN, stacked layer by layer) and :class:`~nooverfit.engine.functional.FunctionalNet`
(a user's own module through ``torch.func``).
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn


class BatchedNet(Protocol):
    """K networks as one: parameters in a ``(K, P)`` buffer, logits ``(K, B, classes)``.

    Attributes:
        k: the number of configs.
        device: where the tensors live.
        flat: every config's trainable parameters, ``(K, P)``; >= 2-D weights first.
        grad: their gradients, same shape.
        matrix_columns: columns ``[0, matrix_columns)`` hold the >= 2-D weights.
        batches_tracked: batch-norm batches seen per config, ``(K,)``.
    """

    k: int
    device: torch.device
    flat: torch.Tensor
    grad: torch.Tensor
    matrix_columns: int
    batches_tracked: torch.Tensor

    def forward(
        self,
        x: torch.Tensor,
        *,
        shared: bool,
        train: bool,
        valid: torch.Tensor | None = None,
        update: torch.Tensor | None = None,
        gen: torch.Generator | None = None,
        full: bool = False,
    ) -> torch.Tensor: ...

    def zero_grad(self) -> None:
        """Prepare ``grad`` for the next backward pass."""
        ...

    def select(self, rows: list[int]) -> None: ...

    def snapshot(self) -> dict[str, torch.Tensor]: ...

    def copy_rows(self, snapshot: dict[str, torch.Tensor], rows: list[int]) -> None: ...

    def state_dict(self, k: int, snapshot: dict[str, torch.Tensor], net: nn.Module) -> dict: ...
