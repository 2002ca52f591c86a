"""The study's transfer-learning remedy: each strategy against training from scratch on
the same target split and seed, through :func:`nooverfit.transfer.transfer_runs`.

Transferred networks have the source's architecture, not :func:`build_model`'s, so this
module also rebuilds one from its stored weights when the study tests it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine import RunResult
from nooverfit.stale_bias import fold_stale_biases

if TYPE_CHECKING:
    from nooverfit.transfer.runs import SourceLike

#: Strategies a study compares (``gradual`` needs many epochs to unfreeze everything).
STUDY_STRATEGIES = ("head", "io", "full", "gradual")


def transfer_config(baseline: RunConfig, strategy: str) -> RunConfig:
    """The config a transfer run records: the baseline's settings, labelled by strategy."""
    return baseline.replace(label=f"transfer:{strategy}")


def strategy_of(config: RunConfig) -> str | None:
    """The transfer strategy of a config made by :func:`transfer_config`, else None."""
    prefix, _, name = config.label.partition(":")
    return name if prefix == "transfer" and name else None


def checked_source(
    source: SourceLike | Path,
    splits: Mapping[int, SplitData],
    *,
    shape: RunConfig,
    class_subset: bool = False,
) -> tuple[SourceLike, str | None]:
    """A study's transfer source, read once (a file) and checked against every seed's split
    before any run is trained or written: that it loads (a bare state dict as the
    baseline's ``shape``), that the data's samples can feed it, and that it trained on no
    validation or test sample (:func:`~nooverfit.transfer.seen.check_source`; its hint
    for a study of a ``class_subset``, split anew, names no --seed as the way out).

    Returns:
        The source to hand along (a file as a :class:`~nooverfit.transfer.seen.SourceFile`)
        and the leak check's warning for the report (None: nothing to say).

    Raises:
        FileNotFoundError, ValueError: a source that is missing, unreadable, of samples
            the data's cannot feed, or that trained with labels on a held-out sample.
    """
    from nooverfit.transfer.runs import as_pretrained, input_change, transfer_model
    from nooverfit.transfer.seen import STUDY_HINT, SUBSET_HINT, SourceFile, check_source

    first = splits[min(splits)]
    name = str(getattr(source, "task", getattr(source, "name", source)))
    if isinstance(source, (str, Path)):
        source = name = str(source)
        if not name.startswith("torchvision:"):
            source = SourceFile.read(name)
    if isinstance(source, str):  # torchvision: its weights are read by the runs
        input_change(None, first.in_shape, kind=first.kind, name=name)
    else:
        # prepared once now, as every run prepares it: a source the data cannot feed, or
        # whose layers cannot be adapted, fails here rather than after the remedies (a
        # bare state dict is rebuilt as the baseline's shape)
        network = as_pretrained(source, config=shape, in_shape=first.in_shape)
        try:
            transfer_model(network, first, strategy="head")
        except ValueError as err:
            said = str(err)
            if not said.startswith("source "):
                said = (
                    f"source {name} cannot be prepared for samples of shape "
                    f"{first.in_shape}: {said}"
                )
            raise ValueError(said) from None
    hint = SUBSET_HINT if class_subset else STUDY_HINT
    return source, check_source(source, splits, hint=hint)


def run_transfer(
    data: SplitData,
    *,
    source: SourceLike,
    baseline: RunConfig,
    strategies: Sequence[str] = STUDY_STRATEGIES,
) -> list[RunResult]:
    """Train every strategy on ``data`` with the baseline's settings and seed."""
    from nooverfit.transfer import transfer_runs

    # Its runs are labelled "transfer:NAME", as transfer_config() makes them.
    return transfer_runs(
        data,
        source=source,
        strategies=strategies,
        base_config=baseline,
        scratch=False,
        check=False,  # run_study checked every seed's split before the first run
    )


def source_name(source: SourceLike) -> str:
    """How the report names a source: its file or spec, a source's task, a network's name."""
    for attribute in ("spec", "task", "name"):
        if isinstance(said := getattr(source, attribute, None), str):
            return said
    return str(source)


def transfer_words(
    source: SourceLike, data: SplitData, baseline: RunConfig, strategies: Sequence[str]
) -> dict[str, Any]:
    """What the report says of the transfer runs (``extras["transfer"]``): the source, how
    the data's samples were fitted to it, and what each strategy retrained and kept frozen,
    read from the network each run starts from
    (:func:`~nooverfit.transfer.retrained.retrained`).

    Returns:
        ``{"source": NAME, "input": "..." ("" where nothing was adapted),
        "strategies": {"transfer:io": "retrains only ...", ...}}``.
    """
    from torch import nn

    from nooverfit._words import counted
    from nooverfit.transfer.blocks import weight_layers
    from nooverfit.transfer.retrained import retrained, retrained_words
    from nooverfit.transfer.runs import as_pretrained, input_change, transfer_model

    network = as_pretrained(source, config=baseline, in_shape=data.in_shape)
    channels, size = input_change(
        network.in_shape, data.in_shape, kind=data.kind, name=network.name
    )
    changed = []
    if size is not None:
        h, w = data.in_shape[1:]
        changed.append(f"images resized from {h}x{w} to the source's {size[0]}x{size[1]}")
    first = network.model.get_submodule(weight_layers(network.model)[0])
    had = network.in_shape[0] if network.in_shape else getattr(first, "in_channels", None)
    adapted = isinstance(first, (nn.Conv2d, nn.Linear)) and isinstance(had, int)
    if channels is not None and had != channels and adapted:
        changed.append(
            f"the input layer adapted from the source's {counted(int(had or 0), 'channel')} to "
            f"{channels} (its weights averaged over channels)"
        )
    words = {}
    for strategy in strategies:
        prepared = transfer_model(network, data, strategy=strategy, seed=baseline.seed)
        said = retrained_words(retrained(prepared), epochs=baseline.epochs)
        words[f"transfer:{strategy}"] = said
    return {"source": source_name(source), "input": "; ".join(changed), "strategies": words}


def rebuild(
    source: SourceLike, data: SplitData, config: RunConfig, state: dict[str, Any]
) -> nn.Module:
    """The transferred network of ``config`` with its stored weights, ready to evaluate."""
    from nooverfit.transfer.runs import as_pretrained, transfer_model

    strategy = strategy_of(config)
    if strategy is None:
        raise ValueError(f"{config.label!r} is not a transfer run")
    pretrained = as_pretrained(source, config=config, in_shape=data.in_shape)
    model = transfer_model(pretrained, data, strategy=strategy, seed=config.seed).model
    model.load_state_dict(fold_stale_biases(model, state))  # as stored before, too
    return model.to(data.device)
