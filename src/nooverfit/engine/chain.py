"""`as_chain`: a user's own module as the plain layer chain the stacked engine runs.

A user's network built from the layers nooverfit's own models use - Linear, Conv2d
(stride 1, padding 1), BatchNorm, ReLU, MaxPool2d(2), Dropout, Flatten, in a straight
line - is the same computation as a built-in network: it can train as a
:class:`~nooverfit.engine.stacked.StackedNet` (``baddbmm`` and grouped convolutions,
widths padded, a dropout rate and batch norm per config, groups side by side in worker
threads) instead of through ``torch.func``. Tracing with ``torch.fx`` finds that line in a
module whatever its class or ``forward`` looks like; anything else (a residual sum,
another layer type, a setting the stacked layers do not have) leaves the module to
:class:`~nooverfit.engine.functional.FunctionalNet`. A module is taken only if it gives
the chain's outputs on a probe input, so the mapping never changes what is computed.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.schedule import group_key
from nooverfit.engine.sequential import Factory, make_model
from nooverfit.engine.skeleton import layer_plan, layer_union, skeleton_of
from nooverfit.models import LogSpectrogram

#: the largest difference between a module's and its chain's outputs on the probe input
#: (the same float32 operations, so in practice none)
PROBE_TOLERANCE = 1e-5


@dataclass(frozen=True)
class Chain:
    """A module's layers in order, as the stacked engine reads them.

    Attributes:
        net: the layers as an ``nn.Sequential`` (the user's own layer objects, so their
            parameters are the module's).
        prefixes: each layer's name in the module's ``state_dict`` keys (``"features.0"``).
        dropout: the rate every Dropout layer of the module shares (0 when it has none).
    """

    net: nn.Sequential
    prefixes: tuple[str, ...]
    dropout: float


class _Tracer(fx.Tracer):
    """``torch.fx``'s tracer, which also keeps nooverfit's audio front end whole."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return isinstance(m, LogSpectrogram) or super().is_leaf_module(m, module_qualified_name)


def _exact_module(m: nn.Module) -> bool:
    """Whether a leaf module computes what the stacked layer of its kind does."""
    # a layer without a bias (as before batch norm, torchvision's way) keeps its stacked
    # bias slot at zero (StackedNet._hold_missing_biases)
    if type(m) is nn.Linear:
        return True
    if type(m) is nn.Conv2d:
        return (
            m.stride == (1, 1)
            and m.padding == (1, 1)
            and m.dilation == (1, 1)
            and m.groups == 1
            and m.padding_mode == "zeros"
        )
    if type(m) in (nn.BatchNorm1d, nn.BatchNorm2d):
        assert isinstance(m, nn.modules.batchnorm._BatchNorm)
        return bool(m.affine and m.track_running_stats and m.momentum == 0.1 and m.eps == 1e-5)
    if type(m) is nn.MaxPool2d:
        size = m.kernel_size
        return (
            size in (2, (2, 2))
            and m.stride in (2, (2, 2))
            and m.padding in (0, (0, 0))
            and m.dilation in (1, (1, 1))
            and not m.ceil_mode
            and not m.return_indices
        )
    if type(m) is nn.Flatten:
        return m.start_dim == 1 and m.end_dim == -1
    return type(m) in (nn.ReLU, nn.Dropout, LogSpectrogram)


def _batch_size(node: Any, x: fx.Node) -> bool:
    """Whether ``node`` is ``x.size(0)``, ``x.size()[0]`` or ``x.shape[0]``."""
    if not isinstance(node, fx.Node):
        return False
    if node.op == "call_method" and node.target == "size":
        return node.args == (x, 0)
    if node.op == "call_function" and node.target is operator.getitem and node.args[1] == 0:
        whole = node.args[0]
        return isinstance(whole, fx.Node) and (
            (whole.op == "call_method" and whole.target == "size" and whole.args == (x,))
            or (
                whole.op == "call_function"
                and whole.target is getattr
                and whole.args == (x, "shape")
            )
        )
    return False


_NONE = object()
#: keyword arguments of the functions below that leave them the plain layer
_DEFAULTS: dict[str, object] = {
    "inplace": False,
    "stride": None,
    "padding": 0,
    "dilation": 1,
    "ceil_mode": False,
    "return_indices": False,
}


def _function_layer(node: fx.Node, x: fx.Node) -> nn.Module | None:
    """The layer a function or method call on ``x`` is, if it is one the chain has."""
    args, target = node.args[1:], node.target
    kwargs = {k: v for k, v in node.kwargs.items() if _DEFAULTS.get(k, _NONE) != v}
    if node.op == "call_function":
        if target in (torch.relu, torch.relu_, F.relu) and not args and set(kwargs) <= {"inplace"}:
            return nn.ReLU()
        if target is torch.flatten and args in ((1,), (1, -1)) and not kwargs:
            return nn.Flatten()
        if target is F.dropout:
            # the traced ``training`` is the module's flag at trace time (True); whether
            # the call follows ``self.training`` the probe (in eval mode) checks
            rate = kwargs.pop("p", args[0] if args else 0.5)
            on = kwargs.pop("training", args[1] if len(args) > 1 else True)
            kwargs.pop("inplace", None)
            if on is not True or kwargs or len(args) > 2 or not isinstance(rate, float | int):
                return None
            return nn.Dropout(float(rate))
        pool = kwargs.pop("kernel_size", None) if not args else args[0]
        stride = kwargs.pop("stride", 2)
        if target in (F.max_pool2d, torch.max_pool2d) and pool == 2 and not args[1:]:
            return nn.MaxPool2d(2) if not kwargs and stride in (2, (2, 2)) else None
        return None
    if node.op == "call_method":
        if target in ("relu", "relu_") and not args and not kwargs:
            return nn.ReLU()
        if target == "flatten" and args in ((1,), (1, -1)) and not kwargs:
            return nn.Flatten()
        if target in ("view", "reshape") and len(args) == 2 and not kwargs:
            if args[0] == -1 and isinstance(args[1], int):  # (-1, features): the probe checks
                return nn.Flatten()
            return nn.Flatten() if args[1] == -1 and _batch_size(args[0], x) else None
    return None


def trace_layers(module: nn.Module) -> list[tuple[str, nn.Module]] | None:
    """The module's layers in order with their names (``""`` for a function call such
    as ``torch.relu``), or None when its graph is not a straight chain of layers the
    stacked engine computes exactly."""
    try:
        graph = _Tracer().trace(module)
    except Exception:  # control flow on values, unsupported Python: not a plain chain
        return None
    inputs = [n for n in graph.nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        return None
    x = inputs[0]
    layers: list[tuple[str, nn.Module]] = []
    helpers: set[fx.Node] = set()
    for node in graph.nodes:
        if node.op == "placeholder" or node in helpers:
            continue
        if _batch_size(node, x) or (
            node.op == "call_method" and node.target == "size" and node.args == (x,)
        ):
            helpers.add(node)
            continue
        if node.op == "call_function" and node.target is getattr and node.args == (x, "shape"):
            helpers.add(node)
            continue
        if not node.args or node.args[0] is not x:
            return None
        # x must feed only this node (and the batch-size helpers of a flatten)
        if any(user is not node and user not in helpers for user in x.users):
            return None
        if node.op == "output":
            return layers
        if node.op == "call_module":
            assert isinstance(node.target, str)
            layer = module.get_submodule(node.target)
            if len(node.args) != 1 or node.kwargs:
                return None
            if type(layer) is not nn.Identity:  # e.g. batch norm switched off
                if not _exact_module(layer):
                    return None
                layers.append((node.target, layer))
        else:
            made = _function_layer(node, x)
            if made is None:
                return None
            layers.append(("", made))
        x = node
    return None


def _covers(module: nn.Module, layers: Sequence[tuple[str, nn.Module]]) -> bool:
    """Whether the chain holds each of the module's tensors once, and all of them are
    trained (a layer called twice shares its weights; a frozen one takes no steps)."""
    keys = [f"{name}.{key}" for name, m in layers for key in m.state_dict()]
    if len(keys) != len(set(keys)) or set(keys) != set(module.state_dict()):
        return False
    return all(p.requires_grad for p in module.parameters())


def _rate(layers: Sequence[tuple[str, nn.Module]]) -> float | None:
    """The dropout rate all Dropout layers share (0 without any), None if they differ."""
    rates = {float(m.p) for _, m in layers if isinstance(m, nn.Dropout)}
    if len(rates) > 1:
        return None
    return rates.pop() if rates else 0.0


#: the chains of module structures already traced, as ``(name, function layer)`` pairs
#: (the layer is None for the module's own submodule ``name``), or None for no chain: a
#: study builds hundreds of modules of a few structures, and a trace takes ~10-50 ms
_RECIPES: dict[tuple, tuple[tuple[str, nn.Module | None], ...] | None] = {}
RECIPE_CACHE = 256


def _key(module: nn.Module, in_shape: Sequence[int]) -> tuple:
    """What a module's chain depends on: its classes, what they print, the plain
    attributes a ``forward`` could branch on, which parameters train, the input shape."""
    plain = (bool, int, float, str, tuple)
    attrs = tuple(
        (name, type(m), tuple(sorted((k, v) for k, v in vars(m).items() if isinstance(v, plain))))
        for name, m in module.named_modules()
    )
    grads = tuple(p.requires_grad for p in module.parameters())
    return type(module), repr(module), attrs, grads, tuple(in_shape)


def as_chain(module: nn.Module, in_shape: Sequence[int]) -> Chain | None:
    """``module`` as a :class:`Chain`, or None when the stacked engine cannot compute it
    exactly (found once per module structure, see :data:`_RECIPES`).

    Args:
        module: the user's network (left unchanged).
        in_shape: one sample's shape; the chain must give the module's own eval-mode
            outputs on a probe batch of this shape.
    """
    key = _key(module, in_shape)
    recipe = _RECIPES.get(key, ())  # one lookup: worker threads may clear the cache
    if recipe != ():
        if recipe is None:
            return None
        layers = [(name, made or module.get_submodule(name)) for name, made in recipe]
        net = nn.Sequential(*(m for _, m in layers))
        return Chain(net, tuple(name for name, _ in layers), _rate(layers) or 0.0)
    chain = _trace_chain(module, in_shape)
    if len(_RECIPES) >= RECIPE_CACHE:
        _RECIPES.clear()
    _RECIPES[key] = (
        None
        if chain is None
        else tuple(
            (name, None if name else m) for name, m in zip(chain.prefixes, chain.net, strict=True)
        )
    )
    return chain


def _trace_chain(module: nn.Module, in_shape: Sequence[int]) -> Chain | None:
    """:func:`as_chain` by tracing ``module`` and checking its chain on a probe input."""
    layers = trace_layers(module)
    if not layers:
        return None
    rate = _rate(layers)
    if rate is None or not _covers(module, layers):
        return None
    net = nn.Sequential(*(m for _, m in layers))
    if layer_plan(net, len(in_shape)) is None:
        return None
    if not _same_outputs(module, net, in_shape):
        return None
    return Chain(net, tuple(name for name, _ in layers), rate)


@torch.no_grad()
def _same_outputs(module: nn.Module, net: nn.Sequential, in_shape: Sequence[int]) -> bool:
    """Whether ``net`` gives ``module``'s eval-mode outputs on a seeded probe batch."""
    device = next(module.parameters(), torch.zeros(0)).device
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, *in_shape, generator=gen).to(device)
    was = module.training
    net.eval()  # the layers made for function calls too
    module.eval()
    try:
        want, got = module(x), net(x)
    except Exception:  # e.g. a Linear on unflattened images: the module is not a chain
        return False
    finally:
        net.train(was)
        module.train(was)
    return (
        isinstance(want, torch.Tensor)
        and want.shape == got.shape
        and bool(torch.allclose(want, got, rtol=0, atol=PROBE_TOLERANCE))
    )


def chains_for(modules: Sequence[nn.Module], in_shape: Sequence[int]) -> list[Chain] | None:
    """One :class:`Chain` per module when every module has one and one
    :class:`~nooverfit.engine.stacked.StackedNet` can train them all (one layer skeleton,
    batch norm and dropout at the same places), else None."""
    chains = []
    for module in modules:
        chain = as_chain(module, in_shape)
        if chain is None:
            return None
        chains.append(chain)
    if len({skeleton_of(c.net) for c in chains}) > 1:
        return None
    plans = [layer_plan(c.net, len(in_shape)) for c in chains]
    if any(p is None for p in plans) or layer_union([p for p in plans if p is not None]) is None:
        return None
    return chains


def stackable(configs: Sequence[RunConfig], datas: Sequence[SplitData], factory: Factory) -> bool:
    """Whether the fused engine can train the modules ``factory`` builds for ``configs``
    as nooverfit's own networks: every group of one
    :func:`~nooverfit.engine.schedule.group_key` has chains for all its modules."""
    keyed: dict[tuple, list[nn.Module]] = {}
    for config, data in zip(configs, datas, strict=True):
        keyed.setdefault(group_key(config), []).append(make_model(config, data, factory=factory))
    shape = datas[0].in_shape
    return all(chains_for(modules, shape) is not None for modules in keyed.values())
