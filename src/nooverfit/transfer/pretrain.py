"""Source tasks that work offline: a class subset of a data set, or a self-supervised
pretext on its unlabeled images, and `Source`, the pretrained network saved to disk.

- Class subset: pretrain on ``digits`` classes 0-4 (their images in the training pool of
  the target split, :func:`pool_only`, so that no test image is seen) and transfer to
  classes 5-9, where only a few labelled images per class exist.
- Rotation prediction (Gidaris et al., "Unsupervised Representation Learning by
  Predicting Image Rotations", ICLR 2018): each unlabeled image appears rotated by 0, 90,
  180 and 270 degrees, and the network learns which; no label is needed, so the unlabeled
  training pool of the target data set itself can serve as the source.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nooverfit._io import atomic_save
from nooverfit.config import RunConfig
from nooverfit.data.dataset import Dataset
from nooverfit.data.split import make_split
from nooverfit.data.tensors import SplitData
from nooverfit.data.tensors import prepare as prepare_data
from nooverfit.models import Network, build_model
from nooverfit.train import fit
from nooverfit.transfer.seen import FORMAT as FORMAT  # the file's tag, where it is checked
from nooverfit.transfer.seen import Seen, source_format

log = logging.getLogger(__name__)


#: The longest class range parse_classes spells out (far more than any data set's classes).
MAX_CLASSES = 100_000


def parse_classes(spec: str, names: Sequence[str] = ()) -> tuple[int, ...]:
    """Parse a class list such as ``"0-4"``, ``"5,7,9"`` or ``"0-2,8"`` (sorted, unique),
    or, given the data set's class ``names``, names such as ``"big cat,dog"`` (a part
    that is a number or a range is read as labels first).

    Raises:
        ValueError: on anything else, naming the expected form (and the names).
    """
    chosen: set[int] = set()
    for part in spec.split(","):
        lo, dash, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi) if dash else int(lo)
        except ValueError:
            first = last = -1
        if first < 0 and part.strip() in names:
            first = last = list(names).index(part.strip())
        if first < 0 or last < first:
            known = ", ".join(f"{k} {n!r}" for k, n in enumerate(names[:10]))
            more = ", ..." if len(names) > 10 else ""
            also = f" or class names ({known}{more})" if names else ""
            raise ValueError(f"classes must look like 0-4 or 5,7,9{also}, got {spec!r}")
        if last - first >= MAX_CLASSES:  # refused before the range is spelled out
            raise ValueError(
                f"classes {part.strip()!r} spans more than {MAX_CLASSES} labels; expected "
                "labels of the data set, e.g. 0-4"
            )
        chosen.update(range(first, last + 1))
    return tuple(sorted(chosen))


def subset_classes(dataset: Dataset, classes: str | Sequence[int] | None) -> Dataset:
    """``dataset`` with only ``classes`` (``--classes`` of study, train, pretrain and audit):
    a spec such as ``"5-9"`` or ``"cat,dog"`` read by :func:`parse_classes` with the data
    set's class names, or the labels themselves, kept by :func:`class_subset` (relabelled
    from 0 in that order). None: ``dataset`` as it is.

    Raises:
        ValueError: a spec :func:`parse_classes` refuses, or a class not in ``dataset``.
    """
    if classes is None:
        return dataset
    keep = parse_classes(classes, dataset.classes) if isinstance(classes, str) else classes
    return class_subset(dataset, tuple(keep))


def same_classes(a: str | None, b: str | None) -> bool:
    """Whether two ``--classes`` specs name the same classes (``"5-9"`` is ``"9,5-8"``);
    a spec :func:`parse_classes` cannot read without the class names compares by its parts
    (``"cat, dog"`` is ``"dog,cat"``)."""

    def kept(spec: str | None) -> frozenset[object]:
        if not spec:
            return frozenset()
        try:
            return frozenset(parse_classes(spec))
        except ValueError:
            return frozenset(part.strip() for part in spec.split(","))

    return kept(a) == kept(b)


def _spans(labels: Sequence[int]) -> str:
    """``[1, 2, 3, 7, 10, 11]`` as ``"1-3,7,10-11"``."""
    runs: list[list[int]] = []
    for c in sorted(set(labels)):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(f"{a}-{b}" if b > a else f"{a}" for a, b in runs)


def pool_only(dataset: Dataset, index: np.ndarray) -> Dataset:
    """The samples ``dataset[index]`` only: pass the training pool of the split a later
    ``nooverfit train`` makes (:func:`~nooverfit.transfer.pretext.unlabeled_pool`), so
    that a source pretrained on the result never saw that run's validation or test images.
    """
    index = np.asarray(index, dtype=np.int64)
    # (the source's own split is a plain stratified one)
    return _taken(dataset, index, train_groups=None)


def class_subset(dataset: Dataset, classes: Sequence[int]) -> Dataset:
    """The samples of ``classes`` only, relabelled ``0 .. len(classes) - 1`` in the order
    given (so ``classes=(5, 6, 7, 8, 9)`` maps digit 5 to label 0).

    Where the class names are whole numbers (a CSV's labels 3, 5, 7, 11...), ``classes``
    are those names, and a range keeps the names it holds (``3-7``: 3, 5 and 7); else they
    are class positions (0 for the first class name). The subset's name lists the names
    kept.

    Raises:
        ValueError: if a class is not a label of ``dataset`` (or no name is in the range).
    """
    classes = tuple(int(c) for c in classes)
    names = [_whole(n) for n in dataset.classes]
    if all(n is not None for n in names) and names != list(range(len(names))):
        position = {n: k for k, n in enumerate(names)}
        kept = tuple(position[c] for c in classes if c in position)
        if not kept:
            raise ValueError(
                f"classes {list(classes)} name no class of {dataset.name}; expected some of "
                f"its labels {', '.join(dataset.classes)}"
            )
        classes = kept
    bad = [c for c in classes if not 0 <= c < dataset.num_classes]
    if bad or not classes:
        outside = f"{_spans(bad)} outside them" if bad else "none"
        raise ValueError(f"classes must be labels in 0..{dataset.num_classes - 1}, got {outside}")
    mask = np.isin(dataset.y, classes)
    relabel = np.zeros(dataset.num_classes, dtype=np.int64)
    relabel[list(classes)] = np.arange(len(classes))
    spec = ",".join(dataset.classes[c] for c in classes)
    # every other field (train_groups, whole_groups, the noise bank, columns) as it was:
    # a field added to Dataset is kept unless named here or, one value per sample, in
    # _taken
    return _taken(
        dataset,
        mask,
        name=f"{dataset.name}[{spec}]",
        y=relabel[dataset.y[mask]],
        classes=tuple(dataset.classes[c] for c in classes),
        probes=None,  # their labels are in the full label space
    )


def _taken(dataset: Dataset, rows: np.ndarray, **changes: Any) -> Dataset:
    """``dataset`` at ``rows`` (indices or a mask): its samples, labels and the optional
    fields that hold one value per sample (groups, CSV lines, image files), with
    ``changes`` to further fields (or in place of those)."""

    def at(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values[rows]

    fields: dict[str, Any] = {
        "x": dataset.x[rows],
        "y": dataset.y[rows],
        "groups": at(dataset.groups),
        "lines": at(dataset.lines),
        "paths": at(dataset.paths),
    }
    return dataclasses.replace(dataset, **(fields | changes))


def _whole(name: str) -> int | None:
    """A class name that is a whole number (``"7"``), as that number; else None."""
    try:
        return int(name)
    except ValueError:
        return None


def rotation_pretext(dataset: Dataset, index: np.ndarray | None = None) -> Dataset:
    """Rotation prediction on the images ``dataset.x[index]`` (labels ignored).

    Returns a data set of ``4 * len(index)`` images: every image rotated by ``k * 90``
    degrees, labelled ``k`` (classes ``"0", "90", "180", "270"``).

    Raises:
        ValueError: if the images are not square ``(N, C, H, H)`` images.
    """
    x = dataset.x if index is None else dataset.x[index]
    if dataset.kind != "image" or x.ndim != 4 or x.shape[2] != x.shape[3]:
        raise ValueError(f"rotation pretext needs square images (N, C, H, H), got {x.shape}")
    rotated = np.concatenate([np.rot90(x, k, axes=(2, 3)) for k in range(4)])
    labels = np.repeat(np.arange(4, dtype=np.int64), len(x))
    return Dataset(
        f"rotation:{dataset.name}", np.ascontiguousarray(rotated), labels,
        ("0", "90", "180", "270"), "image",
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class Source:
    """A pretrained nooverfit network: enough to rebuild it and to say what it learned.

    Attributes:
        config: the config it was trained with (model family, width, depth, ...).
        in_shape: shape of one input sample.
        classes: number of outputs of its head.
        state: its weights (CPU tensors).
        task: what it was trained on, e.g. ``"digits[0,1,2,3,4]"``.
        seen: the samples it trained on (:func:`~nooverfit.transfer.seen.check_source`
            compares them with a target's validation and test samples); None in files
            written before the record existed.
    """

    config: RunConfig
    in_shape: tuple[int, ...]
    classes: int
    state: dict[str, torch.Tensor]
    task: str
    seen: Seen | None = None

    def build(self) -> Network:
        """The network with its pretrained weights."""
        from nooverfit.stale_bias import fold_stale_biases

        model = build_model(self.config, self.in_shape, self.classes)
        model.load_state_dict(fold_stale_biases(model, self.state))  # as saved before, too
        return model

    def check(self, data: SplitData) -> None:
        """Refuse the target split ``data`` if this source trained with labels on one of
        its validation or test samples (:func:`~nooverfit.transfer.seen.check_source`).

        Raises:
            ValueError: naming how many, and what to do instead.
        """
        from nooverfit.transfer.seen import check_source

        hint = "pretrain on the training pool of this split (same seed, test and val)"
        check_source(self, {data.split.seed: data}, hint=hint)

    def save(self, path: str | Path, *, overwrite: bool = False) -> None:
        """Write the source atomically; :meth:`load` reads it with ``weights_only=True``.

        Args:
            path: the file to write.
            overwrite: replace an existing file (default False).

        Raises:
            OutputExists: if ``path`` exists and not ``overwrite``.
        """
        from nooverfit.errors import check_new

        check_new(Path(path), overwrite=overwrite)
        blob = {
            "format": FORMAT,
            "config": self.config.to_dict(),
            "in_shape": list(self.in_shape),
            "classes": self.classes,
            "task": self.task,
            "state": self.state,
        }
        if self.seen is not None:
            blob["seen"] = self.seen.to_blob()
        atomic_save(Path(path), blob)

    @classmethod
    def load(cls, path: str | Path) -> Source:
        """Read a file written by :meth:`save`.

        Raises:
            FileNotFoundError: if ``path`` does not exist.
            ValueError: if it is not a nooverfit source file.
        """
        from nooverfit._io import read_checkpoint

        path = Path(path)
        # (a missing file or a folder: read_checkpoint says which, naming a pretrained file)
        blob = read_checkpoint(path, what="pretrained file")
        return cls.from_blob(blob, path)

    @classmethod
    def from_blob(cls, blob: object, path: str | Path = "<memory>") -> Source:
        """Build a source from the dict :meth:`save` writes (any format this reads; a
        format 1 file's biases before batch norm are folded, so its ``state`` is today's
        layout and saving it again writes a true format 2 file).

        Raises:
            BadInput: a newer nooverfit's source file (:func:`source_format`).
            ValueError: not a nooverfit source file.
        """
        version = source_format(blob, path)
        if version is None or not isinstance(blob, dict):
            raise ValueError(f"{path} is not a nooverfit source file (nooverfit pretrain)")
        config = RunConfig.from_dict(blob["config"])
        in_shape, classes = tuple(int(s) for s in blob["in_shape"]), int(blob["classes"])
        state = dict(blob["state"])
        if version == 1:
            from nooverfit.stale_bias import fold_stale_biases

            state = fold_stale_biases(build_model(config, in_shape, classes), state)
        seen = Seen.from_blob(blob["seen"]) if "seen" in blob else None
        return cls(config, in_shape, classes, state, str(blob["task"]), seen)


def pretrain(
    dataset: Dataset,
    config: RunConfig,
    *,
    val: float | int = 0.1,
    device: str | torch.device | None = None,
) -> Source:
    """Train ``config``'s network on all of ``dataset`` but a validation part.

    The validation part (stratified, seeded by ``config.seed``) only serves
    ``config.early_stopping``; a token test part of one image per class is held out
    because splits need one. The kept weights are those of the best validation epoch
    when early stopping is set, else the last.

    Args:
        dataset: the source task, e.g. ``class_subset(digits, range(5))`` or
            ``rotation_pretext(digits, pool)``.
        config: model, optimizer and epochs (``train_size``/``train_per_class`` ignored).
        val: validation fraction or count (default 0.1).
        device: torch device (default: CUDA if available).
    """
    config = config.replace(train_size=None, train_per_class=None)
    split = make_split(
        dataset.y, test=dataset.num_classes, val=val, seed=config.seed, names=dataset.classes
    )
    data = prepare_data(dataset, split, device=device)
    model = build_model(config, data.in_shape, data.num_classes)
    history = fit(model, data, config)
    kept = history.kept_epoch if history.kept_epoch is not None else len(history) - 1
    log.info(
        "pretrained on %s: val accuracy %.3f at epoch %d",
        dataset.name,
        history.val_accuracy[kept],
        kept,
    )
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    # every sample it trained on, its validation part too (chosen on their labels); a
    # rotation pretext learns no class label of the images it rotates
    seen = Seen.of(dataset.x, labelled=not dataset.name.startswith("rotation:"))
    return Source(config, data.in_shape, data.num_classes, state, dataset.name, seen)
