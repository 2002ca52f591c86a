"""`Feed`: the samples a group of runs reads when each run may have its own split.

A study trains every variant once per seed, and each seed has its own split of one data
set. The fused engine trains such runs in one group: it concatenates the distinct
:class:`~nooverfit.data.tensors.SplitData` tensors once and shifts each run's indices
into its own block, so one gather serves every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData

#: the data of a batch of runs: one split for all, or one per run
DataArg = SplitData | Sequence[SplitData]


def per_run(data: DataArg, runs: int) -> list[SplitData]:
    """``data`` as one :class:`SplitData` per run.

    Raises:
        ValueError: if a sequence does not hold one entry per run, or its entries differ in
            what a batch of runs must share (input shape, classes, kind, device).
    """
    if isinstance(data, SplitData):
        return [data] * runs
    datas = list(data)
    if len(datas) != runs:
        raise ValueError(f"need one SplitData per run ({runs}), got {len(datas)}")
    first = datas[0] if datas else None
    for d in datas:
        assert first is not None
        if (d.in_shape, d.num_classes, d.kind, d.device) != (
            first.in_shape,
            first.num_classes,
            first.kind,
            first.device,
        ):
            raise ValueError(
                "the runs of one batch need data of one shape, class count, kind and device"
            )
    return datas


@dataclass(frozen=True, eq=False)
class Feed:
    """Features and labels of every distinct split of a group, stacked along samples.

    Attributes:
        x: features of every block, ``(sum N, ...)``.
        y: labels, ``(sum N,)``.
        block: index of each run's split among the distinct ones.
        offsets: first row of each distinct split's block.
        datas: each run's split data.
    """

    x: torch.Tensor
    y: torch.Tensor
    block: tuple[int, ...]
    offsets: tuple[int, ...]
    datas: tuple[SplitData, ...]

    @classmethod
    def of(cls, datas: Sequence[SplitData]) -> Feed:
        """The feed of runs whose data are ``datas`` (one per run; identical objects are
        stored once)."""
        distinct = list(dict.fromkeys(datas))  # SplitData hashes by identity
        block = tuple(distinct.index(d) for d in datas)
        if len(distinct) == 1:
            x, y = distinct[0].x, distinct[0].y
            offsets: tuple[int, ...] = (0,)
        else:
            x = torch.cat([d.x for d in distinct])
            y = torch.cat([d.y for d in distinct])
            sizes = [len(d.y) for d in distinct]
            offsets = tuple(sum(sizes[:i]) for i in range(len(sizes)))
        return cls(x, y, block, offsets, tuple(datas))

    def rows(self, index: torch.Tensor) -> torch.Tensor:
        """Features of rows ``index`` (any shape), ``(*index.shape, *sample shape)``.

        One ``index_select`` of whole rows: on a CPU about six times faster than advanced
        indexing of the multi-dimensional tensor, which gathers element by element
        (measured: 92 against 570 us for 24 x 512 digits images).
        """
        flat = self.x.reshape(len(self.x), -1)
        picked = flat.index_select(0, index.reshape(-1))
        return picked.view(*index.shape, *self.x.shape[1:])

    @property
    def first(self) -> SplitData:
        return self.datas[0]

    @property
    def blocks(self) -> int:
        return len(self.offsets)

    def train_index(self, run: int, config: RunConfig) -> torch.Tensor:
        """Rows of run ``run``'s training subset (``config.train_size`` /
        ``train_per_class`` of its own split)."""
        index = self.datas[run].train_index(
            train_size=config.train_size, train_per_class=config.train_per_class
        )
        return index + self.offsets[self.block[run]]

    def val_index(self, run: int) -> torch.Tensor:
        """Rows of run ``run``'s validation set."""
        return self.datas[run].val_index + self.offsets[self.block[run]]
