"""A variant's name: what its configuration changes relative to the baseline. Pure."""

from __future__ import annotations

from nooverfit.config import RunConfig


def describe(config: RunConfig, baseline: RunConfig) -> str:
    """A short label of what ``config`` changes relative to ``baseline``."""
    parts = []
    if config.l2 != baseline.l2:
        parts.append(f"l2={config.l2:.2g}")
    if config.weight_decay != baseline.weight_decay:
        parts.append(f"weight decay={config.weight_decay:.2g}")
    if config.dropout != baseline.dropout:
        parts.append(f"dropout={config.dropout:g}")
    if config.label_smoothing != baseline.label_smoothing:
        parts.append(f"label smoothing={config.label_smoothing:g}")
    if config.mixup != baseline.mixup:
        parts.append(f"mixup={config.mixup:g}")
    if config.ema != baseline.ema:
        parts.append(f"weight average={config.ema:g}")
    if config.batchnorm != baseline.batchnorm:
        parts.append("batchnorm")
    if config.early_stopping != baseline.early_stopping:
        parts.append(f"early stopping {config.early_stopping}")
    if config.augment != baseline.augment:
        parts.append(f"augment={config.augment:g}")
    if config.width != baseline.width:
        parts.append(f"width={config.width}")
    if config.cosine != baseline.cosine:
        parts.append("cosine lr" if config.cosine else "constant lr")
    if config.inputs != baseline.inputs:
        parts.append(f"inputs {config.inputs}")
    return " + ".join(parts) or "baseline"
