"""The layers of a stacked network: linear, batch norm and dropout, K configs at once.

`stacked_linear`: K linear layers as one ``baddbmm``, whose backward writes each
config's weight and bias gradients straight into their views of the group's gradient
buffer.

Autograd would compute each gradient into a new tensor and add it to a buffer zeroed
before every step: at K = 64 configs of a 256-unit MLP that is a 16 MB allocation, an
extra read and write of every gradient and a zeroing pass per step, about a tenth of a
CPU step. Each stacked weight is used once per forward pass, so its gradient can be
written, not accumulated.

On a CPU, a layer with few outputs per config (the output layer of a 10-class network)
is computed transposed, ``(w^T h^T)^T``: MKL's batched ``(B, in) @ (in, 10)`` runs at
about a quarter of the speed of ``(10, in) @ (in, B)`` (measured on the 2-core EPYC at
K = 24, B = 64, one thread: 0.55 against 0.15 ms forward, 0.65 against 0.16 ms for the
weight gradient; from 16 outputs on, the two are alike).

Batch norm of a fused group: per-config statistics, computed only for the configs that
have the layer (the others pass through).

Dropout: inverted, with one rate per config.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F

#: on a CPU, layers with fewer outputs than this are computed transposed
NARROW = 16


def _narrow(w: torch.Tensor) -> bool:
    return w.shape[2] < NARROW and w.device.type == "cpu"


def _batched(h: torch.Tensor, k: int) -> torch.Tensor:
    """``h`` as ``(K, B, in)``: a shared ``(B, in)`` batch is expanded, not copied."""
    return h.expand(k, *h.shape) if h.dim() == 2 else h


@torch.no_grad()
def linear(h: torch.Tensor, w: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``h @ w + bias`` per config, ``(K, B, out)``, outside autograd (evaluation, and the
    forward of :func:`stacked_linear`, whose arguments these are). A narrow layer's
    output has the strides of a transposed ``(K, out, B)`` product but is no view, so that
    it can be changed in place (ReLU)."""
    k, hk = w.shape[0], _batched(h, w.shape[0])
    if not _narrow(w):
        return torch.baddbmm(bias.unsqueeze(1), hk, w)
    b, n = hk.shape[1], w.shape[2]
    out = torch.empty_strided((k, b, n), (n * b, 1, b), dtype=hk.dtype, device=hk.device)
    torch.baddbmm(bias.unsqueeze(2), w.mT, hk.mT, out=out.mT)
    return out


class _StackedLinear(torch.autograd.Function):
    """``h @ w + bias`` per config; ``w.grad`` and ``bias.grad`` are overwritten."""

    @staticmethod
    def forward(
        ctx: Any,
        h: torch.Tensor,
        w: torch.Tensor,
        bias: torch.Tensor,
        mask: torch.Tensor | None,
    ) -> torch.Tensor:
        ctx.save_for_backward(h, w)
        ctx.grads = (w.grad, bias.grad)
        ctx.mask = mask
        return linear(h, w, bias)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, None, None, None]:
        h, w = ctx.saved_tensors
        grad_w, grad_b = ctx.grads
        hk = _batched(h, w.shape[0])
        # copy_ measured faster than baddbmm_ into the buffer's view
        if _narrow(w):
            grad_w.copy_(torch.bmm(g.mT, hk).mT)  # (K, in, out)
        else:
            grad_w.copy_(torch.bmm(hk.mT, g))
        torch.sum(g, 1, out=grad_b)
        if ctx.mask is not None:
            grad_b.mul_(ctx.mask)  # configs without this bias: held at zero
        grad_h = None
        if ctx.needs_input_grad[0]:
            grad_h = torch.bmm(g.contiguous(), w.mT)  # g of a narrow layer is transposed
        return grad_h, None, None, None


def stacked_linear(
    h: torch.Tensor, w: torch.Tensor, bias: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Outputs ``(K, B, out)`` of K linear layers.

    Args:
        h: inputs ``(K, B, in)``, or ``(B, in)`` shared by every config.
        w: weights ``(K, in, out)``, a leaf whose ``grad`` is a preallocated buffer view.
        bias: biases ``(K, out)``, likewise.
        mask: ``(K, 1)``, 0.0 for configs whose layer has no bias (before batch norm):
            their bias gradient is written as exactly zero, so the slot stays zero (default
            None: every config has the bias).

    In backward, ``w.grad`` and ``bias.grad`` are overwritten with this batch's
    gradients (not accumulated), and no gradient flows to ``w``/``bias`` through autograd
    (so hooks on ``bias`` never see it: hence ``mask``).
    """
    if w.grad is None or bias.grad is None:
        raise ValueError("stacked_linear needs preallocated w.grad and bias.grad")
    out = _StackedLinear.apply(h, w, bias, mask)
    assert isinstance(out, torch.Tensor)
    return out


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
