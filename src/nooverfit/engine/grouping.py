"""Pack configs into fused groups: same model family, depth, batch size and optimizer
family, and no more configs than fit in device memory."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from nooverfit.config import RunConfig

#: default largest group on a CPU (more buys nothing: the matrix kernels are saturated)
CPU_GROUP = 256
#: largest group on a GPU, whatever the memory
GPU_GROUP = 8192
#: share of free GPU memory a group may plan to use
MEMORY_SHARE = 0.5


def group_key(config: RunConfig) -> tuple[str, int, int, str]:
    """What configs of one fused group must share: ``(model, depth, batch_size, optimizer
    family)``. Adam and AdamW are one family (both run AdamW with decoupled weight decay).
    Width, L2, weight decay, dropout, batch norm, augmentation, learning rate, epochs,
    early stopping, seed and training subset may differ within a group."""
    family = "sgd" if config.optimizer == "sgd" else "adamw"
    return (config.model, config.depth, config.batch_size, family)


def config_bytes(config: RunConfig, in_shape: Sequence[int], classes: int) -> int:
    """A rough upper bound on the memory one config adds to a group, in bytes.

    Parameters ``P`` are stored four times (weights, gradients, two optimizer moments)
    plus a best-epoch copy; activations are counted for a batch and an evaluation chunk.
    """
    features = math.prod(in_shape)
    w, d = config.width, config.depth
    if config.model == "cnn":
        channels = [w * 2**i for i in range(d)]
        params, prev = 0, in_shape[0]
        for c in channels:
            params, prev = params + 9 * c * prev + c, c
        params += prev * features * classes  # output layer, bounded by an unpooled map
        activations = sum(channels) * features
    else:
        params = features * w + (d - 1) * w * w + w * classes
        activations = d * w
    rows = config.batch_size * 8 + 256  # training batch (fwd + bwd temporaries) + eval chunk
    return 4 * (5 * params + rows * activations)


def group_limit(
    configs: Sequence[RunConfig],
    in_shape: Sequence[int],
    classes: int,
    *,
    device: torch.device,
    max_group: int | None = None,
) -> int:
    """How many of ``configs`` (one group key) fit in one group on ``device``.

    Args:
        max_group: an explicit cap (default: :data:`CPU_GROUP` on CPU; on CUDA, the free
            memory times :data:`MEMORY_SHARE` divided by the widest config's
            :func:`config_bytes`, at most :data:`GPU_GROUP`).
    """
    if max_group is not None:
        if max_group < 1:
            raise ValueError(f"max_group must be >= 1, got {max_group}")
        return max_group
    if device.type != "cuda":
        return CPU_GROUP
    free, _ = torch.cuda.mem_get_info(device)
    widest = max(configs, key=lambda c: c.width)
    per = config_bytes(widest, in_shape, classes)
    return max(1, min(GPU_GROUP, int(free * MEMORY_SHARE) // per))


def plan_groups(
    configs: Sequence[RunConfig],
    in_shape: Sequence[int],
    classes: int,
    *,
    device: torch.device,
    max_group: int | None = None,
) -> list[list[int]]:
    """Split ``configs`` into fused groups; returns lists of indices into ``configs``.

    Configs with one :func:`group_key` are sorted by width (so padding to a group's widest
    network wastes little) and cut into chunks of :func:`group_limit`. Groups come out in
    the order of their first config.
    """
    keyed: dict[tuple[str, int, int, str], list[int]] = {}
    for i, config in enumerate(configs):
        keyed.setdefault(group_key(config), []).append(i)
    groups: list[list[int]] = []
    for members in keyed.values():
        members = sorted(members, key=lambda i: (configs[i].width, i))
        limit = group_limit(
            [configs[i] for i in members], in_shape, classes, device=device, max_group=max_group
        )
        for start in range(0, len(members), limit):
            groups.append(sorted(members[start : start + limit]))
    return sorted(groups, key=lambda g: g[0])
