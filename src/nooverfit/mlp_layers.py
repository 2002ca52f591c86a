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
    -> (Dropout)], from ``size`` input features; ``norm`` None: no normalization."""
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers.append(nn.Linear(size, width))
        if norm is not None:
            layers.append(norm(width))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        size = width
    return layers
