"""`Dataset`: an in-memory labelled data set, and the registry that loads one by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("image", "tabular", "audio")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features and integer labels held in memory.

    Attributes:
        name: the spec it was loaded from (e.g. ``"digits"``, ``"csv:data.csv"``).
        x: features, float32; ``(N, C, H, W)`` for images, ``(N, F)`` for tabular data,
            ``(N, T)`` for audio.
        y: labels in ``0 .. len(classes) - 1``, int64, shape ``(N,)``.
        classes: class names, indexed by label.
        kind: ``"image"``, ``"tabular"`` or ``"audio"`` (selects augmentation defaults).
        groups: optional group name per sample (for the data audit's group gaps).
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    kind: str
    groups: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.x) == 0:
            raise ValueError(f"data set {self.name!r} is empty; expected at least one sample")
        if len(self.x) != len(self.y):
            raise ValueError(
                f"data set {self.name!r} has {len(self.x)} samples but {len(self.y)} labels"
            )
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not np.isfinite(self.x).all():
            raise ValueError(f"data set {self.name!r} has NaN or infinite feature values")

    def __len__(self) -> int:
        return len(self.y)

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)


Loader = Callable[..., Dataset]
_REGISTRY: dict[str, tuple[Loader, str]] = {}


def register_dataset(name: str, loader: Loader, *, description: str = "") -> None:
    """Make ``load_dataset(name)`` (or ``name:ARG``) call ``loader``.

    The loader receives the part after the colon as ``arg`` (``None`` without one) and the
    keyword options given to :func:`load_dataset`.
    """
    _REGISTRY[name] = (loader, description)


def list_datasets() -> dict[str, str]:
    """Return the registered data set names and their descriptions, sorted by name."""
    return {name: _REGISTRY[name][1] for name in sorted(_REGISTRY)}


def load_dataset(spec: str, **options: Any) -> Dataset:
    """Load a data set by name or spec.

    Args:
        spec: ``"digits"``, ``"synthetic"``, ``"csv:PATH"``, ``"folder:PATH"``, ``"mnist"``,
            ``"fashion-mnist"``, ``"cifar10"``, or any name added with
            :func:`register_dataset`.
        **options: loader options, e.g. ``target`` for CSV files, ``data_dir`` and
            ``download`` for torchvision data sets, ``n_samples`` for ``synthetic``.

    Raises:
        ValueError: unknown name or bad options, with the expected form.
        FileNotFoundError: a file or folder that does not exist.
    """
    name, sep, arg = spec.partition(":")
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise ValueError(f"unknown data set {spec!r}; expected one of: {known} (csv:PATH, ...)")
    loader, _ = _REGISTRY[name]
    return loader(arg if sep else None, **options)
