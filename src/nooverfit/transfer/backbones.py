"""Loading a pretrained network: a nooverfit source file, a bare state dict, or a
torchvision model whose weights are already on disk. Nothing is ever downloaded.

Specs (as ``nooverfit train --pretrained`` takes them):

- ``PATH``: a file written by ``nooverfit pretrain`` (:class:`Source`), or a bare state
  dict: the ``model.pt`` ``nooverfit train`` writes or a study's ``best_model.pt``,
  rebuilt as the model card beside it describes (:func:`card_network`), else from the
  given config.
- ``torchvision:NAME``: e.g. ``torchvision:resnet18``, with the weights file torchvision
  would download (``resnet18-f37072fd.pth``) read from the torch hub cache,
  ``$TORCH_HOME/hub/checkpoints`` (default ``~/.cache/torch/hub/checkpoints``).
- ``torchvision:NAME:PATH``: the same with the weights read from ``PATH``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from nooverfit._io import read_checkpoint
from nooverfit.config import RunConfig
from nooverfit.models import build_model
from nooverfit.stale_bias import fold_stale_biases
from nooverfit.transfer.pretrain import Source
from nooverfit.transfer.seen import Seen, SourceFile, source_format
from nooverfit.transfer.weights_files import torchvision_weights


@dataclass(frozen=True, eq=False)
class Pretrained:
    """A loaded pretrained network.

    Attributes:
        model: the network with its weights.
        in_shape: the sample shape it was trained on (None: any size, as torchvision
            models with adaptive pooling accept).
        name: where it came from (the spec).
        seen: the samples it trained on, when loaded from a nooverfit source file that
            records them (:mod:`nooverfit.transfer.seen`); None otherwise (torchvision
            weights, a state dict), whose overlap with a target split cannot be checked.
    """

    model: nn.Module
    in_shape: tuple[int, ...] | None
    name: str
    seen: Seen | None = None


def load_torchvision(name: str, *, weights: str | Path | None = None) -> nn.Module:
    """Build torchvision model ``name`` and load its weights from disk.

    Args:
        name: a torchvision model name, e.g. ``"resnet18"`` or ``"mobilenet_v3_small"``.
        weights: a state-dict file (default None: the torch hub cache, see
            :func:`hub_weights_path`).

    Raises:
        FileNotFoundError: no weights file; the message says where to put it.
        ValueError: an unknown model, or weights that do not fit it.
    """
    from torchvision import models

    path = torchvision_weights(name, weights)
    model = models.get_model(name, weights=None)
    state = read_checkpoint(path, what=f"weights of torchvision:{name}")
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        # the first line is only "Error(s) in loading state_dict for Network:"
        lines = [line.strip() for line in str(err).strip().splitlines()]
        first = (lines[1:] or lines)[0]
        raise ValueError(f"weights {path} do not fit torchvision {name}: {first}") from None
    return model


def card_network(path: str | Path) -> tuple[RunConfig, tuple[int, ...]] | None:
    """The network the model card beside a bare state dict describes (``model.json``
    beside a train run's ``model.pt``, ``best_model.json`` beside a study's
    ``best_model.pt``): its configuration and sample shape, so that the weights are
    rebuilt as they were trained rather than from options that must repeat them (a study's
    batch-norm network could not be given as a source at all: no option of the study
    says batch norm). None where no card describes this file (its name and SHA-256), or
    it describes no plain nooverfit network (an ensemble, a user's own module, a transfer
    network, an audio front end).
    """
    import json

    from nooverfit.saved_card import sha256

    weights = Path(path)
    try:
        card = json.loads(weights.with_suffix(".json").read_text(encoding="utf-8"))
        if card["weights"]["file"] != weights.name or card["weights"]["sha256"] != sha256(weights):
            return None
        if card["ensemble"] or card["custom"] or card["source"] or card["kind"] == "audio":
            return None
        (member,) = card["members"]
        config = RunConfig.from_dict(member["config"])
        in_shape = tuple(int(s) for s in member["in_shape"])
    except (OSError, ValueError, KeyError, TypeError):  # no card, or not one of these
        return None
    if config.label.startswith("transfer:"):
        return None
    return config.replace(label=""), in_shape


def load_pretrained(
    spec: str | SourceFile,
    *,
    config: RunConfig | None = None,
    in_shape: Sequence[int] | None = None,
) -> Pretrained:
    """Load the pretrained network ``spec`` names (see the module docstring).

    Args:
        spec: ``PATH``, ``torchvision:NAME`` or ``torchvision:NAME:PATH``, or a file
            already read (:class:`~nooverfit.transfer.seen.SourceFile`, not read again).
        config: model family and size for a bare state dict (``model.pt``) without a model
            card beside it (:func:`card_network`).
        in_shape: sample shape for such a bare state dict.

    Raises:
        FileNotFoundError: a missing file.
        ValueError: a file of another kind, or a state dict without ``config``.
    """
    if isinstance(spec, str):
        kind, sep, rest = spec.partition(":")
        if kind == "torchvision" and sep:
            name, _, weights = rest.partition(":")
            return Pretrained(load_torchvision(name, weights=weights or None), None, spec)
    file = spec if isinstance(spec, SourceFile) else SourceFile.read(spec)
    spec, blob, path = file.spec, file.blob, Path(file.spec)
    if source_format(blob, spec) is not None:
        source = Source.from_blob(blob, path)
        return Pretrained(source.build(), source.in_shape, spec, source.seen)
    if not isinstance(blob, dict) or not all(isinstance(v, torch.Tensor) for v in blob.values()):
        raise ValueError(f"{spec} is neither a nooverfit source file nor a state dict")
    if (described := card_network(path)) is not None:
        config, in_shape = described  # the network its card records, not the options'
    if config is None or in_shape is None:
        raise ValueError(f"{spec} is a bare state dict; rebuilding it needs config and in_shape")
    matrices = [v for k, v in blob.items() if k.endswith("weight") and v.ndim == 2]
    if not matrices:
        raise ValueError(f"{spec} has no Linear output layer to read the class count from")
    model = build_model(config, in_shape, int(matrices[-1].shape[0]))
    try:
        model.load_state_dict(fold_stale_biases(model, blob))
    except RuntimeError as err:
        # the first line is only "Error(s) in loading state_dict for Network:"
        lines = [line.strip() for line in str(err).strip().splitlines()]
        first = (lines[1:] or lines)[0]
        # the values, since the user may have given none (a study's best_model.pt passed
        # as a source is rebuilt from the defaults, not from its card)
        shape = f"{config.model}, width {config.width}, depth {config.depth}"
        raise ValueError(
            f"{spec} does not fit the --model/--width/--depth given ({shape}; a bare state "
            f"dict is rebuilt from them): {first}"
        ) from None
    return Pretrained(model, tuple(in_shape), spec)
