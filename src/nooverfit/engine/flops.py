"""FLOP counts of training runs: the matrix products and convolutions they do.

Counted analytically from each layer's shapes, as ``2 * multiply-adds``:

- a Linear layer, ``in -> out`` on ``R`` rows: ``2 * R * in * out`` forward;
- a Conv2d layer: ``2 * (C_in / groups) * kh * kw * (output elements)`` forward;
- backward: the weight gradient costs the forward's FLOPs, and so does the input
  gradient, except for the first weighted layer (its input, the data, needs none).

So one training sample costs ``3 * forward - first layer's forward``. A run of ``E``
epochs on ``n`` training and ``v`` validation samples trains ``E * n`` samples and
evaluates ``E * (n + v)`` (every epoch's eval-mode pass over the training and validation
sets; see :mod:`nooverfit.engine.group`). Element-wise work (activations, batch norm, the
optimizer update, a spectrogram front end) is not counted: it is the matrix products a
machine's FLOP rate is quoted for. Narrower networks of a fused group are padded to its
widest, so the engine does somewhat more arithmetic than counted here (the useful work).

Use :func:`run_flops` per finished run, :func:`count_flops` for a stage's runs and
:func:`flop_rate` for its rate.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.sequential import Factory, RunResult, make_model


@dataclass(frozen=True)
class SampleFlops:
    """FLOPs of one sample through a network.

    Attributes:
        forward: the forward pass (evaluation).
        train: forward and backward (one training sample).
    """

    forward: int
    train: int


def sample_flops(net: nn.Module, in_shape: Sequence[int]) -> SampleFlops:
    """Count the FLOPs of one sample of shape ``in_shape`` through ``net``'s Linear and
    Conv2d layers (each layer's shapes come from a probe forward pass in eval mode; the
    network is left as it was)."""
    per_layer: list[int] = []

    def hook(module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        if isinstance(module, nn.Linear):
            rows = out.numel() // out.shape[-1]
            per_layer.append(2 * rows * module.in_features * module.out_features)
        elif isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            per_layer.append(2 * (module.in_channels // module.groups) * kh * kw * out.numel())

    layers = [m for m in net.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
    handles = [m.register_forward_hook(hook) for m in layers]
    device = next(net.parameters(), torch.zeros(0)).device
    was = net.training
    net.eval()
    try:
        with torch.no_grad():
            net(torch.zeros(1, *in_shape, device=device))
    finally:
        net.train(was)
        for h in handles:
            h.remove()
    forward = sum(per_layer)
    first = per_layer[0] if per_layer else 0
    return SampleFlops(forward=forward, train=3 * forward - first)


def training_flops(per: SampleFlops, *, train_samples: int, val_samples: int, epochs: int) -> int:
    """FLOPs of ``epochs`` epochs: training on ``train_samples`` samples, then an
    eval-mode pass over them and over ``val_samples`` validation samples, each epoch."""
    return epochs * (train_samples * per.train + (train_samples + val_samples) * per.forward)


@functools.lru_cache(maxsize=256)
def _builtin_flops(
    model: str, width: int, depth: int, batchnorm: bool, in_shape: tuple, classes: int, kind: str
) -> SampleFlops:
    from nooverfit.models import build_model

    config = RunConfig(model=model, width=width, depth=depth, batchnorm=batchnorm)
    return sample_flops(build_model(config, in_shape, classes, kind=kind), in_shape)


def config_flops(
    config: RunConfig, data: SplitData, *, factory: Factory | None = None
) -> SampleFlops:
    """Per-sample FLOPs of ``config``'s network (the user's module when ``factory`` is
    given) on ``data``'s samples."""
    if factory is None:
        return _builtin_flops(
            config.model,
            config.width,
            config.depth,
            config.batchnorm,
            tuple(data.in_shape),
            data.num_classes,
            data.kind,
        )
    return sample_flops(make_model(config, data, factory=factory), data.in_shape)


def run_flops(
    config: RunConfig,
    data: SplitData,
    *,
    epochs: int | None = None,
    factory: Factory | None = None,
) -> int:
    """FLOPs of the matrix products and convolutions of one run.

    Args:
        config: the run (its network, training subset and epochs).
        data: its split.
        epochs: epochs it trained (default ``config.epochs``; pass ``len(history)`` for a
            run that stopped early).
        factory: the user's module factory, if the study has one.
    """
    train = data.train_index(train_size=config.train_size, train_per_class=config.train_per_class)
    return training_flops(
        config_flops(config, data, factory=factory),
        train_samples=len(train),
        val_samples=len(data.split.val),
        epochs=config.epochs if epochs is None else epochs,
    )


def count_flops(
    results: Iterable[RunResult],
    data: Mapping[int, SplitData],
    *,
    factory: Factory | None = None,
) -> int:
    """FLOPs of finished runs (:func:`run_flops` of each, for the epochs it trained).

    Args:
        results: the runs, e.g. a study stage's.
        data: each seed's split (a run's split is ``data[run.config.seed]``).
        factory: the user's module factory, if the study has one.
    """
    return sum(
        run_flops(r.config, data[r.config.seed], epochs=len(r.history), factory=factory)
        for r in results
    )


def flop_rate(flops: float, seconds: float) -> float:
    """FLOP/s of ``flops`` done in ``seconds`` (0 when no time was measured)."""
    return flops / seconds if seconds > 0 else 0.0
