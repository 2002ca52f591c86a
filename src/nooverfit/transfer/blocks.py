"""How a network divides into blocks, and freezing them with batch norm done right.

A *block* is a group of top-level modules that transfer learning freezes, unfreezes or
gives one learning rate as a unit. :func:`find_blocks` walks the children of a model in
registration order (which is input-to-output order for ``nn.Sequential`` models, ResNets
and MobileNets): a child with a weight layer starts a new block; parameter-free children
(ReLU, pooling, Flatten, Dropout) and normalization layers join the block before them.
Plain ``nn.Sequential`` containers are opened up, so nooverfit's own networks split into
one block per hidden layer, a ResNet into stem, residual blocks and ``fc``, and a
MobileNetV3 into its ``features`` stages and classifier layers.

Frozen batch norm: a frozen block must not change, but a ``BatchNorm`` layer in training
mode updates its running mean and variance on every forward pass, and training loops call
``model.train()`` every epoch (the trap behind Keras's ``trainable=False`` special case
and Lightning's ``BaseFinetuning.freeze``). :func:`freeze_batchnorm` switches such a layer
to a subclass whose ``train()`` always keeps eval mode, so its statistics stay put; the
state-dict keys do not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

#: Layers whose weights make a block (everything else joins the block before it).
WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
NORM_LAYERS = (_BatchNorm, nn.LayerNorm, nn.GroupNorm)


@dataclass(frozen=True)
class Block:
    """A unit of freezing and of learning rate.

    Attributes:
        name: the dotted name of its first module (e.g. ``"layer1.0"``, ``"3"``).
        modules: dotted names of the top-level modules it holds, in order.
    """

    name: str
    modules: tuple[str, ...]

    def parameters(self, model: nn.Module) -> Iterator[tuple[str, nn.Parameter]]:
        """``(dotted name, parameter)`` of every parameter in the block."""
        for name in self.modules:
            for pname, p in model.get_submodule(name).named_parameters():
                yield f"{name}.{pname}", p


def _starts_block(module: nn.Module) -> bool:
    has_params = any(True for _ in module.parameters())
    return has_params and not isinstance(module, NORM_LAYERS)


def _children(model: nn.Module, prefix: str = "") -> Iterator[tuple[str, nn.Module]]:
    for name, child in model.named_children():
        full = f"{prefix}{name}"
        if type(child) is nn.Sequential:
            yield from _children(child, f"{full}.")
        else:
            yield full, child


def find_blocks(model: nn.Module, *, split: str | None = None) -> tuple[Block, ...]:
    """Divide ``model`` into blocks, input first (see the module docstring).

    Args:
        model: any network whose children are registered in input-to-output order.
        split: optional name of the module where the head starts (e.g. ``"fc"`` or
            ``"classifier"``); it and every block after it become one head block.
            Default None: the last block is the head.

    Raises:
        ValueError: if the model has no parameters or ``split`` names no block start.
    """
    groups: list[list[str]] = []
    for name, child in _children(model):
        if not groups or _starts_block(child):
            groups.append([name])
        else:
            groups[-1].append(name)
    # Leading parameter-free modules (e.g. Flatten) belong with the first real block.
    while len(groups) > 1 and not any(
        True for n in groups[0] for _ in model.get_submodule(n).parameters()
    ):
        groups[1] = groups[0] + groups[1]
        del groups[0]
    if not groups or not any(True for _ in model.parameters()):
        raise ValueError(f"cannot find blocks in {type(model).__name__}: it has no parameters")
    if split is not None:
        starts = [g[0] for g in groups]
        matches = [i for i, g in enumerate(groups) if split in g or g[0].startswith(f"{split}.")]
        if not matches:
            raise ValueError(f"split must name a module where a block starts, one of {starts}")
        first = matches[0]
        groups = [*groups[:first], [n for g in groups[first:] for n in g]]
    return tuple(Block(_first_weighted(model, g), tuple(g)) for g in groups)


def _first_weighted(model: nn.Module, names: list[str]) -> str:
    for n in names:
        if _starts_block(model.get_submodule(n)):
            return n
    return names[0]


def weight_layers(model: nn.Module) -> list[str]:
    """Dotted names of the Linear/Conv layers of ``model``, in registration order."""
    return [name for name, m in model.named_modules() if isinstance(m, WEIGHT_LAYERS)]


def replace_module(model: nn.Module, name: str, new: nn.Module) -> None:
    """Put ``new`` in place of the submodule called ``name`` (keeps state-dict keys)."""
    parent_name, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, attr, new)


class _FrozenMixin(nn.Module):
    """Batch norm that stays in eval mode: ``train()`` never turns training on."""

    def train(self, mode: bool = True) -> _FrozenMixin:
        return super().train(False)


class FrozenBatchNorm1d(_FrozenMixin, nn.BatchNorm1d):
    """``BatchNorm1d`` whose running statistics never move."""


class FrozenBatchNorm2d(_FrozenMixin, nn.BatchNorm2d):
    """``BatchNorm2d`` whose running statistics never move."""


class FrozenBatchNorm3d(_FrozenMixin, nn.BatchNorm3d):
    """``BatchNorm3d`` whose running statistics never move."""


_FROZEN: dict[type, type] = {
    nn.BatchNorm1d: FrozenBatchNorm1d,
    nn.BatchNorm2d: FrozenBatchNorm2d,
    nn.BatchNorm3d: FrozenBatchNorm3d,
}
_THAWED = {v: k for k, v in _FROZEN.items()}


def freeze_batchnorm(module: nn.Module) -> int:
    """Switch every batch-norm layer inside ``module`` to eval mode for good.

    The layers keep their parameters and buffers (and state-dict keys); only their class
    changes. Returns the number of layers switched.
    """
    count = 0
    for m in module.modules():
        if type(m) in _FROZEN:
            m.__class__ = _FROZEN[type(m)]
            m.eval()
            count += 1
    return count


def thaw_batchnorm(module: nn.Module) -> int:
    """Undo :func:`freeze_batchnorm` inside ``module``; returns the number of layers."""
    count = 0
    for m in module.modules():
        if type(m) in _THAWED:
            m.__class__ = _THAWED[type(m)]
            count += 1
    return count


def set_trainable(module: nn.Module, trainable: bool, *, train_bn: bool = False) -> None:
    """Freeze (``trainable=False``) or unfreeze the parameters of ``module``.

    Freezing also freezes its batch-norm statistics; with ``train_bn`` the batch-norm
    scale and shift stay trainable (their statistics are still frozen).
    """
    for m in module.modules():
        for p in m.parameters(recurse=False):
            p.requires_grad_(trainable or (train_bn and isinstance(m, _BatchNorm)))
    if trainable:
        thaw_batchnorm(module)
    else:
        freeze_batchnorm(module)


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of every parameter and buffer (for before/after comparisons)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}
