"""`BatchedNet`: what the fused engine needs of K networks trained as one model.

Two kinds provide it: :class:`~nooverfit.engine.stacked.StackedNet` (nooverfit's own
MLP/CNN, stacked layer by layer, and a user's module made of the same layers, see
:mod:`~nooverfit.engine.chain`) and :class:`~nooverfit.engine.functional.FunctionalNet`
(any other user's module, through ``torch.func``).

`FunctionalNet`: K copies of a user's own ``nn.Module`` trained as one model through
``torch.func``.

The K modules (one per config, built by the user's factory) must have the same structure
(dropout rates may differ); their parameters are copied into one ``(K, P)`` buffer, as in
:class:`~nooverfit.engine.stacked.StackedNet`, so the fused engine's loop and
:class:`~nooverfit.engine.optimizer.StackedOptimizer` drive both alike. The forward pass
is ``vmap(functional_call(module, params_k, buffers_k, x_k))`` over the K axis with
``randomness="different"``, so each config draws its own dropout masks; each ``nn.Dropout``
reads its rate from a per-config buffer. Batch norm keeps per-config running statistics
(buffers on the K axis, updated in place under ``vmap``); a config that does not take a
step keeps its statistics, and a partial batch is cut to its real samples, so the
statistics are those of the sequential engine.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Protocol

import torch
from torch import nn
from torch.func import functional_call, vmap


def has_running_stats(module: nn.Module) -> bool:
    """Whether ``module`` has a batch-norm layer that tracks running statistics."""
    return any(
        isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
        for m in module.modules()
    )


def structure(module: nn.Module) -> tuple:
    """What two modules must share to be stacked: their module types and the settings
    each prints (``extra_repr``, except a Dropout's rate, which is per config) and tensor
    shapes. The forward pass runs the first module's code for all, so a setting a module
    does not print must not differ."""
    layers = tuple(
        (name, type(m).__qualname__, "" if type(m) is nn.Dropout else m.extra_repr())
        for name, m in module.named_modules()
    )
    params = tuple((n, tuple(p.shape)) for n, p in module.named_parameters())
    buffers = tuple((n, tuple(b.shape)) for n, b in module.named_buffers())
    return layers, params, buffers


class RateDropout(nn.Module):
    """Inverted dropout whose rate is a buffer, so that under ``vmap`` each config has
    its own: keeps a unit with probability ``1 - rate`` and scales it by
    ``1 / (1 - rate)``, as ``nn.Dropout`` does (``rate`` 0 passes ``x`` unchanged)."""

    rate: torch.Tensor

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.register_buffer("rate", torch.tensor(float(rate)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        keep = torch.rand_like(x) >= self.rate
        return x * keep / (1 - self.rate)


def _rate(module: nn.Module) -> float:
    assert isinstance(module, nn.Dropout)
    return float(module.p)


def _dropouts(module: nn.Module) -> list[str]:
    return [name for name, m in module.named_modules() if type(m) is nn.Dropout]


class FunctionalNet:
    """K same-structured modules as one batched model (weights on a K axis).

    Args:
        nets: the modules, one per config.
        device: where the stacked tensors live.

    Raises:
        ValueError: if the modules differ in structure.
    """

    def __init__(self, nets: Sequence[nn.Module], *, device: torch.device) -> None:
        base = nets[0]
        if any(structure(n) != structure(base) for n in nets[1:]):
            raise ValueError("all modules of a fused group need the same structure")
        self.k = len(nets)
        self.device = device
        shapes = {n: tuple(p.shape) for n, p in base.named_parameters()}
        # >= 2-D weights first: L2 and weight decay act on columns [0, matrix_columns)
        order = sorted(shapes, key=lambda n: len(shapes[n]) < 2)
        sizes = {n: max(1, int(torch.Size(shapes[n]).numel())) for n in order}
        self.matrix_columns = sum(sizes[n] for n in order if len(shapes[n]) >= 2)
        self._columns: dict[str, tuple[slice, tuple[int, ...]]] = {}
        offset = 0
        for name in order:
            self._columns[name] = (slice(offset, offset + sizes[name]), shapes[name])
            offset += sizes[name]
        self.params: dict[str, torch.Tensor] = {}
        self._bind(torch.zeros(self.k, offset, device=device))
        with torch.no_grad():
            for name, p in self.params.items():
                for i, net in enumerate(nets):
                    p[i] = net.get_parameter(name).detach().to(device)
        self.buffers = {
            name: torch.stack([n.get_buffer(name).detach() for n in nets]).to(device)
            for name, _ in base.named_buffers()
        }
        self.base = copy.deepcopy(base).to(device)
        for name in _dropouts(base):  # a rate per config: a buffer on the K axis
            parent, _, child = name.rpartition(".")
            rates = [_rate(n.get_submodule(name)) for n in nets]
            setattr(self.base.get_submodule(parent), child, RateDropout(0.0))
            self.buffers[f"{name}.rate"] = torch.tensor(rates, device=device)
        #: whether batch norm updates running statistics in training
        self.stats = has_running_stats(base)
        self.batches_tracked = torch.zeros(self.k, dtype=torch.long, device=device)

        def call(params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
            return functional_call(self.base, (params, buffers), (x,))

        self._per_config = vmap(call, in_dims=(0, 0, 0), randomness="different")
        self._shared = vmap(call, in_dims=(0, 0, None), randomness="different")

    def _bind(self, flat: torch.Tensor) -> None:
        """Make ``flat`` ``(K, P)`` the parameters, as leaf views with gradient views."""
        self.flat = flat
        self.grad = torch.zeros_like(flat)
        for name, (cols, shape) in self._columns.items():
            p = flat[:, cols].view(self.k, *shape)
            p.requires_grad_(True)
            p.grad = self.grad[:, cols].view(self.k, *shape)
            self.params[name] = p

    def zero_grad(self) -> None:
        """Zero the gradient buffer (backward accumulates into it)."""
        self.grad.zero_()

    def select(self, rows: list[int]) -> None:
        """Keep only configs ``rows`` (in that order), e.g. to drop finished ones."""
        index = torch.tensor(rows, device=self.device)
        self.k = len(rows)
        self._bind(self.flat.detach()[index].clone())
        self.buffers = {name: b[index] for name, b in self.buffers.items()}
        self.batches_tracked = self.batches_tracked[index]

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
        """Logits ``(K, B, classes)`` of inputs shared ``(B, ...)`` or per config
        ``(K, B, ...)``.

        With batch norm in training, ``update`` ``(K,)`` picks the configs whose running
        statistics this batch updates, and a batch that is not ``full`` is cut to the
        real samples ``valid`` ``(K, B)`` marks (they come first; the cut length is read
        on the host, once per partial batch), its logits padded back with zeros. Dropout
        draws from torch's global generator, which the engine seeds (``gen`` is unused).
        """
        self.base.train(train)
        call = self._shared if shared else self._per_config
        if not (train and self.stats):
            return call(self.params, self.buffers, x)
        b = x.shape[0] if shared else x.shape[1]
        real = b
        if valid is not None and not full:
            real = max(1, int(valid.sum(1).max()))
            x = x[:real] if shared else x[:, :real]
        before = None if update is None else {n: t.clone() for n, t in self.buffers.items()}
        out = call(self.params, self.buffers, x)
        if before is not None and update is not None:
            # configs that take no step keep their statistics; new tensors, since
            # backward may check the versions of the ones batch norm updated
            self.buffers = {
                name: torch.where(update.view(-1, *[1] * (t.dim() - 1)), t, before[name])
                for name, t in self.buffers.items()
            }
        if real < b:
            out = torch.cat([out, out.new_zeros(out.shape[0], b - real, *out.shape[2:])], 1)
        return out

    # --- state: the interface of StackedNet ---------------------------------------------

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A copy of every config's parameters ``(K, P)`` and buffers ``(K, ...)``."""
        return {"flat": self.flat.detach().clone(), **_copies(self.buffers)}

    def copy_rows(self, snapshot: dict[str, torch.Tensor], rows: list[int]) -> None:
        """Overwrite configs ``rows`` of ``snapshot`` with their current tensors."""
        index = torch.tensor(rows, device=self.device)
        snapshot["flat"][index] = self.flat.detach()[index]
        for name, t in self.buffers.items():
            snapshot[f"buffer:{name}"][index] = t[index]

    def state_dict(self, k: int, snapshot: dict[str, torch.Tensor], net: nn.Module) -> dict:
        """Config ``k``'s state from ``snapshot`` in the keys of its module ``net``."""
        state: dict[str, torch.Tensor] = {}
        for name, value in net.state_dict().items():
            if name in self._columns:
                cols, shape = self._columns[name]
                t = snapshot["flat"][k, cols].view(shape)
            else:
                t = snapshot[f"buffer:{name}"][k]
            state[name] = t.detach().to("cpu", value.dtype).clone()
        return state


def _copies(buffers: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"buffer:{name}": t.clone() for name, t in buffers.items()}


def stack_modules(
    nets: Sequence[nn.Module], in_shape: Sequence[int], *, device: torch.device
) -> BatchedNet:
    """A user's modules (one per config) as one batched net: a
    :class:`~nooverfit.engine.stacked.StackedNet` when they are chains of the layers
    nooverfit's own models use (see :mod:`~nooverfit.engine.chain`), which trains them as
    fast as the built-in networks, else a :class:`FunctionalNet`.

    Args:
        nets: the modules.
        in_shape: one sample's shape.
        device: where the stacked tensors live.
    """
    from nooverfit.engine.chain import chains_for
    from nooverfit.engine.stacked import StackedNet

    chains = chains_for(nets, in_shape)
    if chains is None:
        return FunctionalNet(nets, device=device)
    return StackedNet(
        [c.net for c in chains],
        dropout=[c.dropout for c in chains],
        device=device,
        prefixes=[c.prefixes for c in chains],
    )


class BatchedNet(Protocol):
    """K networks as one: parameters in a ``(K, P)`` buffer, logits ``(K, B, classes)``.

    Attributes:
        k: the number of configs.
        device: where the tensors live.
        flat: every config's trainable parameters, ``(K, P)``; >= 2-D weights first.
        grad: their gradients, same shape.
        matrix_columns: columns ``[0, matrix_columns)`` hold the >= 2-D weights.
        batches_tracked: batch-norm batches seen per config, ``(K,)``.
    """

    k: int
    device: torch.device
    flat: torch.Tensor
    grad: torch.Tensor
    matrix_columns: int
    batches_tracked: torch.Tensor

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
    ) -> torch.Tensor: ...

    def zero_grad(self) -> None:
        """Prepare ``grad`` for the next backward pass."""
        ...

    def select(self, rows: list[int]) -> None: ...

    def snapshot(self) -> dict[str, torch.Tensor]: ...

    def copy_rows(self, snapshot: dict[str, torch.Tensor], rows: list[int]) -> None: ...

    def state_dict(self, k: int, snapshot: dict[str, torch.Tensor], net: nn.Module) -> dict: ...
