"""What a source network trained on, and the check that a target split tests on none of it.

A source pretrained on one split's training pool has seen, with labels, images that
another split (another seed, other --test/--val) puts in its validation or test part:
transferring it there scores the target on images the source learned. A source file
records a fingerprint of every sample it trained on (8 bytes each, by content, so that a
class subset or a reordered copy of the same data matches too), and
:func:`check_source` compares them with the validation and test samples of each target
split before anything is trained or written.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nooverfit import formats

log = logging.getLogger(__name__)

#: The format tag of a source file (:meth:`~nooverfit.transfer.pretrain.Source.save`;
#: its history in :data:`nooverfit.formats.SOURCE`). A newer one is refused
#: (:func:`source_format`).
FORMAT = formats.SOURCE
_TAG, _VERSION = FORMAT.rsplit("/", 1)


def source_format(blob: Any, path: str | Path) -> int | None:
    """The format version of a source file's contents ``blob``, None where it is not a
    nooverfit source file (a state dict, another checkpoint).

    Raises:
        BadInput: in one line, a source file of a newer nooverfit (a larger version) or
            a damaged tag, naming ``path``.
    """
    from nooverfit.errors import BadInput, newer_nooverfit

    tag = blob.get("format") if isinstance(blob, dict) else None
    if not isinstance(tag, str) or not tag.startswith(f"{_TAG}/"):
        return None
    version = tag.removeprefix(f"{_TAG}/")
    if not version.isdecimal() or int(version) < 1:
        raise BadInput(f"{path} has format {tag!r}; expected {_TAG}/1 to {FORMAT}")
    if int(version) > int(_VERSION):
        raise newer_nooverfit(path, f"format {tag}", f"{_TAG}/1 to {FORMAT}")
    return int(version)


#: What to do instead, in a study and in ``train --pretrained``.
STUDY_HINT = (
    "pretrain with the same --seed/--test/--val as the study's seed (or use --seeds 1 "
    "with a source of seed 0), or on classes the target does not use"
)
TRAIN_HINT = (
    "pretrain with the same --seed/--test/--val as train, or on classes the target does not use"
)


def subset_hint(command: str) -> str:
    """What to do instead in a ``command`` ("the study", "train") of --classes, which splits
    only those classes' samples: no pretrain split matches it, whatever its --seed."""
    return (
        f"pretrain on classes {command} does not use (with --classes {command} splits only "
        "its classes' samples, so a source of another split's pool overlaps its validation "
        "and test samples whatever its --seed)"
    )


#: A study of --classes splits only those classes' samples, which no pretrain split matches.
SUBSET_HINT = subset_hint("the study")
#: ``train --classes``, likewise.
TRAIN_SUBSET_HINT = subset_hint("train")


@dataclass(frozen=True, eq=False)
class SourceFile:
    """A transfer source given as a file (a nooverfit source or a bare state dict), read
    once and handed to each step that needs it: the study's fit check, :func:`check_source`,
    every seed's transfer runs, the saved model's card.

    Attributes:
        spec: the path as given (how messages and results name the source).
        blob: what the file holds (``torch.load`` with ``weights_only=True``).
    """

    spec: str
    blob: Any

    @classmethod
    def read(cls, spec: str | Path) -> SourceFile:
        """Read the file ``spec``.

        Raises:
            FileNotFoundError: no such file.
            BadInput: not a checkpoint ``weights_only`` loads.
            ValueError: a study's ensemble (:func:`not_an_ensemble`).
        """
        from nooverfit._io import read_checkpoint

        if not Path(spec).exists():  # a folder: read_checkpoint says so
            raise FileNotFoundError(
                f"pretrained file {spec} does not exist; expected PATH or torchvision:NAME[:PATH]"
            )
        blob = read_checkpoint(Path(spec), what="pretrained file")
        return cls(str(spec), not_an_ensemble(spec, blob))


def not_an_ensemble(spec: str | Path, blob: Any) -> Any:
    """``blob``, the contents of the pretrained file ``spec``, unless it is a study's
    ensemble (``members.N.*`` weights, as ``best_model.pt`` holds an averaged one): one
    network is what transfer starts from, and loading that file as one said only
    "Missing key(s) in state_dict".

    Raises:
        ValueError: naming the file an ensemble of N networks and what to pass instead.
    """
    keys = blob.keys() if isinstance(blob, dict) else ()
    members = {str(k).split(".")[1] for k in keys if str(k).startswith("members.")}
    if not members:
        return blob
    raise ValueError(
        f"{spec} is an ensemble of {len(members)} networks (a study's averaged best model), "
        "not one network to start from; expected one network's weights: a study's "
        "best_model.pt that is a single network, or the model.pt 'nooverfit train --out "
        "DIR' writes"
    )


def row_prints(x: np.ndarray) -> np.ndarray:
    """A 64-bit content fingerprint of every sample of ``x`` (its dtype, shape and bytes)."""
    x = np.ascontiguousarray(x)
    head = f"{x.dtype.str}{x.shape[1:]}".encode()
    prints = np.empty(len(x), dtype=np.uint64)
    for i in range(len(x)):
        digest = hashlib.blake2b(head + x[i].tobytes(), digest_size=8).digest()
        prints[i] = int.from_bytes(digest, "little")
    return prints


@dataclass(frozen=True, eq=False)
class Seen:
    """The samples a source trained on.

    Attributes:
        rows: sorted unique fingerprints (:func:`row_prints`) of those samples.
        labelled: whether it learned their labels (False for a pretext: rotation,
            contrastive).
    """

    rows: np.ndarray
    labelled: bool

    @classmethod
    def of(cls, x: np.ndarray, *, labelled: bool) -> Seen:
        """The record of training on the samples ``x``."""
        return cls(np.unique(row_prints(x)), labelled)

    def to_blob(self) -> dict[str, Any]:
        """What a source file stores (a tensor and a bool: ``weights_only`` loads it)."""
        return {
            "rows": torch.from_numpy(self.rows.view(np.int64).copy()),
            "labelled": self.labelled,
        }

    @classmethod
    def from_blob(cls, blob: Any) -> Seen:
        """Read :meth:`to_blob`'s dict."""
        rows = blob["rows"].numpy().astype(np.int64).view(np.uint64)
        return cls(np.sort(rows), bool(blob["labelled"]))

    def overlap(self, prints: np.ndarray, index: np.ndarray, pool: np.ndarray) -> int:
        """How many samples ``index`` the source saw that are not also in ``pool`` (a data
        set's own duplicates across its split are no leak of the source), given the data
        set's fingerprints ``prints`` (:func:`row_prints`, one per sample)."""
        hit = np.isin(prints[index], self.rows)
        if hit.any():
            hit &= ~np.isin(prints[index], prints[pool])
        return int(hit.sum())


def seen_of(source: Any) -> tuple[str, Seen | None] | None:
    """The name and record of a nooverfit source (a
    :class:`~nooverfit.transfer.pretrain.Source`, its file, or a
    :class:`~nooverfit.transfer.backbones.Pretrained` loaded from one), None where it is
    no such source (torchvision, a bare state dict, a loaded network)."""
    if isinstance(source, Seen):
        return "source", source
    if isinstance(source, SourceFile):
        return _recorded(source.spec, source.blob)
    if hasattr(source, "seen") and hasattr(source, "task"):  # a Source
        return str(source.task), source.seen
    if hasattr(source, "seen") and hasattr(source, "model"):  # a Pretrained
        return (str(source.name), source.seen) if source.seen is not None else None
    if not isinstance(source, (str, Path)) or not Path(source).is_file():
        return None
    from nooverfit._io import read_checkpoint

    blob = read_checkpoint(Path(source), what="pretrained file")
    return _recorded(str(source), not_an_ensemble(source, blob))


def _recorded(name: str, blob: Any) -> tuple[str, Seen | None] | None:
    """:func:`seen_of` of a file's contents ``blob``."""
    if source_format(blob, name) is None:
        return None
    return name, Seen.from_blob(blob["seen"]) if "seen" in blob else None


def _name(source: Any) -> str:
    """How a source is named in a message: its spec, path or name, else its type."""
    if isinstance(source, (str, Path)):
        return str(source)
    if isinstance(source, SourceFile):
        return source.spec
    return str(getattr(source, "name", None) or type(source).__name__)


def _no_record(source: Any, found: tuple[str, Seen | None] | None) -> str:
    if found is None:
        return (
            f"source {_name(source)} records no samples it trained on (torchvision weights, "
            "a state dict or a network loaded elsewhere): its overlap with the validation "
            "and test samples cannot be checked"
        )
    return (
        f"source {found[0]} records no training samples (an older nooverfit pretrain): "
        "could not check that it saw none of the validation or test samples; pretrain it "
        "again"
    )


def check_source(source: Any, splits: Mapping[int, Any], *, hint: str) -> str | None:
    """Refuse a source that trained with labels on validation or test samples of a
    target split; warn (one line) for a pretext source that saw them unlabeled, and for a
    source that records nothing: torchvision weights, a bare state dict, a network
    loaded elsewhere, a source file written before the record existed.

    Args:
        source: the source (a :class:`Source`, a path, a ``torchvision:`` spec...).
        splits: the target's :class:`~nooverfit.data.tensors.SplitData` by seed.
        hint: what to do instead (the options of the calling command).

    Returns:
        The warning given (also logged), for the caller's report; None when none.

    Raises:
        ValueError: one line naming how many validation and test samples of which seed
            the source trained on, and ``hint``; or an unknown ``torchvision:`` model.
        FileNotFoundError: a ``torchvision:`` spec without its weights file.
        BadInput: a source file of a newer nooverfit (:func:`source_format`).
    """
    if isinstance(source, str) and source.startswith("torchvision:"):
        # refused here, before any run, rather than when the transfer stage loads it
        from nooverfit.transfer.weights_files import torchvision_weights

        name, _, weights = source.removeprefix("torchvision:").partition(":")
        torchvision_weights(name, weights or None)
    found = seen_of(source)
    if found is None:
        return _warn(_no_record(source, None))
    name, seen = found
    if seen is None:
        return _warn(_no_record(source, found))
    leaks = []
    prints: dict[int, np.ndarray] = {}  # the seeds' splits share one data set: hashed once
    for seed, data in splits.items():
        x, split = data.dataset.x, data.split
        if id(x) not in prints:
            prints[id(x)] = row_prints(x)
        val = seen.overlap(prints[id(x)], split.val, split.pool)
        test = seen.overlap(prints[id(x)], split.test, split.pool)
        if val or test:
            leaks.append(
                f"{val} of {len(split.val)} validation and {test} of {len(split.test)} test "
                f"samples of seed {seed}'s split"
            )
    if not leaks:
        return None
    saw = "; ".join(leaks)
    if seen.labelled:
        raise ValueError(
            f"source {name} trained with labels on {saw}, so its scores there are not held "
            f"out; {hint}"
        )
    return _warn(
        f"source {name} saw {saw} without labels (pretext): transductive, not held out; {hint}"
    )


def _warn(message: str) -> str:
    log.warning("%s", message)
    return message
