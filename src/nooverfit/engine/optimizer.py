"""`StackedOptimizer`: one AdamW or SGD-momentum step for every config of a fused group,
each with its own learning rate, L2, weight decay and step count."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, cast

import numpy as np
import torch

from nooverfit.config import RunConfig
from nooverfit.engine.functional import BatchedNet

BETAS = (0.9, 0.999)  # torch.optim.AdamW's defaults, as make_optimizer uses them
EPS = 1e-8
MOMENTUM = 0.9


def weight_penalty(
    params: torch.Tensor | list[torch.Tensor],
    grads: torch.Tensor | list[torch.Tensor],
    *,
    l2: torch.Tensor | float | None,
    shrink: torch.Tensor | float | None,
    kernel: bool = False,
) -> float:
    """L2 and weight decay on weight matrices: the one place either is applied, whichever
    update follows (the eager one, or torch's fused Adam kernel on rows or blocks).

    - Coupled L2 (and SGD's weight decay): ``g += l2 * W``, the gradient of
      ``l2 / 2 * ||W||^2``, before the optimizer's moments see the gradient.
    - Decoupled weight decay (Adam/AdamW): ``W *= shrink`` with ``shrink = 1 - lr * wd``;
      it does not go through the moments, so it may come before or after them.

    Args:
        params: weight matrices, ``(K, cols)`` with per-config ``(K, 1)`` factors, or a list
            of tensors (one config's rows) with scalar factors.
        grads: their gradients, same shapes.
        l2: the coupled factor, or None for none.
        shrink: the decoupled factor, or None for none.
        kernel: the fused Adam kernel follows on one config's rows. Where L2 is the only
            penalty it is left to the kernel's own ``weight_decay`` (coupled, as in
            ``torch.optim.Adam``), the way results were computed before this helper: the
            kernel rounds ``g + l2 * W`` differently in the last bit.

    Returns:
        The ``weight_decay`` to hand the kernel: ``l2`` when left to it, else 0.
    """
    if kernel and l2 is not None and shrink is None:
        assert isinstance(l2, float)
        return l2
    if l2 is not None:
        if isinstance(grads, list):
            assert isinstance(params, list) and isinstance(l2, float)
            torch._foreach_add_(grads, torch._foreach_mul(params, l2))
        else:
            assert isinstance(params, torch.Tensor) and isinstance(l2, torch.Tensor)
            grads.addcmul_(params, l2)
    if shrink is not None:
        if isinstance(params, list):
            torch._foreach_mul_(params, shrink)
        else:
            params.mul_(shrink)
    return 0.0


class RowCall(NamedTuple):
    """One fused-Adam call over config rows that share ``lr``, ``l2`` and ``wd``."""

    lr: float
    l2: float
    wd: float
    params: list[torch.Tensor]
    grads: list[torch.Tensor]
    m: list[torch.Tensor]
    v: list[torch.Tensor]
    steps: list[torch.Tensor]


class StackedOptimizer:
    """One AdamW or SGD-momentum step for all K configs of a batched net.

    Matches ``torch.optim.AdamW`` / ``SGD(momentum=0.9)`` on
    :func:`nooverfit.regularize.decay_groups`, per config: learning rate ``lr_k``, coupled
    L2 (``g += l2_k * W`` on >= 2-D weights, the gradient of ``l2 / 2 * ||W||^2``), AdamW's
    decoupled ``W *= 1 - lr_k * wd_k`` (SGD: coupled, ``g += wd_k * W``). A config whose
    ``active`` flag is off this step changes nothing: no weight, moment or step count.
    """

    def __init__(self, net: BatchedNet, configs: Sequence[RunConfig]) -> None:
        dev, k = net.device, net.k
        self.net = net
        self.sgd = configs[0].optimizer == "sgd"

        def column(values: list[float]) -> torch.Tensor:
            return torch.tensor(values, dtype=torch.float64, device=dev).view(k, 1)

        self.lr = column([c.lr for c in configs])
        coupled = [c.l2 + (c.weight_decay if self.sgd else 0.0) for c in configs]
        decoupled = [0.0 if self.sgd else c.lr * c.weight_decay for c in configs]
        self.l2 = column(coupled).float() if any(coupled) else None  # (K, 1)
        self.decay = column(decoupled).float() if any(decoupled) else None  # (K, 1)
        self.m = torch.zeros_like(net.flat)
        self.v = torch.zeros_like(net.flat) if not self.sgd else None
        self.steps = torch.zeros(k, 1, dtype=torch.float64, device=dev)
        # torch's fused Adam kernel updates whole tensors in one pass (the eager ops below
        # take eight, which on a CPU cost more than the matrix products at K >= 64). It
        # takes one learning rate, weight decay and step count per call or tensor:
        # - on a CPU it runs on each config's row (its weight matrices with the config's
        #   L2 as the kernel's weight decay, and the rest): one pass per row;
        # - on a GPU, where thousands of rows would cost more host time per step than
        #   the update itself, on blocks of adjacent configs with one learning rate and
        #   step count, after L2 and weight decay are applied to all configs at once.
        self.kernel = (
            not self.sgd and dev.type in ("cpu", "cuda") and hasattr(torch, "_fused_adam_")
        )
        self.per_row = dev.type == "cpu"
        self._configs = list(configs)
        self._lrs = [c.lr for c in configs]
        self._count = np.zeros(k, dtype=np.int64)  # steps taken, per config (host's view)
        self._step_t = torch.zeros(k, device=dev)  # the same on the device, for the kernel
        self._plan_for = b""
        self._plan: tuple[torch.Tensor, list] | None = None

    def select(self, rows: list[int]) -> None:
        """Keep only configs ``rows``, after ``net.select(rows)``."""
        index = torch.tensor(rows, device=self.net.device)
        self.m = self.m[index]
        self.v = self.v[index] if self.v is not None else None
        self.steps, self.lr = self.steps[index], self.lr[index]
        self.l2 = self.l2[index] if self.l2 is not None else None
        self.decay = self.decay[index] if self.decay is not None else None
        self._configs = [self._configs[r] for r in rows]
        self._lrs = [self._lrs[r] for r in rows]
        self._count = self._count[rows]
        self._step_t = self._step_t[index]
        self._plan_for, self._plan = b"", None

    def anneal(self, shares: Sequence[float]) -> None:
        """Set each row's learning rate to its config's ``lr`` times ``shares[row]`` (cosine
        annealing, :mod:`nooverfit.annealing`); AdamW's decoupled decay follows the rate,
        as in ``torch.optim.AdamW``."""
        dev, k = self.net.device, self.net.k
        lrs = [c.lr * f for c, f in zip(self._configs, shares, strict=True)]
        if lrs == self._lrs:
            return
        self._lrs = lrs
        self.lr = torch.tensor(lrs, dtype=torch.float64, device=dev).view(k, 1)
        if self.decay is not None:
            decoupled = [lr * c.weight_decay for lr, c in zip(lrs, self._configs, strict=True)]
            self.decay = torch.tensor(decoupled, device=dev).view(k, 1)
        self._plan_for, self._plan = b"", None

    def _blocks(self, active: np.ndarray) -> list[tuple[float, list[slice]]]:
        """Maximal runs of adjacent ``active`` configs with one learning rate and step
        count, as ``(lr, [row slices])`` per learning rate."""
        by_lr: dict[float, list[slice]] = {}
        k, n = 0, len(active)
        while k < n:
            if not active[k]:
                k += 1
                continue
            end = k + 1
            while (
                end < n
                and active[end]
                and self._lrs[end] == self._lrs[k]
                and self._count[end] == self._count[k]
            ):
                end += 1
            by_lr.setdefault(self._lrs[k], []).append(slice(k, end))
            k = end
        return list(by_lr.items())

    def _row_calls(self, active: np.ndarray) -> list[RowCall]:
        """Kernel calls over the rows of the ``active`` configs, one per distinct
        ``(lr, l2, wd)``: its weight matrices' part with the config's L2 and weight decay,
        and the rest without."""
        assert self.v is not None
        cols = self.net.matrix_columns
        buffers = (self.net.flat.detach(), self.net.grad, self.m, self.v)
        calls: dict[tuple[float, float, float], list[tuple[torch.Tensor, ...]]] = {}
        for k in np.flatnonzero(active):
            c = self._configs[k]
            for part, key in (
                (slice(0, cols), (self._lrs[k], c.l2, c.weight_decay)),
                (slice(cols, None), (self._lrs[k], 0.0, 0.0)),
            ):
                row = tuple(b[k, part] for b in buffers)
                calls.setdefault(key, []).append((*row, self._step_t[k]))
        return [
            RowCall(*key, *(list(x) for x in zip(*rows, strict=True)))
            for key, rows in calls.items()
        ]

    def _kernel_step(self, active: torch.Tensor, rows: np.ndarray) -> None:
        """Adam via ``torch._fused_adam_`` on rows (CPU) or blocks (GPU) of the ``rows``
        configs."""
        key = rows.tobytes()
        if key != self._plan_for or self._plan is None:  # the pattern rarely changes
            on = torch.tensor(rows, dtype=torch.float32, device=self.net.device)
            plan = self._row_calls(rows) if self.per_row else self._blocks(rows)
            self._plan_for, self._plan = key, (on, plan)
        on, plan = self._plan
        self._count += rows
        self._step_t += on
        if self.per_row:
            self._row_step(cast(list[RowCall], plan))
        else:
            self._block_step(active, cast(list[tuple[float, list[slice]]], plan))

    @staticmethod
    def _row_step(calls: list[RowCall]) -> None:
        b1, b2 = BETAS
        for c in calls:
            decay = weight_penalty(
                c.params,
                c.grads,
                l2=c.l2 or None,
                shrink=1 - c.lr * c.wd if c.wd else None,
                kernel=True,
            )
            torch._fused_adam_(
                c.params,
                c.grads,
                c.m,
                c.v,
                [],
                c.steps,
                amsgrad=False,
                lr=c.lr,
                beta1=b1,
                beta2=b2,
                weight_decay=decay,
                eps=EPS,
                maximize=False,
            )

    def _block_step(self, active: torch.Tensor, blocks: list[tuple[float, list[slice]]]) -> None:
        assert self.v is not None
        cols = self.net.matrix_columns
        p, g = self.net.flat.detach(), self.net.grad
        weight_penalty(p[:, :cols], g[:, :cols], l2=self.l2, shrink=self._shrink(active))
        b1, b2 = BETAS
        for lr, parts in blocks:
            torch._fused_adam_(
                [p[b] for b in parts],
                [g[b] for b in parts],
                [self.m[b] for b in parts],
                [self.v[b] for b in parts],
                [],
                [self._step_t[b.start] for b in parts],  # one count per block
                amsgrad=False,
                lr=lr,
                beta1=b1,
                beta2=b2,
                weight_decay=0.0,
                eps=EPS,
                maximize=False,
            )

    @torch.no_grad()
    def step(self, active: torch.Tensor, rows: np.ndarray) -> None:
        """Update the configs that take this step; ``net.grad`` is consumed.

        Args:
            active: ``(K,)`` bool on the device, the configs that step.
            rows: the same on the host (a numpy bool array), or a superset of it whose
                extra configs have zero gradients (a GPU learns of diverged configs only
                at the end of an epoch, so as not to wait for the device every step).
                The fused Adam kernel steps every config of ``rows``: an extra one still
                moves by its momentum (and coupled L2), so a config that diverged on a GPU
                drifts until the epoch ends, and its last epoch and final weights are
                not quite those ``fit`` records (the eager update and SGD leave it).
        """
        if not rows.any():
            return  # e.g. a step only configs with larger training sets take
        if self.kernel:  # counts its steps in _count/_step_t; self.steps is the eager path's
            self._kernel_step(active, rows)
            return
        a64 = active.view(-1, 1).double()
        a = a64.float()  # (K, 1)
        b1, b2 = BETAS
        coef: tuple[torch.Tensor, ...]
        if self.sgd:
            coef = (1 - (1 - MOMENTUM) * a, a, (-self.lr * a64).float())
        else:
            self.steps += a64
            t = self.steps.clamp_min(1)
            step_size = (self.lr * a64 / (1 - b1**t)).float()  # lr / bias_correction1
            coef = ((1 - b1) * a, (1 - b2) * a, (1 / (1 - b2**t).sqrt()).float(), -step_size)
        self._update(slice(None), self.net.matrix_columns, coef, self._shrink(active))

    def _shrink(self, active: torch.Tensor) -> torch.Tensor | None:
        """AdamW's decoupled factor ``1 - lr * wd`` per config, 1 for inactive ones."""
        if self.decay is None:
            return None
        return 1 - self.decay * active.view(-1, 1).float()

    def _update(
        self, part: slice, cols: int, coef: tuple[torch.Tensor, ...], shrink: torch.Tensor | None
    ) -> None:
        """The update of columns ``part``; its first ``cols`` columns are weight matrices."""
        p, g, m = self.net.flat[:, part], self.net.grad[:, part], self.m[:, part]
        if cols:
            weight_penalty(p[:, :cols], g[:, :cols], l2=self.l2, shrink=shrink)
        if self.sgd:
            keep, on, lr = coef
            m.mul_(keep).addcmul_(g, on)  # buf = 0.9 buf + g; unchanged when inactive
            p.addcmul_(m, lr)
            return
        assert self.v is not None
        w1, w2, inv_bc2, neg_step = coef
        v = self.v[:, part]
        m.lerp_(g, w1)
        v.lerp_(g.square_(), w2)
        denom = torch.sqrt(v, out=g).mul_(inv_bc2).add_(EPS)
        p.addcmul_(denom.reciprocal_().mul_(m), neg_step)
