"""A transfer source's architecture as plain data, so that a saved transfer network can be
rebuilt without the source's file: its weights are replaced by the saved ones anyway.

``record`` turns a source into a JSON-able dict (``best_model.json`` keeps it);
``pretrained`` builds an untrained network of that architecture; ``trained_config`` is the
configuration of the network a transfer run trained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nooverfit.config import RunConfig
from nooverfit.transfer.backbones import Pretrained
from nooverfit.transfer.pretrain import Source
from nooverfit.transfer.seen import SourceFile

if TYPE_CHECKING:
    from torch import nn


def record(source: object, config: RunConfig, in_shape: Sequence[int]) -> dict[str, Any] | None:
    """The architecture of a transfer ``source`` as plain data.

    Args:
        source: a :class:`Source`, a ``nooverfit pretrain`` file, a bare state dict file
            (its path, or a :class:`~nooverfit.transfer.seen.SourceFile` already read),
            ``torchvision:NAME[:PATH]``, or a loaded :class:`Pretrained`.
        config: the transfer run's config (a bare state dict is of its model family).
        in_shape: the target's sample shape (a bare state dict's input).

    Returns:
        ``{"kind": "nooverfit", "config", "in_shape", "classes", "task"}`` or
        ``{"kind": "torchvision", "name", "task"}``; None for a loaded network, whose
        architecture nothing records.

    Raises:
        FileNotFoundError, ValueError: a source file that is gone or not a source (as
            :func:`~nooverfit.transfer.backbones.load_pretrained` raises).
    """
    if isinstance(source, Source):
        return _nooverfit(source.config, source.in_shape, source.classes, source.task)
    if isinstance(source, str):
        kind, sep, rest = source.partition(":")
        if kind == "torchvision" and sep:
            return {"kind": "torchvision", "name": rest.partition(":")[0], "task": source}
    elif not isinstance(source, SourceFile):
        return None
    try:
        if isinstance(source, SourceFile):
            loaded = Source.from_blob(source.blob, source.spec)
        else:
            loaded = Source.load(source)
    except ValueError:  # a bare state dict: its card's network, or the run's model family
        from torch import nn

        from nooverfit.transfer.backbones import card_network, load_pretrained

        model = load_pretrained(source, config=config, in_shape=in_shape).model
        head = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
        name = source.spec if isinstance(source, SourceFile) else source
        config, in_shape = card_network(name) or (config, in_shape)
        return _nooverfit(config, tuple(in_shape), head.out_features, name)
    return _nooverfit(loaded.config, loaded.in_shape, loaded.classes, loaded.task)


def _nooverfit(
    config: RunConfig, in_shape: Sequence[int], classes: int, task: str
) -> dict[str, Any]:
    return {
        "kind": "nooverfit",
        "config": config.to_dict(),
        "in_shape": [int(s) for s in in_shape],
        "classes": classes,
        "task": task,
    }


#: The fields of a :class:`~nooverfit.config.RunConfig` that say what network
#: :func:`~nooverfit.models.build_model` builds; a transfer network has its source's.
NETWORK_FIELDS = (
    *("model", "width", "depth", "dropout", "batchnorm"),
    *("convs", "members", "periodic", "tta"),
)


def trained_config(config: RunConfig, architecture: dict[str, Any] | None) -> RunConfig:
    """The configuration of the network a transfer run with ``config`` trains: its training
    settings, with the :data:`NETWORK_FIELDS` of a nooverfit source's ``architecture`` (a
    :func:`record`), which the run does not build but starts from. ``config`` itself
    without a record, or for a torchvision network, which no configuration names (the
    record does)."""
    if architecture is None or architecture.get("kind") != "nooverfit":
        return config
    source = RunConfig.from_dict(architecture["config"])
    return config.replace(**{name: getattr(source, name) for name in NETWORK_FIELDS})


def pretrained(architecture: dict[str, Any]) -> Pretrained:
    """An untrained network of a :func:`record`'s architecture (nothing is read from disk
    or downloaded).

    Raises:
        ValueError: an unknown kind or torchvision model.
    """
    if architecture["kind"] == "torchvision":
        from torchvision import models

        name = architecture["name"]
        return Pretrained(models.get_model(name, weights=None), None, architecture["task"])
    if architecture["kind"] != "nooverfit":
        raise ValueError(f"unknown source kind {architecture['kind']!r}")
    from nooverfit.models import build_model

    in_shape = tuple(int(s) for s in architecture["in_shape"])
    model = build_model(
        RunConfig.from_dict(architecture["config"]), in_shape, int(architecture["classes"])
    )
    return Pretrained(model, in_shape, architecture["task"])


@dataclass(frozen=True)
class _Target:
    """What :func:`~nooverfit.transfer.runs.transfer_model` reads of the data it prepares
    a network for (a saved model has no split)."""

    in_shape: tuple[int, ...]
    kind: str
    num_classes: int
    device: str = "cpu"


def prepared(
    architecture: dict[str, Any],
    config: RunConfig,
    strategy: str,
    in_shape: Sequence[int],
    kind: str,
    classes: int,
) -> nn.Module:
    """An untrained transfer network: the source's architecture prepared by ``strategy``
    for ``classes`` outputs and samples of ``in_shape`` (as the study prepared it), ready
    for the saved weights.

    Raises:
        ValueError, KeyError: an architecture record that cannot be rebuilt.
    """
    from nooverfit.transfer.runs import transfer_model

    target = _Target(tuple(in_shape), kind, classes)
    network = pretrained(architecture)
    return transfer_model(network, target, strategy=strategy, seed=config.seed).model  # type: ignore[arg-type]
