"""A variant's name: what its configuration changes relative to the baseline. Pure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nooverfit.config import RunConfig

#: Each setting a variant may change and how its label reads, in the label's order.
_LABELS: tuple[tuple[str, Callable[[Any], str]], ...] = (
    ("l2", lambda v: f"l2={v:.2g}"),
    ("weight_decay", lambda v: f"weight decay={v:.2g}"),
    ("dropout", lambda v: f"dropout={v:g}"),
    ("label_smoothing", lambda v: f"label smoothing={v:g}"),
    ("mixup", lambda v: f"mixup={v:g}"),
    ("ema", lambda v: f"weight average={v:g}"),
    ("batchnorm", lambda v: "batchnorm"),
    ("early_stopping", lambda v: f"early stopping {v}"),
    ("augment", lambda v: f"augment={v:g}"),
    ("cutout", lambda v: f"cutout={v:g}"),
    ("width", lambda v: f"width={v}"),
    ("depth", lambda v: "linear" if v == 0 else f"depth={v}"),
    ("cosine", lambda v: "cosine lr" if v else "constant lr"),
    ("inputs", lambda v: f"inputs {v}"),
    ("members", lambda v: f"{v} members"),
    ("periodic", lambda v: "PLR embeddings" if v else "no PLR embeddings"),
    ("convs", lambda v: f"{v} convs per block"),
    ("tta", lambda v: "test-time shifts" if v else "no test-time shifts"),
)


def describe(config: RunConfig, baseline: RunConfig) -> str:
    """A short label of what ``config`` changes relative to ``baseline``."""
    parts = [
        label(getattr(config, name))
        for name, label in _LABELS
        if getattr(config, name) != getattr(baseline, name)
    ]
    return " + ".join(parts) or "baseline"
