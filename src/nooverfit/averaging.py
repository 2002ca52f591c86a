"""Exponential moving averages of the weights (``RunConfig.ema``), for both engines.

An average of the weights along the last part of training sits nearer the middle of a
wide, flat region of the loss than the last iterate, which wanders around it; it
generalizes better at no extra training cost (Polyak & Juditsky, 1992; Izmailov et al.,
"Averaging Weights Leads to Wider Optima", UAI 2018). After each optimizer step::

    d_t = min(decay, (1 + t) / (4 + t))      # t: steps so far; short runs average less
    avg = d_t * avg + (1 - d_t) * weights

The warm-up of ``d_t`` (TensorFlow's ``ExponentialMovingAverage`` with ``num_updates``
has ``(1 + t) / (10 + t)``) keeps the average from lingering on the initial weights in
runs of a few hundred steps. A run is evaluated, kept (best epoch) and saved with the averaged
weights: the training loop swaps them in for evaluation and out again for the next epoch.
Batch-norm statistics stay those of the trained weights.

- :class:`RowAverage`: the rows ``(K, P)`` of a fused group's parameter buffer, each row
  with its own decay (0: the row follows its weights exactly).
- :class:`ModuleAverage`: one ``nn.Module``'s parameters (the sequential engine).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

#: the warm-up's constant: d_t = (1 + t) / (WARMUP + t) caps the decay early on, so the
#: average spans at most about the last third of the steps so far (SWA averages over
#: the last quarter or so of training)
WARMUP = 4.0


def warm_decay(decay: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """The decay of the next update: ``min(decay, (1 + t) / (4 + t))`` elementwise."""
    return torch.minimum(decay, (1 + steps) / (WARMUP + steps))


class RowAverage:
    """Moving averages of some rows of a fused group's ``(K, P)`` parameter buffer.

    Only the rows that average are held and updated (an update costs a pass over their
    weights, not the group's).

    Args:
        flat: the group's parameters ``(K, P)`` (the average starts from them).
        decays: each row's decay in [0, 1) (0: the row is not averaged).
    """

    def __init__(self, flat: torch.Tensor, decays: Sequence[float]) -> None:
        dev = flat.device
        self.rows = torch.tensor([r for r, d in enumerate(decays) if d > 0], device=dev)
        self.avg = flat.detach().index_select(0, self.rows).clone()
        chosen = [d for d in decays if d > 0]
        self.decay = torch.tensor(chosen, dtype=flat.dtype, device=dev).view(-1, 1)
        self.steps = torch.zeros_like(self.decay)
        self.swapped = False

    @classmethod
    def of(cls, flat: torch.Tensor, decays: Sequence[float]) -> RowAverage | None:
        """An average of ``flat``'s rows, or None when no row averages (``decays`` all 0)."""
        return cls(flat, decays) if any(d > 0 for d in decays) else None

    @torch.no_grad()
    def update(self, flat: torch.Tensor, active: torch.Tensor) -> None:
        """Fold the weights of the ``active`` rows ``(K,)`` bool (those that stepped) in."""
        on = active.index_select(0, self.rows).view(-1, 1).to(flat.dtype)
        weight = (1 - warm_decay(self.decay, self.steps)) * on
        self.avg.lerp_(flat.detach().index_select(0, self.rows), weight)
        self.steps += on

    @torch.no_grad()
    def swap(self, flat: torch.Tensor) -> None:
        """Exchange the buffer's weights with the averages (a second call undoes it)."""
        held = flat.detach().index_select(0, self.rows)
        flat.detach().index_copy_(0, self.rows, self.avg)
        self.avg = held
        self.swapped = not self.swapped

    def apply(self, flat: torch.Tensor) -> None:
        """Put the averaged weights in the buffer, unless they are there already."""
        if not self.swapped:
            self.swap(flat)

    def restore(self, flat: torch.Tensor) -> None:
        """Put the trained weights back in the buffer, unless they are there already."""
        if self.swapped:
            self.swap(flat)

    def select(self, rows: list[int]) -> None:
        """Keep only rows ``rows`` (in that order), as the group's net does."""
        mine = {int(r): i for i, r in enumerate(self.rows.tolist())}
        kept = [(new, mine[r]) for new, r in enumerate(rows) if r in mine]
        dev = self.avg.device
        self.rows = torch.tensor([new for new, _ in kept], dtype=torch.long, device=dev)
        index = torch.tensor([old for _, old in kept], dtype=torch.long, device=dev)
        self.avg = self.avg.index_select(0, index)
        self.decay = self.decay.index_select(0, index)
        self.steps = self.steps.index_select(0, index)


class ModuleAverage:
    """The moving average of one module's parameters (the sequential engine's).

    Args:
        model: the network (the average starts from its weights).
        decay: in (0, 1).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.params = [p for p in model.parameters()]
        self.avg = [p.detach().clone() for p in self.params]
        self.decay = torch.tensor(decay, dtype=torch.float64)
        self.steps = torch.zeros((), dtype=torch.float64)
        self.swapped = False

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current weights in (after an optimizer step)."""
        weight = 1 - float(warm_decay(self.decay, self.steps))
        for a, p in zip(self.avg, self.params, strict=True):
            a.lerp_(p.detach(), weight)
        self.steps += 1

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the module's weights with the averages (a second call undoes it)."""
        for a, p in zip(self.avg, self.params, strict=True):
            held = p.detach().clone()
            p.detach().copy_(a)
            a.copy_(held)
        self.swapped = not self.swapped

    def apply(self) -> None:
        """Put the averaged weights in the module, unless they are there already."""
        if not self.swapped:
            self.swap()

    def restore(self) -> None:
        """Put the trained weights back, unless they are there already."""
        if self.swapped:
            self.swap()
