"""`prepare`: turn a pretrained network into one that retrains only the layers that matter.

Strategies (Yosinski et al., "How transferable are features in deep neural networks?",
NeurIPS 2014; Howard & Ruder, "Universal Language Model Fine-tuning", ACL 2018):

- ``head``: retrain the output layer only; everything else is frozen.
- ``io``: retrain the input block (input layer and its norm) and the output layer; the
  blocks between stay frozen.
- ``full``: fine-tune everything, the pretrained blocks at a lower rate
  (``lr_scale``, default 0.1) than the new output layer.
- ``gradual``: start as ``head``, then unfreeze one block from the top every ``every``
  epochs (through the callback :meth:`Transfer.callbacks` gives to ``fit``).

Discriminative learning rates: the block ``d`` blocks below the top trains at
``lr * lr_scale * lr_decay ** d``; new layers (a replaced output layer, an input layer
adapted to other channels) always train, at ``lr``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.seeding import seeded
from nooverfit.train import Callback
from nooverfit.transfer.blocks import (
    Block,
    find_blocks,
    replace_module,
    set_trainable,
    weight_layers,
)

if TYPE_CHECKING:
    from nooverfit.transfer.backbones import Pretrained

log = logging.getLogger(__name__)


class Strategy(str, Enum):
    """Which layers of a pretrained network are retrained."""

    HEAD = "head"
    IO = "io"
    FULL = "full"
    GRADUAL = "gradual"


STRATEGIES = tuple(s.value for s in Strategy)
#: Default ``lr_scale`` (rate of pretrained blocks relative to ``lr``) per strategy.
LR_SCALE = {Strategy.HEAD: 1.0, Strategy.IO: 1.0, Strategy.FULL: 0.1, Strategy.GRADUAL: 0.1}


@dataclass(frozen=True)
class Group:
    """Parameters that share a learning rate: ``lr = config.lr * lr_factor``."""

    name: str
    params: tuple[str, ...]
    lr_factor: float


@dataclass(frozen=True, eq=False)
class Transfer:
    """A network prepared for transfer, and how to train it.

    Attributes:
        model: the network, modified in place (new layers, frozen parts).
        strategy: the strategy applied.
        blocks: its blocks, input first.
        groups: learning-rate groups, the output layer first, then blocks top-down.
        input_layer: dotted name of the first weight layer.
        output_layer: dotted name of the output layer.
        every: epochs between two unfreezing steps (``gradual`` only).
        train_bn: whether frozen blocks still train their batch-norm scale and shift.
        new_layers: dotted names of the layers ``prepare`` put in (a new output layer,
            an input layer adapted to other channels), which always train.
        lr_scale: rate of the pretrained blocks relative to ``lr`` (at the top block).
        lr_decay: factor per block of depth below the top.
    """

    model: nn.Module
    strategy: Strategy
    blocks: tuple[Block, ...]
    groups: tuple[Group, ...]
    input_layer: str
    output_layer: str
    every: int
    train_bn: bool
    new_layers: tuple[str, ...] = ()
    lr_scale: float = 1.0
    lr_decay: float = 1.0

    def trainable(self) -> list[str]:
        """Names of the parameters that currently receive gradients."""
        return [n for n, p in self.model.named_parameters() if p.requires_grad]

    def optimizer(self, config: RunConfig) -> torch.optim.Optimizer:
        """The optimizer ``config`` names over :attr:`groups`, for ``fit(optimizer=...)``.

        Every parameter is included (frozen ones get no gradient, so the optimizer skips
        them) so that ``gradual`` can unfreeze blocks later. As in
        :func:`nooverfit.train.make_optimizer`, ``config.weight_decay`` applies to
        weights with two or more dimensions only; SGD uses momentum 0.9.
        """
        params = dict(self.model.named_parameters())
        groups = []
        for g in self.groups:
            for decay in (True, False):
                chosen = [params[n] for n in g.params if (params[n].ndim >= 2) == decay]
                if chosen:
                    groups.append(
                        {
                            "params": chosen,
                            "lr": config.lr * g.lr_factor,
                            "weight_decay": config.weight_decay if decay else 0.0,
                            "name": g.name,
                        }
                    )
        if config.optimizer == "sgd":
            return torch.optim.SGD(groups, lr=config.lr, momentum=0.9)
        return torch.optim.AdamW(groups, lr=config.lr)

    def unfreeze(self, index: int) -> None:
        """Make block ``index`` (0 = input block) trainable, batch norm included."""
        for name in self.blocks[index].modules:
            set_trainable(self.model.get_submodule(name), True)

    def callbacks(self) -> list[Callback]:
        """The ``fit`` callbacks the strategy needs (``gradual``: the unfreezing)."""
        if self.strategy is Strategy.GRADUAL:
            return [GradualUnfreeze(self)]
        return []


class GradualUnfreeze:
    """``fit`` callback: after every ``transfer.every`` epochs, unfreeze the next block
    from the top that still has frozen parameters."""

    def __init__(self, transfer: Transfer) -> None:
        self.transfer = transfer
        self.unfrozen: list[str] = []

    def __call__(self, epoch: int, logs: dict[str, float]) -> None:
        if (epoch + 1) % self.transfer.every:
            return
        model = self.transfer.model
        for i in reversed(range(len(self.transfer.blocks))):
            block = self.transfer.blocks[i]
            if not all(p.requires_grad for _, p in block.parameters(model)):
                self.transfer.unfreeze(i)
                self.unfrozen.append(block.name)
                log.info("epoch %d: unfroze block %s", epoch, block.name)
                return


def adapt_channels(
    layer: nn.Conv2d | nn.Linear, channels: int, *, source_channels: int | None = None
) -> nn.Conv2d | nn.Linear:
    """A copy of the input ``layer`` for images of ``channels`` channels.

    ``W_new[:, j] = sum_c W[:, c] / channels``, so an input whose channels all equal one
    grey image gives the response the old layer gave to that grey image in every channel.
    A convolution's channels are its ``in_channels``; a Linear layer reading flattened
    ``(C, H, W)`` images (an MLP of images) holds ``source_channels`` blocks of ``H * W``
    weights, one per channel, averaged the same way.

    Raises:
        ValueError: for grouped convolutions, ``channels < 1``, or a Linear layer without
            ``source_channels`` (or whose inputs are not that many blocks).
    """
    if channels < 1:
        raise ValueError(f"in_channels must be >= 1, got {channels}")
    if isinstance(layer, nn.Linear):
        return _adapt_linear(layer, channels, source_channels)
    conv = layer
    if conv.groups != 1:
        raise ValueError(f"cannot adapt a grouped input convolution (groups={conv.groups})")
    new = nn.Conv2d(
        channels,
        conv.out_channels,
        conv.kernel_size,  # type: ignore[arg-type]
        stride=conv.stride,  # type: ignore[arg-type]
        padding=conv.padding,  # type: ignore[arg-type]
        dilation=conv.dilation,  # type: ignore[arg-type]
        bias=conv.bias is not None,
        padding_mode=conv.padding_mode,
    )
    with torch.no_grad():
        new.weight.copy_((conv.weight.sum(1, keepdim=True) / channels).expand_as(new.weight))
        if conv.bias is not None and new.bias is not None:
            new.bias.copy_(conv.bias)
    return new.to(conv.weight.device)


def _adapt_linear(linear: nn.Linear, channels: int, source_channels: int | None) -> nn.Linear:
    """:func:`adapt_channels` of a Linear layer over flattened ``(C, H, W)`` images."""
    if source_channels is None or source_channels < 1 or linear.in_features % source_channels:
        raise ValueError(
            f"a Linear input layer of {linear.in_features} features cannot be adapted to "
            f"{channels}-channel images without the source's channel count (got "
            f"{source_channels}); expected a divisor of {linear.in_features}"
        )
    pixels = linear.in_features // source_channels
    new = nn.Linear(channels * pixels, linear.out_features, bias=linear.bias is not None)
    with torch.no_grad():
        # (out, C_source, H * W) -> summed over channels -> the same in each new channel
        per_pixel = linear.weight.view(linear.out_features, source_channels, pixels).sum(1)
        grey = (per_pixel / channels).unsqueeze(1).expand(-1, channels, -1)
        new.weight.copy_(grey.reshape(linear.out_features, channels * pixels))
        if linear.bias is not None and new.bias is not None:
            new.bias.copy_(linear.bias)
    return new.to(linear.weight.device)


def _resize_hook(size: tuple[int, int]):
    def hook(module: nn.Module, args: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        x = args[0]
        if x.shape[-2:] != size:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return (x, *args[1:])

    return hook


def prepare(
    model: nn.Module | Pretrained,
    *,
    strategy: str | Strategy,
    classes: int | None = None,
    in_channels: int | None = None,
    in_size: Sequence[int] | None = None,
    source_channels: int | None = None,
    split: str | None = None,
    lr_scale: float | None = None,
    lr_decay: float = 1.0,
    every: int = 5,
    train_bn: bool = False,
    seed: int = 0,
) -> Transfer:
    """Prepare a pretrained ``model`` (in place) for retraining with ``strategy``.

    Args:
        model: nooverfit network, torchvision model or any ``nn.Module`` whose children
            are registered input first (see :func:`find_blocks`); a loaded
            :class:`~nooverfit.transfer.backbones.Pretrained` stands for its ``model``.
        strategy: ``"head"``, ``"io"``, ``"full"`` or ``"gradual"`` (module docstring).
        classes: replace the output layer by a new ``nn.Linear`` with this many outputs,
            initialized from ``seed`` (default None: keep it).
        in_channels: adapt the input layer (a convolution, or the Linear layer of an MLP
            of images) to this many channels (:func:`adapt_channels`; default None: keep
            it).
        in_size: ``(H, W)`` the pretrained network expects; inputs of another size are
            resized bilinearly by a forward pre-hook (no weights, state dict unchanged).
        source_channels: the channels of the images the network was pretrained on, which
            ``in_channels`` needs where the input layer is Linear (an MLP of flattened
            images; default None: a convolution says its own).
        split: name of the module where the head starts (default None: the last block).
        lr_scale: rate of pretrained blocks relative to ``lr`` (default None: 0.1 for
            ``full`` and ``gradual``, 1 for ``head`` and ``io``).
        lr_decay: discriminative factor per block of depth below the top, in (0, 1]
            (default 1: one rate for all pretrained blocks).
        every: epochs between unfreezing steps for ``gradual`` (default 5).
        train_bn: keep training batch-norm scale and shift in frozen blocks; their
            running statistics stay frozen either way (default False).
        seed: seed of the new layers' initialization.

    Raises:
        ValueError: unknown strategy, bad rates, or layers that cannot be adapted.
    """
    if not isinstance(model, nn.Module):
        inner = getattr(model, "model", None)  # a loaded Pretrained (as_pretrained, Source)
        if not isinstance(inner, nn.Module):
            raise TypeError(
                f"model must be an nn.Module or a loaded pretrained network, got "
                f"{type(model).__name__}"
            )
        model = inner
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    strategy = Strategy(strategy)
    scale = LR_SCALE[strategy] if lr_scale is None else lr_scale
    if not 0 < scale <= 1 or not 0 < lr_decay <= 1:
        raise ValueError(f"lr_scale and lr_decay must be in (0, 1], got {scale}, {lr_decay}")
    if every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every}")
    blocks = find_blocks(model, split=split)
    layers = weight_layers(model)
    head = blocks[-1].modules
    outputs = [n for n in layers if any(n == m or n.startswith(f"{m}.") for m in head)]
    if not outputs:
        raise ValueError(f"the head block {blocks[-1].name!r} has no Linear or Conv layer")
    input_name, output_name = layers[0], outputs[-1]
    new: list[str] = []
    with seeded(seed):
        if classes is not None:
            old = model.get_submodule(output_name)
            if not isinstance(old, nn.Linear):
                raise ValueError(f"output layer {output_name!r} must be nn.Linear to replace")
            layer = nn.Linear(old.in_features, classes, bias=old.bias is not None)
            replace_module(model, output_name, layer.to(old.weight.device))
            new.append(output_name)
        first = model.get_submodule(input_name)
        had = source_channels if isinstance(first, nn.Linear) else None
        if in_channels is not None and getattr(first, "in_channels", had) != in_channels:
            if not isinstance(first, (nn.Conv2d, nn.Linear)):
                raise ValueError(
                    f"in_channels needs an nn.Conv2d or nn.Linear input layer, got {first}"
                )
            adapted = adapt_channels(first, in_channels, source_channels=source_channels)
            replace_module(model, input_name, adapted)
            new.append(input_name)
    if in_size is not None:
        model.register_forward_pre_hook(_resize_hook((int(in_size[0]), int(in_size[1]))))

    for block in blocks:
        for name in block.modules:
            set_trainable(model.get_submodule(name), strategy is Strategy.FULL, train_bn=train_bn)
    if strategy is Strategy.IO:
        for name in blocks[0].modules:
            set_trainable(model.get_submodule(name), True)
    for name in {output_name, *new}:
        set_trainable(model.get_submodule(name), True)

    owned = {n for n, _ in model.named_parameters()}
    groups = []
    for name in dict.fromkeys([output_name, *new]):
        params = tuple(f"{name}.{p}" for p, _ in model.get_submodule(name).named_parameters())
        groups.append(Group("output" if name == output_name else "input", params, 1.0))
    taken = {p for g in groups for p in g.params}
    for depth, block in enumerate(reversed(blocks)):
        params = tuple(n for n, _ in block.parameters(model) if n not in taken)
        if params:
            groups.append(Group(block.name, params, scale * lr_decay**depth))
    taken |= {p for g in groups for p in g.params}
    if owned - taken:  # parameters registered on the root itself: lowest rate
        groups.append(Group("rest", tuple(sorted(owned - taken)), groups[-1].lr_factor))
    return Transfer(
        model=model,
        strategy=strategy,
        blocks=blocks,
        groups=tuple(groups),
        input_layer=input_name,
        output_layer=output_name,
        every=every,
        train_bn=train_bn,
        new_layers=tuple(new),
        lr_scale=scale,
        lr_decay=lr_decay,
    )
