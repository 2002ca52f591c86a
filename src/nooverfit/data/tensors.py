"""`SplitData`: a data set and its split as tensors on the training device."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from nooverfit.data.dataset import Dataset
from nooverfit.data.split import Split
from nooverfit.data.tabular import DEFAULT_SCALING, fit_scaling, scale_with


@dataclass(frozen=True, eq=False)
class SplitData:
    """Everything a training run reads: features, labels and split indices as tensors.

    Tabular features are scaled with statistics of the training pool (never of validation
    or test samples; see :mod:`nooverfit.data.tabular`).

    Attributes:
        x: all features on ``device``, float32, ``(N, ...)``.
        y: all labels on ``device``, int64, ``(N,)``.
        split: the index split the tensors come from.
        dataset: the source data set (name, classes, kind).
    """

    x: torch.Tensor
    y: torch.Tensor
    split: Split
    dataset: Dataset

    @property
    def device(self) -> torch.device:
        return self.x.device

    @property
    def in_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return self.dataset.num_classes

    @property
    def kind(self) -> str:
        return self.dataset.kind

    def train_index(
        self, *, train_size: int | None = None, train_per_class: int | None = None
    ) -> torch.Tensor:
        """Indices of the training subset (see :meth:`Split.train`), on ``device``."""
        idx = self.split.train(
            self.dataset.y,
            train_size=train_size,
            train_per_class=train_per_class,
            names=self.dataset.classes,
        )
        return torch.as_tensor(idx, device=self.device)

    @property
    def val_index(self) -> torch.Tensor:
        return torch.as_tensor(self.split.val, device=self.device)

    @property
    def test_index(self) -> torch.Tensor:
        return torch.as_tensor(self.split.test, device=self.device)


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def prepare(
    dataset: Dataset,
    split: Split,
    *,
    device: str | torch.device | None = None,
    scaling: str = DEFAULT_SCALING,
) -> SplitData:
    """Move ``dataset`` to ``device`` (default: CUDA if available) for training on ``split``.

    Tabular features are scaled with statistics of the training pool, by ``scaling`` (see
    :mod:`nooverfit.data.tabular`); other kinds are left as they are.
    """
    x = network_inputs(dataset, split.pool, scaling=scaling)
    dev = torch.device(device) if device is not None else default_device()
    return SplitData(
        x=torch.as_tensor(x, device=dev),
        y=torch.as_tensor(dataset.y, device=dev),
        split=split,
        dataset=dataset,
    )


def network_inputs(
    dataset: Dataset, pool: np.ndarray, *, scaling: str = DEFAULT_SCALING
) -> np.ndarray:
    """What a network trained on ``dataset`` from the training pool ``pool`` is fed:
    tabular features with missing cells filled with the pool's medians
    (:meth:`Dataset.filled`) and scaled by ``scaling`` with the pool's statistics; images
    and audio as they are. float32, a copy. :func:`prepare` and ``audit --model`` both
    use it; a saved model's card records the same encoding for ``predict``.
    """
    if dataset.kind == "tabular":  # missing cells filled from the training pool only
        filled = dataset.filled(pool)
        return scale_with(filled, fit_scaling(filled, pool, scaling, counted=dataset.x))
    return dataset.x.astype(np.float32, copy=True)


def load_split(
    spec: str,
    *,
    test: float | int = 0.25,
    val: float | int = 0.2,
    seed: int = 0,
    device: str | torch.device | None = None,
    **options: object,
) -> SplitData:
    """Load data set ``spec``, split it with ``seed`` and move it to ``device``.

    ``options`` go to the loader (``target``, ``data_dir``, ``download``, ...).
    """
    from nooverfit.data.dataset import load_dataset
    from nooverfit.data.split import split_dataset

    dataset = load_dataset(spec, **options)
    return prepare(dataset, split_dataset(dataset, test=test, val=val, seed=seed), device=device)
