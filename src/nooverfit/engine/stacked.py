"""`StackedNet`: K plain networks of one family as one batched model (weights on a K axis).

Each config's network is built by :func:`nooverfit.models.build_model` (so its
initialization is the sequential engine's) and copied into slice ``k`` of stacked
tensors. Linear layers run as ``baddbmm`` on ``(K, in, out)`` weights
(:mod:`~nooverfit.engine.layers`), convolutions as one grouped convolution with
``groups=K``, batch norm with per-config statistics and an on/off flag
(:mod:`~nooverfit.engine.layers`), dropout with a per-config rate
(:mod:`~nooverfit.engine.layers`). Narrower networks sit in the leading units of the
group's widest layer with zeros elsewhere: a zero unit has zero pre-activation, ReLU
passes zero and its gradient ``relu'(0) = 0``, so padded weights get zero gradients and
stay zero under L2, weight decay and Adam - the math equals the narrow network.

All trainable parameters live in one ``(K, P)`` buffer (and their gradients in another) so
the optimizer updates every config with a few elementwise passes.

Reference: Wang et al., "Horizontally Fused Training Array", MLSys 2021.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.engine.layers import (
    Norm,
    batchnorm_masked,
    batchnorm_whole,
    dropout,
    linear,
    stacked_linear,
)
from nooverfit.engine.skeleton import layer_ops, layer_union
from nooverfit.models import LogSpectrogram
from nooverfit.shifts import SHIFTS, copy_mean, shift_copies


@dataclass(frozen=True)
class Slot:
    """Where one stacked parameter lives in the flat ``(K, P)`` buffer.

    Attributes:
        name: stacked name, e.g. ``"w0"`` (weights), ``"b0"``, ``"g0"``/``"beta0"`` (BN).
        shape: per-config (padded) shape; linear weights are stored ``(in, out)``.
        offset: first column in the flat buffer.
        matrix: whether it is a >= 2-D weight (gets L2 and weight decay).
    """

    name: str
    shape: tuple[int, ...]
    offset: int
    matrix: bool

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


class StackedNet:
    """K networks with the same layer skeleton, trained as one.

    Args:
        nets: the plain networks (``nn.Sequential`` of Linear/Conv2d, BatchNorm, ReLU,
            MaxPool2d, Dropout, Flatten, after an optional
            :class:`~nooverfit.models.LogSpectrogram` front end), one per config; they may
            differ in width, in whether they have batch norm and in their dropout rate.
        dropout: per-config dropout rate, ``(K,)``.
        device: where the stacked tensors live.
        prefixes: per network, the ``state_dict`` name of each of its layers (default:
            their positions, ``"0"``, ``"1"``, ...), e.g. a user's module's own names
            (see :mod:`~nooverfit.engine.chain`).
    """

    def __init__(
        self,
        nets: Sequence[nn.Sequential],
        *,
        dropout: Sequence[float],
        device: torch.device,
        prefixes: Sequence[Sequence[str]] | None = None,
    ) -> None:
        self.k = len(nets)
        self.device = device
        plans = [layer_ops(n) for n in nets]
        ops = layer_union(plans)
        if ops is None:
            raise ValueError("all networks of a fused group need the same layer skeleton")
        fronts = [[repr(m) for m in n if isinstance(m, LogSpectrogram)] for n in nets]
        if any(f != fronts[0] for f in fronts):
            raise ValueError("all networks of a fused group need the same front end")
        front = next((m for m in nets[0] if isinstance(m, LogSpectrogram)), None)
        #: the fixed front end (no parameters) every config shares, if any
        self.front = copy.deepcopy(front).to(device) if front is not None else None
        bn_layers = sorted({i for plan in plans for op, i in plan if op == "bn"})
        # the union of the layer sequences: the skeleton plus every BN/dropout any net has
        self.ops: list[tuple[str, int]] = ops
        weighted = [[m for m in n if isinstance(m, nn.Linear | nn.Conv2d)] for n in nets]
        shapes: list[tuple[int, ...]] = []
        for layers in zip(*weighted, strict=True):
            shapes.append(
                tuple(max(s) for s in zip(*(tuple(m.weight.shape) for m in layers), strict=True))
            )
        # weight matrices first, so L2 and weight decay act on one block of columns
        names: list[tuple[str, tuple[int, ...], bool]] = []
        for i, (shape, m) in enumerate(zip(shapes, weighted[0], strict=True)):
            w_shape = (shape[1], shape[0]) if isinstance(m, nn.Linear) else shape
            names.append((f"w{i}", w_shape, True))
        for i, shape in enumerate(shapes):
            names.append((f"b{i}", (shape[0],), False))
            if i in bn_layers:
                names += [(f"g{i}", (shape[0],), False), (f"beta{i}", (shape[0],), False)]
        self.slots: dict[str, Slot] = {}
        offset = 0
        for name, shape, matrix in names:
            self.slots[name] = Slot(name, shape, offset, matrix)
            offset += self.slots[name].size
        #: columns ``[0, matrix_columns)`` hold the >= 2-D weights
        self.matrix_columns = sum(s.size for s in self.slots.values() if s.matrix)
        self.num_columns = offset
        self.params: dict[str, torch.Tensor] = {}
        self._bind(torch.zeros(self.k, offset, device=device))  # (K, P)
        width = {i: shapes[i][0] for i in bn_layers}
        self.running_mean = {i: torch.zeros(self.k, width[i], device=device) for i in bn_layers}
        self.running_var = {i: torch.ones(self.k, width[i], device=device) for i in bn_layers}
        self.batches_tracked = torch.zeros(self.k, dtype=torch.long, device=device)
        self.dropout = torch.as_tensor(list(dropout), dtype=torch.float32, device=device)
        # plain state-dict key of each stacked tensor, per config
        self.keys: list[dict[str, str]] = []
        with torch.no_grad():
            for k, net in enumerate(nets):
                self.keys.append(self._load(k, net, prefixes[k] if prefixes else None))
        self._find_rows()
        self._hold_missing_biases()

    def _bind(self, flat: torch.Tensor) -> None:
        """Make ``flat`` ``(K, P)`` the parameters: one leaf view per slot, with its
        gradient a view of a ``grad`` buffer of the same shape."""
        self.flat = flat
        self.grad = torch.zeros_like(flat)
        for s in self.slots.values():
            p = flat[:, s.offset : s.offset + s.size].view(self.k, *s.shape)
            p.requires_grad_(True)
            p.grad = self.grad[:, s.offset : s.offset + s.size].view(self.k, *s.shape)
            self.params[s.name] = p
        linear = {n for op, i in self.ops if op == "linear" for n in (f"w{i}", f"b{i}")}
        self._accumulated = [p for n, p in self.params.items() if n not in linear]

    def _hold_missing_biases(self) -> None:
        """Keep at zero the bias slots of configs whose layer has no bias (a layer before
        batch norm, see :func:`nooverfit.models.cnn`): their gradient is masked to zero
        (a convolution's by a hook before it accumulates, a linear layer's inside
        :func:`stacked_linear`, which writes it past autograd), so Adam's moments and the
        bias stay exactly zero. Whether a layer of a config has a bias is read from its
        state-dict keys."""
        #: per layer, ``(K, 1)`` 1.0 where the config has that bias (layers where all do
        #: are left out)
        self.bias_mask: dict[int, torch.Tensor] = {}
        for name in self.slots:
            if not name.startswith("b") or name.startswith("beta"):
                continue
            has = [name in keys for keys in self.keys]
            if not all(has):
                mask = torch.tensor(has, dtype=torch.float32, device=self.device)
                i = int(name[1:])
                self.bias_mask[i] = mask.view(self.k, 1)
                if ("linear", i) not in self.ops:  # stacked_linear masks its own
                    self.params[name].register_hook(lambda g, i=i: self._mask(i, g))

    def _mask(self, i: int, grad: torch.Tensor) -> torch.Tensor:
        return grad * self.bias_mask[i] if i in self.bias_mask else grad

    def zero_grad(self) -> None:
        """Zero the gradients that backward accumulates: those of convolutions and batch
        norm (linear layers overwrite theirs, see :func:`stacked_linear`)."""
        for p in self._accumulated:
            assert p.grad is not None
            p.grad.zero_()

    def _find_rows(self) -> None:
        """The configs that batch norm and dropout are computed for."""
        #: configs that have batch norm at layer ``i`` (None: all of them)
        self.bn_rows: dict[int, torch.Tensor | None] = {
            i: _rows([f"rm{i}" in keys for keys in self.keys], self.device)
            for i in self.running_mean
        }
        #: configs whose dropout masks are drawn (None: all; a rate of 0 keeps every unit,
        #: so when most configs drop out, drawing for all beats gathering the few)
        drops = (self.dropout > 0).tolist()
        self.dropout_rows = _rows(drops, self.device) if 2 * sum(drops) <= len(drops) else None

    def select(self, rows: list[int]) -> None:
        """Keep only configs ``rows`` (in that order), e.g. to drop finished ones."""
        index = torch.tensor(rows, device=self.device)
        self.k = len(rows)
        self._bind(self.flat.detach()[index].clone())
        for i in self.running_mean:
            self.running_mean[i] = self.running_mean[i][index]
            self.running_var[i] = self.running_var[i][index]
        self.batches_tracked = self.batches_tracked[index]
        self.dropout = self.dropout[index]
        self.keys = [self.keys[r] for r in rows]
        self._find_rows()
        self._hold_missing_biases()

    def _load(self, k: int, net: nn.Sequential, names: Sequence[str] | None) -> dict[str, str]:
        keys: dict[str, str] = {}
        i = -1
        for pos, m in enumerate(net):
            idx = names[pos] if names is not None else str(pos)
            if isinstance(m, nn.Linear | nn.Conv2d):
                i += 1
                w = m.weight.detach().to(self.device)
                w = w.t() if isinstance(m, nn.Linear) else w
                self.params[f"w{i}"][k][tuple(slice(0, s) for s in w.shape)] = w
                keys[f"w{i}"] = f"{idx}.weight"
                if m.bias is not None:  # else its slot stays zero (_hold_missing_biases)
                    self.params[f"b{i}"][k][: len(m.bias)] = m.bias.detach()
                    keys[f"b{i}"] = f"{idx}.bias"
            elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                n = m.num_features
                assert m.running_mean is not None and m.running_var is not None
                self.params[f"g{i}"][k][:n] = m.weight.detach()
                self.params[f"beta{i}"][k][:n] = m.bias.detach()
                self.running_mean[i][k, :n] = m.running_mean.to(self.device)
                self.running_var[i][k, :n] = m.running_var.to(self.device)
                keys[f"g{i}"], keys[f"beta{i}"] = f"{idx}.weight", f"{idx}.bias"
                keys[f"rm{i}"], keys[f"rv{i}"] = f"{idx}.running_mean", f"{idx}.running_var"
                keys[f"nb{i}"] = f"{idx}.num_batches_tracked"
        return keys

    # --- forward -------------------------------------------------------------------------

    def forward(
        self,
        x: torch.Tensor,
        *,
        shared: bool,
        train: bool,
        valid: torch.Tensor | None = None,
        update: torch.Tensor | None = None,
        gen: torch.Generator | None = None,
        full: bool = False,
    ) -> torch.Tensor:
        """Logits ``(K, B, classes)``.

        Args:
            x: inputs shared by all configs ``(B, ...)``, or per config ``(K, B, ...)``.
            shared: which of the two ``x`` is.
            train: batch statistics and dropout (True) or running statistics (False).
            valid: ``(K, B)`` 0/1 float mask of real samples; batch-norm statistics use
                only these (required in training).
            update: ``(K,)`` bool, configs whose running statistics this batch updates.
            gen: generator of the dropout masks.
            full: the caller knows (on the host) that every config has a whole batch and
                updates its statistics: batch norm then runs as torch's own kernel, each
                config's features as channels of their own.
        """
        # layout: "shared" (B, ...), "kb" (K, B, ...) or "conv" (B, K*C, H, W)
        layout = "shared" if shared else "kb"
        b = x.shape[0] if shared else x.shape[1]
        h = x
        for op, i in self.ops:
            if op in ("copies", "mean") and train:
                continue  # test-time shifts: evaluation only (nooverfit.shifts)
            if op == "copies":  # (5B, ...) or (K, 5B, ...), copy-major within each row
                if layout == "shared":
                    h = shift_copies(h)
                else:
                    c = shift_copies(h.flatten(0, 1)).view(-1, self.k, b, *h.shape[2:])
                    h = c.transpose(0, 1).reshape(self.k, -1, *h.shape[2:])
                b = b * len(SHIFTS)
            elif op == "mean":  # (K, 5B, classes) -> (K, B, classes)
                b = b // len(SHIFTS)
                h = torch.stack([copy_mean(row) for row in h])
            elif op == "front":
                assert self.front is not None
                if layout == "shared":
                    h = self.front(h)
                else:  # every config's samples through it at once
                    out = self.front(h.reshape(self.k * b, *h.shape[2:]))
                    h = out.view(self.k, b, *out.shape[1:])
            elif op == "flatten":
                if layout == "conv":
                    h = h.reshape(b, self.k, -1).transpose(0, 1)  # (K, B, F)
                    layout = "kb"
                else:
                    h = h.reshape(b, -1) if layout == "shared" else h.reshape(self.k, b, -1)
            elif op == "linear":
                w, bias = self.params[f"w{i}"], self.params[f"b{i}"]
                # (K, B, out); a shared (B, in) batch is read by every config
                mask = self.bias_mask.get(i)
                h = stacked_linear(h, w, bias, mask) if train else linear(h, w, bias)
                layout = "kb"
            elif op == "conv":
                w, bias = self.params[f"w{i}"], self.params[f"b{i}"]
                groups = 1 if layout == "shared" else self.k
                if layout == "kb":  # (K, B, C, H, W) per-config images
                    h = h.transpose(0, 1).reshape(b, -1, *h.shape[3:])
                h = F.conv2d(
                    h, w.reshape(-1, *w.shape[2:]), bias.reshape(-1), padding=1, groups=groups
                )  # (B, K*C, H, W)
                layout = "conv"
            elif op == "bn":
                rows = self.bn_rows[i]
                if rows is not None and not len(rows):
                    continue  # no config left in the group has this batch norm
                norm = self._norm(i)
                if train and full:
                    h = batchnorm_whole(h, norm)
                else:
                    h = batchnorm_masked(h, norm, train=train, valid=valid, update=update)
            elif op == "relu":
                h = torch.relu_(h)  # in place: no producer needs its output for backward
            elif op == "pool":
                h = F.max_pool2d(h, 2)
            elif (
                op == "dropout" and train and (self.dropout_rows is None or len(self.dropout_rows))
            ):
                h = self._dropout(h, gen)  # unless no config left in the group drops out
        return h

    def _dropout(self, h: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        """Dropout of ``(K, B, H)`` or ``(B, K*C, H, W)`` activations at each config's
        rate (see :func:`~nooverfit.engine.layers.dropout`)."""
        conv = h.dim() == 4
        x = h.view(h.shape[0], self.k, -1, *h.shape[2:]) if conv else h  # (B, K, C, H, W)
        x = dropout(x, self.dropout, kdim=int(conv), rows=self.dropout_rows, gen=gen)
        return x.reshape(h.shape)

    def _norm(self, i: int) -> Norm:
        """Batch-norm layer ``i``: its configs, parameters and running statistics."""
        return Norm(
            self.k,
            self.bn_rows[i],
            self.params[f"g{i}"],
            self.params[f"beta{i}"],
            self.running_mean[i],
            self.running_var[i],
        )

    # --- state ---------------------------------------------------------------------------

    def _tensors(self) -> dict[str, torch.Tensor]:
        out = {"flat": self.flat.detach(), "nb": self.batches_tracked}
        for i in self.running_mean:
            out[f"rm{i}"], out[f"rv{i}"] = self.running_mean[i], self.running_var[i]
        return out

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A copy of every per-config tensor (parameters and BN buffers), each ``(K, ...)``."""
        return {name: t.clone() for name, t in self._tensors().items()}

    def copy_rows(self, snapshot: dict[str, torch.Tensor], rows: list[int]) -> None:
        """Overwrite configs ``rows`` of ``snapshot`` with their current tensors."""
        index = torch.tensor(rows, device=self.device)
        for name, t in self._tensors().items():
            snapshot[name][index] = t[index]

    def state_dict(self, k: int, snapshot: dict[str, torch.Tensor], net: nn.Module) -> dict:
        """Config ``k``'s weights from ``snapshot`` in the keys and shapes of its plain
        network ``net`` (on CPU)."""
        plain = net.state_dict()
        state: dict[str, torch.Tensor] = {}
        for name, key in self.keys[k].items():
            if name in self.slots:
                s = self.slots[name]
                t = snapshot["flat"][k, s.offset : s.offset + s.size].view(s.shape)
                t = t.t() if name.startswith("w") and len(s.shape) == 2 else t
            elif name.startswith("nb"):
                t = snapshot["nb"][k]
            else:
                t = snapshot[name][k]
            target = plain[key]
            t = t[tuple(slice(0, n) for n in target.shape)] if target.dim() else t
            state[key] = t.detach().to("cpu", target.dtype).clone()
        return state


def _rows(flags: Sequence[bool], device: torch.device) -> torch.Tensor | None:
    """Indices of the configs with ``flags[k]``, or None when that is every config."""
    if all(flags):
        return None
    return torch.tensor([k for k, f in enumerate(flags) if f], dtype=torch.long, device=device)
