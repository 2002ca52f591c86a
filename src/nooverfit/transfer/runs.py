"""Training transferred networks on a target split: one run per strategy plus scratch.

:func:`transfer_runs` is the hook ``nooverfit study`` calls when a source is given. What
the study should show with its results, on the same target split and seed:

- test accuracy (selected on validation, tested once) of ``scratch`` and each strategy at
  the study's training-set size: whether features learned on the source generalize
  better than features learned from the few target images alone;
- the learning curves: a transferred network starts higher and, with most weights frozen
  (``head``, ``io``), has far fewer free parameters, so its train/validation gap is
  smaller - transfer counters overfitting by borrowing the source's data and by freezing
  weights the target data would otherwise fit;
- the caveat, measured: the gain depends on how much the source shares with the target
  and shrinks as target data grows. On 8x8 ``digits``, 0-4 as the source for 5-9 helps a
  CNN only slightly (``bench/transfer.py``: +0.5 points at 5 images per class, about the
  seed-to-seed spread), because features learned on five other digits describe the new
  ones no better than the 64 pixels do; contrastive pretraining on the unlabeled 5-9
  pool (:mod:`~nooverfit.transfer.pretext`) does better, +7.1 / +2.8 / +0.8 points at
  1 / 5 / 10 images per class. The report should say so when the gain is within the
  spread rather than recommend transfer.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from typing import Any

from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine.sequential import RunResult
from nooverfit.seeding import seeded
from nooverfit.train import fit
from nooverfit.transfer.backbones import Pretrained, load_pretrained
from nooverfit.transfer.pretrain import Source
from nooverfit.transfer.seen import SourceFile
from nooverfit.transfer.strategy import STRATEGIES, Transfer, prepare

log = logging.getLogger(__name__)

SourceLike = Source | Pretrained | SourceFile | str


def as_pretrained(
    source: SourceLike, *, config: RunConfig | None = None, in_shape: Sequence[int] | None = None
) -> Pretrained:
    """A :class:`Pretrained` from a source, a loaded network, a file already read or a
    spec for :func:`load_pretrained` (``config`` and ``in_shape`` serve bare state
    dicts)."""
    if isinstance(source, Pretrained):
        return source
    if isinstance(source, Source):
        return Pretrained(source.build(), source.in_shape, source.task, source.seen)
    return load_pretrained(source, config=config, in_shape=in_shape)


def input_change(
    source: Sequence[int] | None, target: Sequence[int], *, kind: str, name: str
) -> tuple[int | None, tuple[int, ...] | None]:
    """How :func:`transfer_model` adapts the input of a network that takes samples of
    shape ``source`` (None: images of any size, as a torchvision model) to the data's
    ``target`` samples of ``kind``: the input convolution's new channel count and the
    image size to resize to (None: unchanged). Shapes only, so that a study checks its
    source before its first run.

    Raises:
        ValueError: in one line naming the source and both shapes, where the target's
            samples cannot feed it: images for a network of feature vectors, feature
            vectors for one of images (a torchvision model reads images only), or another
            shape of feature vectors.
    """
    target = tuple(target)
    if source is None and len(target) != 3:
        raise ValueError(
            f"source {name} reads images (C, H, W), the data's samples have shape {target}; "
            "expected image data"
        )
    if source is not None and len(source) != len(target):
        raise ValueError(
            f"source {name} takes samples of shape {tuple(source)}, the data's have shape "
            f"{target}; expected a source pretrained on data of the same kind"
        )
    if kind == "image" and len(target) == 3:
        in_channels = target[0] if source is None or source[0] != target[0] else None
        same_size = source is None or tuple(source[1:]) == target[1:]
        return in_channels, None if same_size else tuple(source[1:])  # type: ignore[index]
    if source is not None and tuple(source) != target:
        raise ValueError(
            f"source {name} takes samples of shape {tuple(source)}, the data's have shape "
            f"{target}; expected a source pretrained on samples of that shape"
        )
    return None, None


def transfer_model(
    pretrained: Pretrained,
    data: SplitData,
    *,
    strategy: str,
    seed: int = 0,
    **options: Any,
) -> Transfer:
    """A fresh copy of ``pretrained`` prepared for ``data``: a new output layer for its
    classes, and an input layer and size adapted to its images where they differ.

    Args:
        pretrained: the loaded network (copied; the original is left as it was).
        data: the target split.
        strategy: ``"head"``, ``"io"``, ``"full"`` or ``"gradual"``.
        seed: seed of the new output layer.
        **options: more :func:`prepare` options (``lr_scale``, ``lr_decay``, ``every``,
            ``train_bn``, ``split``).

    Raises:
        ValueError: if the target samples cannot feed the network.
    """
    in_channels, in_size = input_change(
        pretrained.in_shape, data.in_shape, kind=data.kind, name=pretrained.name
    )
    model = copy.deepcopy(pretrained.model)
    transfer = prepare(
        model,
        strategy=strategy,
        classes=data.num_classes,
        in_channels=in_channels,
        in_size=in_size,
        # an MLP of images reads C * H * W features: adapting it needs the source's C
        source_channels=pretrained.in_shape[0] if pretrained.in_shape else None,
        seed=seed,
        **options,
    )
    model.to(data.device)
    return transfer


def _reinitialized(model: nn.Module, seed: int) -> nn.Module:
    model = copy.deepcopy(model)
    with seeded(seed):
        for m in model.modules():
            for method in ("reset_parameters", "reset_running_stats"):
                if callable(reset := getattr(m, method, None)):
                    reset()
    return model


def transfer_runs(
    data: SplitData,
    *,
    source: SourceLike,
    strategies: Sequence[str] = STRATEGIES,
    base_config: RunConfig,
    scratch: bool = True,
    check: bool = True,
    **options: Any,
) -> list[RunResult]:
    """Train ``scratch`` and each transfer strategy on ``data`` with ``base_config``.

    Every run uses ``base_config``'s optimizer, ``lr`` (the new layers' rate), epochs,
    early stopping, training-set size and seed; runs differ only in where the weights
    start and which of them train. ``scratch`` is the same architecture with every
    layer re-initialized from ``base_config.seed`` and trained at ``lr``.

    Args:
        data: the target split (train subset chosen by ``base_config``).
        source: a :class:`Source`, a :class:`Pretrained` network or a spec such as
            ``"source.pt"`` or ``"torchvision:resnet18"``.
        strategies: transfer strategies to run (default all four).
        base_config: the settings shared by all runs.
        scratch: also train from scratch, first (default True).
        check: refuse a source that trained with labels on ``data``'s validation or test
            samples (:func:`~nooverfit.transfer.seen.check_source`; default True).
        **options: more :func:`prepare` options.

    Returns:
        One result per run, scratch first, labelled ``"scratch"`` and ``"transfer:NAME"``;
        ``state`` is the plain state dict of the prepared network (the source's keys).
    """
    if check:
        from nooverfit.transfer.seen import check_source

        check_source(source, {base_config.seed: data}, hint="pretrain on this split's pool")
    pretrained = as_pretrained(source, config=base_config, in_shape=data.in_shape)
    plan: list[tuple[str, str, dict[str, Any]]] = []
    if scratch:
        plan.append(("scratch", "full", {"lr_scale": 1.0}))
    plan += [(f"transfer:{s}", s, options) for s in strategies]
    results = []
    for label, strategy, extra in plan:
        config = base_config.replace(label=label)
        start = pretrained
        if label == "scratch":
            start = Pretrained(
                _reinitialized(pretrained.model, config.seed), pretrained.in_shape, "scratch"
            )
        transfer = transfer_model(start, data, strategy=strategy, seed=config.seed, **extra)
        history = fit(
            transfer.model,
            data,
            config,
            callbacks=transfer.callbacks(),
            optimizer=transfer.optimizer(config),
        )
        state = {k: v.detach().cpu().clone() for k, v in transfer.model.state_dict().items()}
        results.append(RunResult(config, history, state, "sequential"))
        kept = history.kept_epoch if history.kept_epoch is not None else len(history) - 1
        log.info("%s: val accuracy %.3f", label, history.val_accuracy[kept])
    return results
