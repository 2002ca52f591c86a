"""Tabular networks beyond the plain MLP: TabM's mini ensemble and PLR embeddings.

**TabM-mini** ("TabM: Advancing tabular deep learning with parameter-efficient
ensembling", Gorishniy et al., ICLR 2025): one MLP holds ``k`` members. Each sample is
seen by every member through the member's own random-sign scaling of the inputs (a
rank-1 adapter, BatchEnsemble-style; Wen et al., ICLR 2020), the hidden layers are shared,
and each member has its own output layer. The members train together on the same
batches and are averaged: an ensemble at about the parameter count of one network.

The study's engines train a network on the cross-entropy of its logits ``(B, C)``, so the
members' predictions leave the network averaged, as the mean of their log-probabilities
(:class:`MemberMean`: the normalized geometric mean of their probabilities). The
cross-entropy of that mean is the mean of the members' cross-entropies less a term that
rewards their disagreement; each member's gradient is the ensemble's error
``(softmax(z) - target) / k`` (the log-softmax Jacobian's rank-one part cancels).

**PLR** ("On Embeddings for Numerical Features in Tabular Deep Learning", Gorishniy et
al., NeurIPS 2022): each standardized feature ``x_j`` becomes
``ReLU(W [cos(2 pi f_j x_j), sin(2 pi f_j x_j)] + b)`` with ``m`` trainable frequencies
``f_j`` per feature drawn from ``N(0, sigma^2)`` and one linear map ``W`` shared by the
features (TabM's "lite" form, its default with ``sigma = 0.01``, 48 frequencies, 16
outputs per feature); the MLP reads the features' embeddings side by side.

Both are plain ``nn.Sequential`` networks of the modules below; the fused engine trains
them through ``torch.func`` (:class:`~nooverfit.engine.functional.FunctionalNet`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from nooverfit.mlp_layers import hidden_layers

if TYPE_CHECKING:
    from nooverfit.config import RunConfig

#: PLR defaults (TabM's ``PiecewiseLinear``-free "PLR(lite)" embedding): frequencies per
#: feature, outputs per feature, the frequencies' initial standard deviation
FREQUENCIES, EMBEDDING, SIGMA = 48, 16, 0.01


class PeriodicEmbedding(nn.Module):
    """PLR(lite): ``(B, F)`` -> ``(B, F * d)``, ``ReLU(W [cos(2 pi f x), sin(2 pi f x)] + b)``
    per feature.

    Args:
        features: number of input features ``F``.
        frequencies: trainable frequencies per feature ``m`` (default 48).
        dim: outputs per feature ``d`` (default 16).
        sigma: standard deviation of the initial frequencies (default 0.01).
    """

    def __init__(
        self,
        features: int,
        frequencies: int = FREQUENCIES,
        dim: int = EMBEDDING,
        *,
        sigma: float = SIGMA,
    ) -> None:
        super().__init__()
        if features < 1 or frequencies < 1 or dim < 1:
            raise ValueError(
                f"features, frequencies and dim must be >= 1, got {features}, {frequencies}, {dim}"
            )
        if not math.isfinite(sigma) or sigma <= 0:
            raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
        self.features, self.frequencies, self.dim, self.sigma = features, frequencies, dim, sigma
        self.frequency = nn.Parameter(torch.randn(features, frequencies) * sigma)  # (F, m)
        self.linear = nn.Linear(2 * frequencies, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        angle = 2 * math.pi * self.frequency * x.unsqueeze(-1)  # (B, F, m)
        h = self.linear(torch.cat([torch.cos(angle), torch.sin(angle)], -1))  # (B, F, d)
        return torch.relu(h).flatten(1)

    def extra_repr(self) -> str:
        return (
            f"features={self.features}, frequencies={self.frequencies}, dim={self.dim}, "
            f"sigma={self.sigma:g}"
        )


class MemberScaling(nn.Module):
    """``(B, F)`` -> ``(B, k, F)``: each of ``k`` members scales the inputs by its own
    vector ``r_i`` (TabM-mini's adapter), initialized with random signs (+-1)."""

    def __init__(self, features: int, members: int) -> None:
        super().__init__()
        self.features, self.members = features, members
        signs = torch.randint(0, 2, (members, features)).float() * 2 - 1
        self.scale = nn.Parameter(signs)  # (k, F)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], 1, -1) * self.scale  # (B, k, F)

    def extra_repr(self) -> str:
        return f"features={self.features}, members={self.members}"


class MemberLinear(nn.Module):
    """One linear layer per member: ``(B, k, in)`` -> ``(B, k, out)``, initialized as
    ``nn.Linear`` is (uniform in ``+-1/sqrt(in)``)."""

    def __init__(self, in_features: int, out_features: int, members: int) -> None:
        super().__init__()
        self.in_features, self.out_features, self.members = in_features, out_features, members
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(torch.empty(members, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(members, out_features))
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bki,kio->bko", h, self.weight) + self.bias

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, members={self.members}"


class MemberMean(nn.Module):
    """``(B, k, C)`` member logits -> ``(B, C)``: the mean of their log-probabilities."""

    def forward(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.log_softmax(logits, -1).mean(1)


def tabular_mlp(
    in_features: int,
    classes: int,
    *,
    width: int = 256,
    depth: int = 2,
    dropout: float = 0.0,
    batchnorm: bool = False,
    members: int = 1,
    periodic: bool = False,
) -> nn.Sequential:
    """An MLP on tabular features, with PLR embeddings (``periodic``) and/or ``members``
    TabM-mini members (``members >= 2``); with neither it is :func:`nooverfit.models.mlp`'s
    layer stack.

    Layers: [PLR] -> Flatten -> [MemberScaling] -> ``depth`` x [Linear -> (BatchNorm) ->
    ReLU -> (Dropout)] -> output (one Linear, or a :class:`MemberLinear` and
    :class:`MemberMean` for members). The hidden layers are shared by the members.

    Args:
        in_features: number of input features.
        classes: number of output logits.
        width, depth, dropout, batchnorm: as :func:`nooverfit.models.mlp`'s (a member
            network's batch norm: statistics per unit over the batch and the members).
        members: ensemble members ``k`` (default 1: none).
        periodic: PLR embeddings of the features first (default False).
    """
    from nooverfit.config import check_dropout

    check_dropout(dropout)
    if not isinstance(members, int) or members < 1:
        raise ValueError(f"members must be an integer >= 1, got {members!r}")
    layers: list[nn.Module] = []
    size = in_features
    if periodic:
        layers.append(PeriodicEmbedding(in_features))
        size = in_features * EMBEDDING
    layers.append(nn.Flatten())
    if members > 1:
        layers.append(MemberScaling(size, members))
    norm = (_MemberBatchNorm if members > 1 else nn.BatchNorm1d) if batchnorm else None
    layers += hidden_layers(size, width, depth, dropout, norm)
    size = width if depth else size
    if members > 1:
        layers += [MemberLinear(size, classes, members), MemberMean()]
    else:
        layers.append(nn.Linear(size, classes))
    return nn.Sequential(*layers)


class _MemberBatchNorm(nn.BatchNorm1d):
    """Batch norm of shared hidden units ``(B, k, H)``: statistics per unit, over the
    batch and the members (``BatchNorm1d`` reads ``(B, H, k)`` as channels over positions)."""

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return super().forward(h.transpose(1, 2)).transpose(1, 2)


def functional(config: RunConfig) -> bool:
    """Whether ``config``'s network holds layers of this module (members or PLR), which
    the fused engine trains through ``torch.func`` rather than as a stacked MLP."""
    return config.members > 1 or config.periodic
