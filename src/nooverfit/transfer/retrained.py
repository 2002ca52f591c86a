"""Which layers a transfer strategy retrains and which it keeps frozen, read from the
prepared network itself (its parameters' ``requires_grad``), and said in words: a report
that named a run ``transfer:io`` said nowhere what that froze, and its code trained a
fresh network instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from nooverfit._words import counted
from nooverfit.transfer.blocks import NORM_LAYERS, weight_layers
from nooverfit.transfer.strategy import Strategy, Transfer

#: Layers a sentence names before it says "and N more" (a ResNet has twenty).
NAMED = 4


@dataclass(frozen=True)
class Retrained:
    """The weight layers of a prepared network as training starts.

    Attributes:
        strategy: the strategy applied.
        trained: the layers that train from the first epoch, input first, each as
            ``"0 (Conv2d 1→4)"``.
        new: those of ``trained`` that ``prepare`` put in (not pretrained).
        frozen: the layers that keep the source's weights, input first (``gradual``
            unfreezes them later, block by block from the top).
        frozen_norms: whether a frozen part holds batch or layer norm (its statistics are
            frozen too).
        frozen_blocks: the blocks with frozen parameters (``gradual`` unfreezes one at a
            time).
        every: epochs between unfreezing steps (``gradual``).
        lr_scale: the pretrained layers' rate relative to ``lr`` at the top block.
        lr_decay: its factor per block below the top.
    """

    strategy: Strategy
    trained: tuple[str, ...]
    new: tuple[str, ...]
    frozen: tuple[str, ...]
    frozen_norms: bool
    frozen_blocks: int
    every: int
    lr_scale: float
    lr_decay: float


def _layer(name: str, module: nn.Module) -> str:
    """``"0 (Conv2d 1→4)"``: a weight layer's name, type and sizes."""
    sizes = ""
    if isinstance(module, nn.Linear):
        sizes = f" {module.in_features}→{module.out_features}"
    elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        sizes = f" {module.in_channels}→{module.out_channels}"
    return f"{name} ({type(module).__name__}{sizes})"


def retrained(transfer: Transfer) -> Retrained:
    """What ``transfer`` trains from its first epoch and what it keeps frozen: a layer
    trains when all its parameters require gradients."""
    model = transfer.model
    names = weight_layers(model)
    trained, new, frozen = [], [], []
    for name in names:
        module = model.get_submodule(name)
        said = _layer(name, module)
        if not all(p.requires_grad for p in module.parameters()):
            frozen.append(said)
            continue
        role = {names[0]: "input layer ", transfer.output_layer: "output layer "}.get(name, "")
        if name in transfer.new_layers:
            role = ("new " if name == transfer.output_layer else "adapted ") + role
        trained.append(f"{role or 'layer '}{said}")
        if name in transfer.new_layers:
            new.append(trained[-1])
    norms = any(
        isinstance(m, NORM_LAYERS) and not all(p.requires_grad for p in m.parameters())
        for m in model.modules()
    )
    return Retrained(
        strategy=transfer.strategy,
        trained=tuple(trained),
        new=tuple(new),
        frozen=tuple(frozen),
        frozen_norms=norms,
        frozen_blocks=sum(
            not all(p.requires_grad for _, p in block.parameters(model))
            for block in transfer.blocks
        ),
        every=transfer.every,
        lr_scale=transfer.lr_scale,
        lr_decay=transfer.lr_decay,
    )


def _names(layers: Sequence[str]) -> str:
    """``"a, b and c"``, or the first :data:`NAMED` and ``"and N more"``."""
    if len(layers) > NAMED:
        return f"{', '.join(layers[:NAMED])} and {len(layers) - NAMED} more"
    return " and ".join([", ".join(layers[:-1]), layers[-1]] if len(layers) > 1 else layers)


def _rate(r: Retrained) -> str:
    """The pretrained layers' rate: ``"lr"``, or ``"0.1 × lr"`` (and its decay)."""
    if r.lr_scale == 1 and r.lr_decay == 1:
        return "lr"
    decay = f", × {r.lr_decay:g} per block further down" if r.lr_decay != 1 else ""
    return f"{r.lr_scale:g} × lr{decay}"


def retrained_words(r: Retrained, *, epochs: int | None = None) -> str:
    """One clause, after the strategy's name: what it trains (new and adapted layers said
    so), what stays frozen at the source's weights, and for ``full``/``gradual`` at what
    rate the pretrained layers train; for ``gradual`` with ``epochs`` (the most a run
    trains), how many blocks unfreeze in time to train (none in a short run: then it
    trains as ``head`` does)."""
    trained = _names(r.trained)
    one = len(r.frozen) == 1
    frozen = counted(len(r.frozen), "pretrained layer")
    norms = f", with {'its' if one else 'their'} normalization" if r.frozen_norms else ""
    if r.strategy is Strategy.FULL or not r.frozen:
        why = (
            " (none frozen: the source has no layer between its input and output layers)"
            if r.strategy is not Strategy.FULL
            else ""
        )
        rates = ""
        if r.new and len(r.trained) > len(r.new):  # new and pretrained layers both train
            rate = _rate(r)
            rates = ", all at lr" if rate == "lr" else f": new ones at lr, pretrained at {rate}"
        return f"retrains every layer, {trained}{why}{rates}"
    if r.strategy is Strategy.GRADUAL:
        return (
            f"retrains only {trained} at first; {frozen} {'starts' if one else 'start'} "
            f"frozen{norms}: {_names(r.frozen)}; every {r.every} epochs one more block of "
            f"them, from the top, is unfrozen, at {_rate(r)}{_in_time(r, epochs)}"
        )
    return (
        f"retrains only {trained}; {frozen} {'stays' if one else 'stay'} frozen at the "
        f"source's weights{norms}: {_names(r.frozen)}"
    )


def _in_time(r: Retrained, epochs: int | None) -> str:
    """How many blocks ``gradual`` unfreezes before a run of ``epochs`` ends: one after
    every ``r.every``-th epoch, trained from the next epoch on."""
    if epochs is None:
        return ""
    k = min((epochs - 1) // r.every, r.frozen_blocks)
    if k == 0:
        return f": none within its {counted(epochs, 'epoch')}, so it trains as head does"
    return f": {k} of the {r.frozen_blocks} within its {counted(epochs, 'epoch')}"
