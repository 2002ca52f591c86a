"""Regularizers: the L2 (Frobenius-norm) penalty, weight-decay parameter groups, and
inserting dropout or batch normalization into an existing ``nn.Sequential``.

How lambda compares across frameworks, for the same gradient ``g += c * W``:

============================  =============================  ===========
convention                    penalty / update               ``c``
============================  =============================  ===========
nooverfit ``l2``              ``loss += l2 / 2 * ||W||_F^2``  ``l2``
PyTorch ``weight_decay``      ``g += weight_decay * W``        ``weight_decay``
Keras ``regularizers.L2(l)``  ``loss += l * sum(W^2)``         ``2 * l``
============================  =============================  ===========

So ``l2 == torch_weight_decay == 2 * keras_l2``. Decoupled weight decay (AdamW,
``W -= lr * wd * W`` outside the adaptive step) equals the coupled penalty only for plain
SGD, where ``wd == l2``; under Adam it is a different regularizer (Loshchilov & Hutter,
"Decoupled Weight Decay Regularization", ICLR 2019).
"""

from __future__ import annotations

import copy
import itertools
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn

from nooverfit.config import check_dropout, check_l2

_TO_NOOVERFIT = {"nooverfit": 1.0, "torch": 1.0, "keras": 2.0}


def l2_penalty(model: nn.Module, l2: float) -> torch.Tensor:
    """``l2 / 2 * sum(||W||_F^2)`` over the trained weight matrices and conv kernels
    (parameters with two or more dimensions that require grad); biases, normalization
    parameters and frozen layers (a transferred network's) are not penalized, as
    :func:`decay_groups` leaves them out.

    Its gradient is ``l2 * W``, so SGD on ``loss + l2_penalty(model, l2)`` takes the same
    steps as ``torch.optim.SGD(decay_groups(model, l2))`` on ``loss``.

    Raises:
        ValueError: if ``l2`` is negative or not finite.
    """
    check_l2(l2)
    weights = [p for p in model.parameters() if p.ndim >= 2 and p.requires_grad]
    if l2 == 0 or not weights:
        return torch.zeros((), device=weights[0].device if weights else None)
    return l2 / 2 * sum(w.pow(2).sum() for w in weights)  # type: ignore[return-value]


def decay_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Optimizer parameter groups: ``weight_decay`` on >= 2-D weights, none on biases and
    normalization parameters (as in nanoGPT). Pass to ``torch.optim.AdamW`` or ``SGD``."""
    check_l2(weight_decay, name="weight_decay")
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
    ]


def convert_l2(value: float, *, source: str, target: str = "nooverfit") -> float:
    """Convert an L2 strength between conventions: ``"nooverfit"``, ``"torch"`` (coupled
    ``weight_decay``) and ``"keras"`` (``regularizers.L2``). See the module docstring.

    Example: ``convert_l2(1e-4, source="keras") == 2e-4``.
    """
    for name in (source, target):
        if name not in _TO_NOOVERFIT:
            raise ValueError(f"convention must be one of {sorted(_TO_NOOVERFIT)}, got {name!r}")
    check_l2(value)
    return value * _TO_NOOVERFIT[source] / _TO_NOOVERFIT[target]


#: ``insert(layer, later_siblings, previous_sibling) -> layers to put after layer``
_Insert = Callable[[nn.Module, list[nn.Module], nn.Module | None], list[nn.Module]]


def _rebuild(
    model: nn.Module,
    insert: _Insert,
    *,
    adds: type[nn.Module] | tuple[type, ...],
    what: str,
    looks: tuple[type, ...],
) -> nn.Sequential:
    """A copy of ``model`` with ``insert``'s layers after each layer.

    Nested ``nn.Sequential`` blocks are seen through: ``insert`` gets the layers in the
    order they run, whatever block holds them (so the last ReLU of one block sees the
    Linear of the next), and its layers go into the block of the layer they follow.

    Raises:
        TypeError: if ``model`` is not an ``nn.Sequential``, or a child that is not one
            holds layers of ``looks`` (its inside cannot be changed).

    Warns:
        UserWarning: if the copy holds no layer of type ``adds`` (nothing to add it to).
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"expected an nn.Sequential stack, got {type(model).__name__}")
    leaves = _leaves(model, what, looks)
    extra = iter(
        [insert(x, leaves[i + 1 :], leaves[i - 1] if i else None) for i, x in enumerate(leaves)]
    )

    def copy_of(block: nn.Sequential) -> nn.Sequential:
        layers: list[nn.Module] = []
        for layer in block.children():
            if isinstance(layer, nn.Sequential):
                layers.append(copy_of(layer))
                continue
            layers.append(copy.deepcopy(layer))
            layers.extend(next(extra))
        return type(block)(*layers).train(block.training)

    result = copy_of(model)
    if not any(isinstance(m, adds) for m in result.modules()):
        # not an error (a network without hidden layers has no place), but never silent
        warnings.warn(
            f"{what} found no place in this {type(model).__name__} (no hidden layer "
            "followed by a later weight layer): the copy is unchanged",
            UserWarning,
            stacklevel=3,
        )
    return result


def _leaves(block: nn.Sequential, what: str, looks: tuple[type, ...]) -> list[nn.Module]:
    """The layers of ``block`` in the order they run, nested ``nn.Sequential`` blocks
    flattened; any other child is one layer, refused if it holds ``looks`` layers."""
    found: list[nn.Module] = []
    for name, child in block.named_children():
        if isinstance(child, nn.Sequential):
            found.extend(_leaves(child, what, looks))
            continue
        if any(isinstance(m, looks) for m in list(child.modules())[1:]):
            raise TypeError(
                f"{what} cannot change the inside of {type(child).__name__} ({name!r}); "
                "expected nn.Sequential blocks of layers"
            )
        found.append(child)
    return found


def _has_later(rest: Iterable[nn.Module], kinds: tuple[type, ...]) -> bool:
    return any(isinstance(m, kinds) for m in rest)


def add_dropout(
    model: nn.Module, p: float, *, after: tuple[type[nn.Module], ...] = (nn.ReLU,)
) -> nn.Sequential:
    """Return a copy of ``model`` with ``nn.Dropout(p)`` after each layer of type ``after``
    (default: every ReLU) that is followed by another weight layer. Nested
    ``nn.Sequential`` blocks are seen through. Existing dropout layers are kept; ``model``
    is not changed.

    Raises:
        ValueError: if ``p`` is not in [0, 1).
        TypeError: if ``model`` is not an ``nn.Sequential``, or holds such layers inside a
            child that is not one (named).

    Warns:
        UserWarning: if no dropout layer could be placed (the copy is unchanged).
    """
    check_dropout(p)
    weighted = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)

    pools = (nn.MaxPool2d, nn.AvgPool2d)

    def insert(layer: nn.Module, rest: list[nn.Module], prev: nn.Module | None) -> list[nn.Module]:
        nxt = rest[0] if rest else None
        if isinstance(nxt, nn.Dropout) or not _has_later(rest, weighted):
            return []
        if isinstance(layer, after):
            # Before a pooling layer, dropout goes after the pooling instead (as in `cnn`).
            return [] if isinstance(nxt, pools) else [nn.Dropout(p)]
        if isinstance(layer, pools) and isinstance(prev, after):
            return [nn.Dropout(p)]
        return []

    return _rebuild(model, insert, adds=nn.Dropout, what="add_dropout", looks=(*after, *weighted))


def add_batchnorm(model: nn.Module) -> nn.Sequential:
    """Return a copy of ``model`` with batch normalization after each hidden Linear and
    Conv1d (``BatchNorm1d``), Conv2d (``BatchNorm2d``) and Conv3d (``BatchNorm3d``), as
    :func:`add_dropout` places dropout after them; the output layer gets none, nor does a
    layer already followed by batch norm. Nested ``nn.Sequential`` blocks are seen
    through. ``model`` is not changed.

    A layer that gets a norm loses its bias, as the built-in networks' do: the norm
    subtracts the batch mean, so the bias's true gradient is zero and Adam would turn its
    rounding noise into steps. The bias ``b`` is folded into the new norm's running mean
    (``running_mean = -b``), so the copy computes what the layer with its bias followed
    by a fresh norm would, in training and in evaluation, and keeps doing so as the
    running mean is updated (``norm(W x + b)`` with mean ``mu`` is ``norm(W x)`` with mean
    ``mu - b``; see :mod:`nooverfit.stale_bias`). A layer already followed by a batch
    norm loses its bias the same way, folded into that norm's running mean (in the copy),
    so every Linear/Conv layer feeding batch norm is bias-free. The new norms have the
    layer's device and dtype.

    Raises:
        TypeError: if ``model`` is not an ``nn.Sequential``, or holds Linear/Conv layers
            inside a child that is not one (named).

    Warns:
        UserWarning: if no batch-norm layer could be placed (the copy is unchanged).
    """
    norms = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    weighted = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    added: set[int] = set()

    def insert(layer: nn.Module, rest: list[nn.Module], prev: nn.Module | None) -> list[nn.Module]:
        nxt = rest[0] if rest else None
        if isinstance(nxt, norms) or not _has_later(rest, weighted):
            return []
        if not isinstance(layer, weighted):
            return []
        device, dtype = layer.weight.device, layer.weight.dtype
        norm: nn.Module
        if isinstance(layer, nn.Linear):
            norm = nn.BatchNorm1d(layer.out_features, device=device, dtype=dtype)
        elif isinstance(layer, nn.Conv1d):
            norm = nn.BatchNorm1d(layer.out_channels, device=device, dtype=dtype)
        elif isinstance(layer, nn.Conv2d):
            norm = nn.BatchNorm2d(layer.out_channels, device=device, dtype=dtype)
        else:
            norm = nn.BatchNorm3d(layer.out_channels, device=device, dtype=dtype)
        if layer.bias is not None:
            with torch.no_grad():
                norm.running_mean -= layer.bias  # type: ignore[operator]
        added.add(id(norm))
        return [norm]

    result = _rebuild(model, insert, adds=norms, what="add_batchnorm", looks=weighted)
    leaves = _leaves(result, "add_batchnorm", weighted)
    for layer, nxt in itertools.pairwise(leaves):
        if not isinstance(layer, weighted) or not isinstance(nxt, norms):
            continue
        if layer.bias is not None and id(nxt) not in added:  # a norm the model had
            running = nxt.running_mean
            if running is not None:  # (None: batch statistics in evaluation too)
                with torch.no_grad():
                    running -= layer.bias
        layer.bias = None  # folded into nxt's running mean
    return result
