"""Batch norm of a fused group: per-config statistics, computed only for the configs
that have the layer (the others pass through)."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

BN_MOMENTUM = 0.1  # torch's default, as in the plain networks


class Norm(NamedTuple):
    """One batch-norm layer of K stacked networks.

    Attributes:
        k: configs in the group.
        rows: the configs that have the layer (None: all).
        gamma, beta: ``(K, H)`` affine parameters.
        running_mean, running_var: ``(K, H)`` running statistics, updated in place.
    """

    k: int
    rows: torch.Tensor | None
    gamma: torch.Tensor
    beta: torch.Tensor
    running_mean: torch.Tensor
    running_var: torch.Tensor


def batchnorm_whole(h: torch.Tensor, norm: Norm) -> torch.Tensor:
    """Training-mode batch norm when every config has a whole batch: ``F.batch_norm``
    over ``(B, Kb * H)`` (each config's units as channels), which also updates the
    running statistics as ``nn.BatchNorm`` does."""
    rows = norm.rows
    conv = h.dim() == 4
    kdim = 1 if conv else 0
    x = h.view(h.shape[0], norm.k, -1, *h.shape[2:]) if conv else h  # K on dim kdim
    sub = x if rows is None else x.index_select(kdim, rows)
    kb = sub.shape[kdim]
    gamma, beta = norm.gamma, norm.beta
    rm, rv = norm.running_mean, norm.running_var
    if rows is not None:
        gamma, beta, rm, rv = gamma[rows], beta[rows], rm[rows], rv[rows]
    b = h.shape[0] if conv else h.shape[1]
    # channels: (B, Kb, C, H, W) -> (B, Kb*C, H, W), or (Kb, B, H) -> (B, Kb*H)
    channels = sub.reshape(b, -1, *sub.shape[3:]) if conv else sub.transpose(0, 1).reshape(b, -1)
    y = F.batch_norm(
        channels,
        rm.view(-1),
        rv.view(-1),
        gamma.reshape(-1),
        beta.reshape(-1),
        training=True,
        momentum=BN_MOMENTUM,
        eps=1e-5,
    )
    if rows is not None:
        with torch.no_grad():
            norm.running_mean.index_copy_(0, rows, rm)
            norm.running_var.index_copy_(0, rows, rv)
    y = y.view(sub.shape) if conv else y.view(b, kb, -1).transpose(0, 1)
    if rows is not None:
        # in place: the layer before batch norm (linear/conv) keeps its inputs for
        # backward, not its output, and index_select saved only the indices
        y = x.index_copy_(kdim, rows, y)
    return y.reshape(h.shape)


def batchnorm_masked(
    h: torch.Tensor,
    norm: Norm,
    *,
    train: bool,
    valid: torch.Tensor | None,
    update: torch.Tensor | None,
) -> torch.Tensor:
    """Batch norm for the configs that have it, the rest passing through; in training,
    statistics over the ``valid`` ``(K, B)`` samples, running statistics updated for
    the ``update`` ``(K,)`` configs."""
    rows = norm.rows
    conv = h.dim() == 4
    # view as (K, B, H, S) for linear (S=1) or (B, K, C, S) for conv layers
    x = h.view(h.shape[0], norm.k, -1, h.shape[2] * h.shape[3]) if conv else h.unsqueeze(-1)
    kdim, bdim = (1, 0) if conv else (0, 1)

    def pick(t: torch.Tensor | None) -> torch.Tensor | None:  # the BN configs of (K, ...)
        return t if t is None or rows is None else t[rows]

    sub = x if rows is None else x.index_select(kdim, rows)
    gamma, beta = pick(norm.gamma), pick(norm.beta)  # (Kb, H)
    assert gamma is not None and beta is not None

    def per_k(t: torch.Tensor) -> torch.Tensor:  # (Kb, H) -> broadcastable to sub
        return t.unsqueeze(bdim).unsqueeze(-1)

    rm, rv = norm.running_mean, norm.running_var
    if train:
        valid = pick(valid)
        assert valid is not None
        m = valid.t() if conv else valid  # (B, Kb) or (Kb, B)
        m = m.unsqueeze(-1).unsqueeze(-1)
        n = valid.sum(1) * sub.shape[-1]  # (Kb,) elements per channel
        count = n.clamp_min(1).unsqueeze(1)  # a config without a batch: no NaN
        mean = (sub * m).sum((bdim, 3)) / count  # (Kb, H)
        centered = sub - per_k(mean)
        var = (centered.square() * m).sum((bdim, 3)) / count
        on = pick(update)
        if on is not None:
            with torch.no_grad():
                unbiased = var * (n / (n - 1).clamp_min(1)).unsqueeze(1)
                rate = (BN_MOMENTUM * on.float()).unsqueeze(1)
                if rows is None:
                    rm.lerp_(mean, rate)
                    rv.lerp_(unbiased, rate)
                else:
                    rm.index_copy_(0, rows, rm[rows].lerp_(mean, rate))
                    rv.index_copy_(0, rows, rv[rows].lerp_(unbiased, rate))
        y = centered * per_k(torch.rsqrt(var + 1e-5))
    else:
        mean, var = (rm, rv) if rows is None else (rm[rows], rv[rows])
        y = (sub - per_k(mean)) * per_k(torch.rsqrt(var + 1e-5))
    y = y * per_k(gamma) + per_k(beta)
    if rows is not None:
        # in place: the layer before batch norm (linear/conv) keeps its inputs for
        # backward, not its output, and index_select saved only the indices
        y = x.index_copy_(kdim, rows, y)
    return y.reshape(h.shape)
