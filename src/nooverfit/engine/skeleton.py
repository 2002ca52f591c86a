"""The layer sequences of stacked networks: which layers, in which order, and whether
one :class:`~nooverfit.engine.stacked.StackedNet` computes a group of networks exactly.

A plain network is a sequence of ``(op, i)``: ``op`` one of ``linear``, ``conv``, ``bn``,
``dropout``, ``relu``, ``pool``, ``flatten``, ``front``, and ``i`` the index of the
weighted layer it follows (-1 before the first). The networks of a group share a
*skeleton* (the sequence without batch norm and dropout); each may add batch norm and
dropout after its skeleton layers.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from nooverfit.models import LogSpectrogram
from nooverfit.shifts import CopyMean, ShiftCopies


def layer_ops(net: nn.Sequential) -> list[tuple[str, int]]:
    """The layer sequence of a plain network as ``(op, weighted-layer index)``."""
    ops: list[tuple[str, int]] = []
    i = -1
    for m in net:
        if isinstance(m, nn.Linear | nn.Conv2d):
            i += 1
            ops.append(("linear" if isinstance(m, nn.Linear) else "conv", i))
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            ops.append(("bn", i))
        elif isinstance(m, nn.Dropout):
            ops.append(("dropout", i))
        elif isinstance(m, nn.ReLU):
            ops.append(("relu", i))
        elif isinstance(m, nn.MaxPool2d):
            ops.append(("pool", i))
        elif isinstance(m, nn.Flatten):
            ops.append(("flatten", i))
        elif isinstance(m, LogSpectrogram):
            ops.append(("front", i))
        elif isinstance(m, ShiftCopies):
            ops.append(("copies", i))
        elif isinstance(m, CopyMean):
            ops.append(("mean", i))
        else:
            raise TypeError(f"cannot stack layer {type(m).__name__}")
    return ops


def layer_plan(net: nn.Sequential, rank: int) -> list[tuple[str, int]] | None:
    """:func:`layer_ops` of ``net`` when :class:`StackedNet` computes it as ``net`` does on
    samples of ``rank`` dimensions, else None: nothing but a front end or Flatten before
    the first weighted layer (ReLU and dropout there would act on the shared input),
    convolutions, pooling and BatchNorm2d on images ``(C, H, W)``, linear layers and
    BatchNorm1d on vectors, batch norm and dropout after a weighted layer."""
    try:
        ops = layer_ops(net)
    except TypeError:
        return None
    for (op, i), m in zip(ops, net, strict=True):
        if op == "front":
            if i >= 0 or not isinstance(m, LogSpectrogram):
                return None
            rank = 3 if m.channel else 2
        elif op == "flatten":
            rank = 1
        elif i < 0 and op != "conv" and op != "linear":
            return None
        need = {"conv": 3, "pool": 3, "linear": 1}.get(op)
        if op == "bn":
            need = 3 if isinstance(m, nn.BatchNorm2d) else 1
        if need is not None and rank != need:
            return None
    return ops


def skeleton_of(net: nn.Sequential) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """What the networks of one :class:`StackedNet` share: the order of their layers
    other than batch norm and dropout, with each convolution's kernel size (widths may
    differ: narrower networks are padded)."""
    return tuple(
        (type(m).__name__, tuple(m.kernel_size) if isinstance(m, nn.Conv2d) else ())
        for m in net
        if not isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d | nn.Dropout)
    )


def layer_union(plans: Sequence[list[tuple[str, int]]]) -> list[tuple[str, int]] | None:
    """The layer sequence of a group: the shared skeleton, each batch norm and dropout
    that any network has after its skeleton layer (batch norm first); None when that
    would not give each network its own sequence back (one of them at two places, or
    dropout before batch norm after one layer)."""
    skeleton = [p for p in plans[0] if p[0] not in ("bn", "dropout")]
    extras: list[list[tuple[str, int]]] = [[] for _ in skeleton]
    for plan in plans:
        if [p for p in plan if p[0] not in ("bn", "dropout")] != skeleton:
            return None
        pos = -1
        for op in plan:
            if op[0] in ("bn", "dropout"):
                if pos < 0:
                    return None
                if op not in extras[pos]:
                    extras[pos].append(op)
            else:
                pos += 1
    placed = [op for more in extras for op in more]
    if len(placed) != len(set(placed)):
        return None
    ops: list[tuple[str, int]] = []
    for op, more in zip(skeleton, extras, strict=True):
        ops += [op, *sorted(more, key=lambda o: o[0] != "bn")]
    for plan in plans:  # each network's own order, as the group runs it
        if [op for op in ops if op in plan] != plan:
            return None
    return ops
