"""Inverted dropout with one rate per config, for the fused engine."""

from __future__ import annotations

import torch


def dropout(
    h: torch.Tensor,
    rate: torch.Tensor,
    *,
    kdim: int,
    rows: torch.Tensor | None,
    gen: torch.Generator | None,
) -> torch.Tensor:
    """Drop each unit of config ``k`` with probability ``rate[k]`` and scale the others by
    ``1 / (1 - rate[k])``, as ``nn.Dropout`` does.

    Args:
        h: activations with the K configs on dimension ``kdim`` (``(K, B, H)`` for linear
            layers, ``(B, K, C, H, W)`` for convolutions).
        rate: ``(K,)`` dropout rates, each below 1.
        kdim: where the configs are.
        rows: the configs to draw masks for (None: all); the others pass through.
        gen: the generator of the masks.

    ``torch.rand`` is the cheapest mask source on a CPU: 16-bit integers cut from 64-bit
    draws need fewer random bits but more elementwise passes, which cost more (measured at
    K = 64 configs of a 256-unit MLP).
    """
    sub = h if rows is None else h.index_select(kdim, rows)
    p = rate if rows is None else rate[rows]
    view = [1] * sub.dim()
    view[kdim] = -1
    p = p.view(view)
    mask = torch.rand(sub.shape, generator=gen, device=h.device)
    mask = mask.ge_(p).mul_(1 / (1 - p))  # 1 / (1 - p) where kept, else 0
    out = sub * mask
    return out if rows is None else h.index_copy(kdim, rows, out)
