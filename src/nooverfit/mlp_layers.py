"""The hidden layers every multilayer perceptron of nooverfit is built from (the plain
:func:`~nooverfit.models.mlp` and the tabular networks of :mod:`nooverfit.tabm`), in one
place so that both create their layers, and draw their initial weights, in one order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import nn

if TYPE_CHECKING:
    from collections.abc import Callable


def hidden_layers(
    size: int,
    width: int,
    depth: int,
    dropout: float,
    norm: Callable[[int], nn.Module] | None,
) -> list[nn.Module]:
    """``depth`` x [Linear(``size`` or ``width`` -> ``width``) -> (``norm(width)``) -> ReLU
    -> (Dropout)], from ``size`` input features; ``norm`` None: no normalization.

    A Linear followed by a norm has no bias, as torchvision's networks do: batch norm
    subtracts the batch mean, so the bias's true gradient is zero and Adam would only
    turn its rounding noise into steps (the norm's ``beta`` is the shift)."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers.append(nn.Linear(size, width, bias=norm is None))
        if norm is not None:
            layers.append(norm(width))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        size = width
    return layers
