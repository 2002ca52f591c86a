"""The recipe of a recommended transfer network: start from the source and freeze what the
strategy froze. The plain recipe (:func:`~nooverfit.studies.recipe.recipe`) wrote a fresh
network for it, which trains from scratch: not the network the study measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nooverfit.config import RunConfig
from nooverfit.studies.recipe import Recipe, _notes, _number, _pytorch

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult


def _load_lines(source: str, architecture: dict[str, Any] | None) -> list[str]:
    """The line that loads the source as a ``Pretrained`` network."""
    # a bare state dict (its record names it by its path): rebuilt from a config
    kept = architecture or {}
    if architecture is not None and kept.get("kind") == "nooverfit" and kept["task"] == source:
        c = RunConfig.from_dict(architecture["config"])
        shape = tuple(int(s) for s in architecture["in_shape"])
        config = f'RunConfig(model="{c.model}", width={c.width}, depth={c.depth}'
        config += ", batchnorm=True)" if c.batchnorm else ")"
        return [f"pretrained = load_pretrained({source!r}, config={config}, in_shape={shape})"]
    return [f"pretrained = load_pretrained({source!r})"]


def _adapt_options(
    source: str, architecture: dict[str, Any] | None, in_shape: Sequence[int]
) -> str:
    """``prepare``'s options that fit the source's input to the data's samples, as
    :func:`~nooverfit.transfer.runs.input_change` sets them (``""`` where none, or where
    no architecture was kept to compare with)."""
    if len(in_shape) != 3:
        return ""
    if source.startswith("torchvision:"):  # any size; channels adapted where they differ
        return f", in_channels={int(in_shape[0])}"
    if architecture is None or architecture.get("kind") != "nooverfit":
        return ""
    had = [int(s) for s in architecture["in_shape"]]
    if len(had) != 3:
        return ""
    options = ""
    if had[0] != in_shape[0]:
        options += f", in_channels={int(in_shape[0])}, source_channels={had[0]}"
    if had[1:] != [int(s) for s in in_shape[1:]]:
        options += f", in_size=({had[1]}, {had[2]})"
    return options


def transfer_recipe(
    config: RunConfig,
    *,
    strategy: str,
    source: str,
    architecture: dict[str, Any] | None,
    in_shape: Sequence[int],
    classes: int,
    kind: str = "image",
    data: str = "digits",
    retrained: str = "",
) -> Recipe:
    """The code of a transfer network trained as ``config`` with ``strategy`` from
    ``source``.

    Args:
        config: the run's configuration (its training settings).
        strategy: ``"head"``, ``"io"``, ``"full"`` or ``"gradual"``.
        source: the source as the study was given it (a file or ``torchvision:NAME``).
        architecture: the source's record (:func:`~nooverfit.transfer.architecture.record`,
            the model card's ``source``), None where none was kept.
        in_shape: the shape of one of the data's samples.
        classes: number of classes.
        kind: ``"image"``, ``"tabular"`` or ``"audio"``.
        data: the data set's spec (its augmentation).
        retrained: what the strategy retrained and froze, in words
            (:func:`~nooverfit.transfer.retrained.retrained_words`), for a note.
    """
    network = [
        "from nooverfit.config import RunConfig",
        "from nooverfit.transfer import load_pretrained, prepare",
        "",
        f"# transfer:{strategy}: the source network, its output layer new for {classes} "
        "classes; nothing is downloaded",
        *_load_lines(source, architecture),
        f'transfer = prepare(pretrained, strategy="{strategy}", classes={classes}'
        f"{_adapt_options(source, architecture, in_shape)}, seed={config.seed})",
        "model = transfer.model  # frozen layers have requires_grad False",
        "# its learning-rate groups (frozen parameters get no gradient, so no step):",
        f'optimizer = transfer.optimizer(RunConfig(optimizer="{config.optimizer}", '
        f"lr={_number(config.lr)}, weight_decay={_number(config.weight_decay)}))",
    ]
    smoothing = ""
    if config.label_smoothing:
        smoothing = f"label_smoothing={_number(config.label_smoothing)}"
    network.append(f"loss_fn = nn.CrossEntropyLoss({smoothing})  # on logits")
    if config.l2:
        network.append(
            "# and L2 on the trained weights: loss = loss_fn(model(x), y) + "
            f"nooverfit.regularize.l2_penalty(model, {_number(config.l2)})"
        )
    if strategy == "gradual":
        network += [
            "unfreeze = transfer.callbacks()[0]",
            "# after each epoch: unfreeze(epoch, {}) (every few epochs, one more block)",
        ]
    # (no Keras lines: the report leaves out the Keras heading and says why in a note)
    keras = ""
    notes = [f"transfer:{strategy} {retrained}."] if retrained else []
    notes += [n for n in _notes(config, kind, data) if "Keras" not in n]  # (no Keras code)
    notes.append(
        f"No Keras code: transfer:{strategy} starts from the PyTorch network {source}, which "
        "Keras cannot load; the PyTorch code above trains it."
    )
    return Recipe(_pytorch(config, classes, kind, data, network=network), keras, tuple(notes))


def study_transfer_recipe(result: StudyResult, *, classes: int, kind: str) -> Recipe | None:
    """The recipe of a study's recommendation where it is a transfer network, from what the
    study kept: its source (``settings.source``), the source's architecture and the data's
    sample shape (the model card), what the strategy froze (``extras["transfer"]``). None
    for any other recommendation, or a study that kept no source."""
    from nooverfit.studies.transfer_stage import strategy_of

    config = result.recommended.config
    strategy = strategy_of(config)
    source = result.settings.source
    if result.recommended.stage != "transfer" or strategy is None or source is None:
        return None
    card = result.best_card or {}
    members = card.get("members") or [{}]
    in_shape = members[0].get("in_shape") or []
    said = result.extras.get("transfer", {}).get("strategies", {})
    return transfer_recipe(
        config,
        strategy=strategy,
        source=source,
        architecture=card.get("source"),
        in_shape=[int(s) for s in in_shape],
        classes=classes,
        kind=kind,
        data=str(result.settings.data),
        retrained=str(said.get(config.label, "")),
    )
