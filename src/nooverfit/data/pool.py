"""The training pool's unlabeled part, and a split that trains on it with pseudo-labels.

A study that trains on a subset of its pool (``train_per_class`` or ``train_size``) leaves
the rest of the pool unused. Those samples may be read without their labels: a network
trained on the subset labels them (pseudo-labels), and a new network trains on both
(self-training; Lee, "Pseudo-Label", ICML 2013 workshop; Xie et al., "Self-training with
Noisy Student", CVPR 2020). Validation and test samples are never among them: the
invariant is checked by :func:`check_unlabeled` wherever such data is built.
"""

from __future__ import annotations

import numpy as np
import torch

from nooverfit.data.split import Split
from nooverfit.data.tensors import SplitData


def unlabeled_index(split: Split, train: np.ndarray) -> np.ndarray:
    """Pool samples outside the training subset ``train``, in pool order.

    Args:
        split: the seed's split (its pool holds neither validation nor test samples).
        train: the training subset's indices (drawn from ``split.pool``).

    Returns:
        Indices into the data set, ``(M,)`` int64; empty when the subset is the whole pool.
    """
    rest = split.pool[~np.isin(split.pool, train)].astype(np.int64)
    check_unlabeled(split, train, rest)
    return rest


def check_unlabeled(split: Split, train: np.ndarray, index: np.ndarray) -> None:
    """The invariant of every unlabeled sample a study reads: it lies in the training pool,
    outside the training subset, and is no validation or test sample.

    Raises:
        ValueError: naming the first rule ``index`` breaks (a bug, never bad input).
    """
    for name, other in (("validation", split.val), ("test", split.test), ("training", train)):
        clash = np.intersect1d(index, other)
        if len(clash):
            raise ValueError(
                f"unlabeled samples must not be {name} samples; got {len(clash)} "
                f"(first index {int(clash[0])})"
            )
    outside = np.setdiff1d(index, split.pool)
    if len(outside):
        raise ValueError(
            f"unlabeled samples must come from the training pool; {len(outside)} do not "
            f"(first index {int(outside[0])})"
        )


def with_pseudo_labels(
    data: SplitData, train: np.ndarray, index: np.ndarray, labels: np.ndarray
) -> SplitData:
    """``data`` whose training pool is ``train`` plus the unlabeled ``index``, those
    labelled ``labels`` (a run of it with no ``train_size``/``train_per_class`` trains on
    exactly that pool).

    Validation and test samples keep their own labels and their indices: a network trained
    on the result is scored as any other.

    Args:
        data: the seed's split data.
        train: the labelled training subset.
        index: unlabeled pool samples (see :func:`unlabeled_index`).
        labels: their pseudo-labels, ``(len(index),)``.

    Raises:
        ValueError: if ``index`` breaks :func:`check_unlabeled`, or the lengths differ.
    """
    index = np.asarray(index, dtype=np.int64)
    if len(labels) != len(index):
        raise ValueError(f"need one pseudo-label per sample ({len(index)}), got {len(labels)}")
    check_unlabeled(data.split, train, index)
    y = data.y.clone()
    y[torch.as_tensor(index, device=y.device)] = torch.as_tensor(
        np.asarray(labels), dtype=y.dtype, device=y.device
    )
    split = Split(
        pool=np.concatenate([np.asarray(train, dtype=np.int64), index]),
        val=data.split.val,
        test=data.split.test,
        seed=data.split.seed,
    )
    return SplitData(x=data.x, y=y, split=split, dataset=data.dataset)
