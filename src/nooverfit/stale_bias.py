"""Weights saved while a layer feeding batch norm still had a bias, loaded into today's
networks, which have none there (as torchvision's): the one saved-state key change.

A Linear or Conv2d followed by batch norm computes ``W x + b``; the norm subtracts the
batch mean in training, so ``b`` cancels there, and in evaluation it subtracts its
running mean ``mu``, which tracked the mean of ``W x + b``. So
``(W x + b - mu) = (W x - (mu - b))``: dropping ``b`` and storing ``mu - b`` as the running
mean computes the same network, in training and in evaluation (up to float32 rounding of
one subtraction). :func:`fold_stale_biases` does that to a state dict before
``load_state_dict``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

if TYPE_CHECKING:
    import torch


def _bias_free_pairs(model: nn.Module) -> Iterator[tuple[str, str]]:
    """``(bias key, running-mean key)`` of each bias-free Linear/Conv2d that the next layer
    of its ``nn.Sequential`` normalizes with running statistics."""
    for name, container in model.named_modules():
        if not isinstance(container, nn.Sequential):
            continue
        prefix = f"{name}." if name else ""
        children = list(container.named_children())
        for (a_name, a), (b_name, b) in itertools.pairwise(children):
            if (
                isinstance(a, nn.Linear | nn.Conv2d)
                and a.bias is None
                and isinstance(b, _BatchNorm)
                and b.track_running_stats
            ):
                yield f"{prefix}{a_name}.bias", f"{prefix}{b_name}.running_mean"


def fold_stale_biases(
    model: nn.Module, state: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``state`` made to fit ``model`` where ``state`` holds a bias that ``model``'s layer
    before batch norm no longer has: the bias is folded into the norm's running mean
    (``running_mean = running_mean - bias``) and its key dropped. Anything else is left
    as it is (``load_state_dict`` then says what does not fit).

    Args:
        model: the network the weights are for (today's layers).
        state: its state dict as saved (not changed).

    Returns:
        A new state dict (the same tensors where nothing was folded).
    """
    out = dict(state)
    for bias, mean in _bias_free_pairs(model):
        if bias in out and mean in out and out[bias].shape == out[mean].shape:
            out[mean] = out[mean] - out.pop(bias).to(out[mean].dtype)
    return out
