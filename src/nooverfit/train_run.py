"""`train_run`: what ``nooverfit train`` does, as a library call: build the network (fresh,
or a pretrained one prepared for transfer), fit it, and write ``history.csv``,
``metrics.json``, ``model.pt`` and ``model.json`` to a folder.

The CLI parses, builds the config, calls this and renders the result; the work is here so
a script gets the same files as the command line.

The saved weights are those of the best epoch (lowest ``val_loss``, the one definition of
:func:`nooverfit.history.best_index`), with or without early stopping, as Keras's
``restore_best_weights`` keeps them: the epoch ``metrics.json`` calls ``best_epoch`` (the
diagnosis's, ``History.best_epoch``) is ``History.kept_epoch``, whose weights ``model.pt``
holds, ``metrics.json``'s ``kept_epoch`` (both differ only in a run without a finite
``val_loss``: the last epoch's weights; its ``best_epoch`` is the highest
``val_accuracy``'s, and ``None``, its ``best`` values too, when no validation value is
finite). ``model.json`` is its card, as a study's ``best_model.json`` is its
recommendation's (:mod:`nooverfit.saved_card`): how raw rows become the network's inputs,
so that :func:`~nooverfit.saved_model.load_study_model` and ``nooverfit predict`` take the
run's folder too.

A Ctrl-C once an epoch has finished keeps what was trained: the files are written for the
finished epochs (``stop_reason`` ``"interrupted"``, ``model.pt`` the best of them), then
:class:`TrainInterrupted`, a ``KeyboardInterrupt``, is raised, carrying the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from nooverfit import formats
from nooverfit._io import atomic_save, atomic_write_json, refuse_a_study, refuse_a_tuning
from nooverfit._version import __version__
from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.errors import BadInput, OutputExists, check_new, check_version
from nooverfit.history import History
from nooverfit.models import network_for
from nooverfit.saved_card import model_card, save_card
from nooverfit.stopping import StopReason
from nooverfit.train import Callback, fit
from nooverfit.transfer import as_pretrained, transfer_model
from nooverfit.transfer.architecture import trained_config
from nooverfit.transfer.pretrain import same_classes

#: The files :func:`train_run` writes to its ``out`` folder.
FILES = ("history.csv", "metrics.json", "model.pt", "model.json")

#: The data options the network depends on (a CSV file's label column, the columns left
#: out of its features, the group column taken out of them, the classes kept and
#: relabelled from 0), recorded in ``metrics.json`` as ``data options`` so that other data
#: can be said to differ by name.
DATA_OPTIONS = ("target", "ignore", "groups", "classes")

#: ``metrics.json``'s layout (its ``format``; a file without one, written before it was
#: recorded, is format 1). A newer one is refused by :func:`read_metrics`, never misread.
METRICS_FORMAT = formats.METRICS


class TrainInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train_run` after an epoch finished: the files of the finished
    epochs were written. ``run`` is the :class:`TrainedRun` they describe."""

    def __init__(self, run: TrainedRun) -> None:
        super().__init__("interrupted")
        self.run = run


@dataclass(frozen=True)
class TrainedRun:
    """One trained network and what was written about it.

    Attributes:
        network: the trained network, holding its best epoch's weights.
        history: its per-epoch curves.
        metrics: the dict written to ``metrics.json``.
        kept_row: the row in ``history`` of ``history.kept_epoch``, whose weights
            ``network`` and ``model.pt`` hold: the best epoch (lowest ``val_loss``), else
            the last.
        num_parameters: trainable parameters.
        seconds: wall time of building and training.
    """

    network: nn.Module
    history: History
    metrics: dict[str, Any]
    kept_row: int
    num_parameters: int
    seconds: float


def train_run(
    config: RunConfig,
    data: SplitData,
    *,
    out: Path,
    data_name: str,
    data_options: Mapping[str, str | None] | None = None,
    pretrained: str | None = None,
    transfer: str = "io",
    callbacks: Sequence[Callback] = (),
    overwrite: bool = False,
) -> TrainedRun:
    """Train one network on ``data`` and write ``history.csv``, ``metrics.json``,
    ``model.pt`` and its card ``model.json`` to ``out`` (created if missing; each file
    written atomically). The network keeps the weights of its best epoch (lowest
    ``val_loss``), which ``model.pt`` holds and ``metrics.json`` names ``best_epoch``.

    Args:
        config: the run (model, regularization, optimizer, epochs, seed, train size).
        data: tensors and split.
        out: output folder.
        data_name: the data set as the user named it (recorded in ``metrics.json``).
        data_options: the loader's options of :data:`DATA_OPTIONS` the data was loaded
            with (None: not given), recorded in ``metrics.json``'s ``data options``;
            default None: not recorded. ``classes`` (``--classes``, applied to ``data``
            already) also picks the leak check's hint for a ``pretrained`` source.
        pretrained: start from a pretrained network (``PATH`` or
            ``torchvision:NAME[:WEIGHTS]``) instead of a fresh one; default None.
        transfer: with ``pretrained``, what to retrain (head, io, full, gradual).
        callbacks: called after every epoch with ``(epoch, logs)`` (e.g. a progress bar).
        overwrite: replace the files of an earlier run in ``out`` (default False).

    Returns:
        The trained network, its history and the metrics written.

    Raises:
        OutputExists: if ``out`` holds an earlier run's file and not ``overwrite``
            (checked before training, so nothing is lost).
        TrainInterrupted: Ctrl-C after the first epoch finished, once the files of the
            finished epochs are written (before it: ``KeyboardInterrupt``, nothing written).
    """
    from nooverfit.studies.identity import fingerprint

    check_out(out, overwrite=overwrite)
    start = time.perf_counter()
    train_idx = data.train_index(
        train_size=config.train_size, train_per_class=config.train_per_class
    )
    extra: list[Callback] = []
    optim = None
    architecture = None
    retrained_said = ""  # what a transfer strategy retrains and freezes, in words
    if pretrained is None:
        network: nn.Module = network_for(config, data)
    else:
        from nooverfit.transfer.architecture import record
        from nooverfit.transfer.retrained import retrained, retrained_words
        from nooverfit.transfer.seen import TRAIN_HINT, TRAIN_SUBSET_HINT, check_source

        # a class subset is split anew, as a study's: no pretrain --seed matches its split
        subset = bool((data_options or {}).get("classes"))
        hint = TRAIN_SUBSET_HINT if subset else TRAIN_HINT
        check_source(pretrained, {config.seed: data}, hint=hint)  # before training
        architecture = record(pretrained, config, data.in_shape)
        source = as_pretrained(pretrained, config=config, in_shape=data.in_shape)
        prepared = transfer_model(source, data, strategy=transfer, seed=config.seed)
        network, extra, optim = prepared.model, prepared.callbacks(), prepared.optimizer(config)
        retrained_said = retrained_words(retrained(prepared))  # before gradual unfreezes
    num_parameters = sum(p.numel() for p in network.parameters() if p.requires_grad)
    history = fit(
        network,
        data,
        config,
        callbacks=[*callbacks, *extra],
        optimizer=optim,
        keep_best=True,
        interruptible=True,
    )
    # keep_best: the row of the lowest finite val_loss (History.best's), else the last
    kept = (
        len(history) - 1 if history.kept_epoch is None else history.epoch.index(history.kept_epoch)
    )
    seconds = time.perf_counter() - start
    # a transfer network is its source's: recorded as such, not as the config's model
    trained = trained_config(config, architecture)
    metrics = {
        "format": METRICS_FORMAT,
        "nooverfit": __version__,
        "config": trained.to_dict(),
        "data": data_name,
        # what `audit --model` checks the data it is given against (a moved file passes)
        "data content": fingerprint(data.dataset),
        **(
            {"data options": {k: data_options.get(k) for k in DATA_OPTIONS}}
            if data_options is not None
            else {}
        ),
        "device": str(data.device),
        "num_parameters": num_parameters,
        # A transfer network is the source's architecture (config's model fields are not
        # used): recorded so that the weights can be loaded again (``audit --model``).
        "transfer": (
            {
                "pretrained": pretrained,
                "strategy": transfer,
                "architecture": architecture,
                "retrained": retrained_said,
            }
            if pretrained
            else None
        ),
        "epochs_run": len(history),
        "stop_reason": history.stop_reason,
        **epoch_fields(history, kept),
        "seconds": seconds,
        "split": {**data.split.to_dict(), "train": train_idx.tolist()},
    }
    out.mkdir(parents=True, exist_ok=True)
    history.save(out / "history.csv")
    atomic_write_json(out / "metrics.json", metrics)
    state = {k: v.detach().cpu() for k, v in network.state_dict().items()}
    atomic_save(out / "model.pt", state)
    card = _card(
        trained, data, pretrained=pretrained, strategy=transfer, architecture=architecture
    )
    save_card(card, out / "model.pt")
    run = TrainedRun(network, history, metrics, kept, num_parameters, seconds)
    if history.stop_reason == StopReason.INTERRUPTED.value:
        raise TrainInterrupted(run)
    return run


def _card(
    config: RunConfig,
    data: SplitData,
    *,
    pretrained: str | None,
    strategy: str,
    architecture: dict[str, Any] | None,
) -> dict[str, Any]:
    """What ``model.json`` records of ``model.pt``: a card of one member, as a study's. A
    transfer network is recorded as the study records one (its config labelled by
    ``strategy``, the source's ``architecture`` beside it), so that one loader rebuilds
    both."""
    if pretrained is None:
        name = f"{config.model} (nooverfit train)"
        return model_card(data.dataset, [(config, data)], name=name, ensemble=False)
    from nooverfit.studies.transfer_stage import transfer_config

    return model_card(
        data.dataset,
        [(transfer_config(config, strategy), data)],
        name=f"{pretrained} ({strategy} transfer, nooverfit train)",
        ensemble=False,
        refused=None
        if architecture is not None
        else "it is a transfer network whose source's architecture is not recorded; "
        "expected a source file or a torchvision: spec to rebuild it",
        source=architecture,
    )


def check_out(out: Path, *, overwrite: bool) -> None:
    """Refuse to write over an earlier run in ``out`` unless ``overwrite``.

    Raises:
        OutputExists: naming the file found and what to do.
        BadInput: ``out`` holds a study's results.json or best_model.pt, or a tuning's
            best.json (whatever ``overwrite``: their files would stay beside the run's
            model).
    """
    if out.exists() and not out.is_dir():
        raise OutputExists(f"--out {out} is a file; expected a folder for the run's files")
    # its model beside a study's: predict could not tell which the folder means
    refuse_a_study(
        out,
        expected="an earlier train run's (one command's model to a folder)",
        marks=("results.json", "best_model.pt"),
    )
    # its plots/history.png would replace the tuning's
    refuse_a_tuning(out, expected="an earlier train run's (one command's model to a folder)")
    for found in (out / name for name in FILES):
        check_new(found, overwrite=overwrite, holds="an earlier run")


def changed_options(recorded: Any, given: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """The :data:`DATA_OPTIONS` a run was trained with that differ from ``given``, each as
    ``(then, now)`` spelled as on the command line (``"--ignore id"``, ``"no --ignore"``).

    Args:
        recorded: ``metrics.json``'s ``data options`` (None or other, in a file written
            before they were recorded: no differences can be named, ``[]``).
        given: the options the data is loaded with now.

    ``--ignore``'s column lists compare as sets (``id,name`` is ``name, id``), and
    ``--classes`` as the classes they name (``5-9`` is ``5,6,7,8,9``).
    """
    if not isinstance(recorded, Mapping):
        return []

    def spelled(key: str, value: Any) -> str:
        return f"--{key} {value}" if value else f"no --{key}"

    def normal(key: str, value: Any) -> Any:
        if not value:
            return None
        if key == "ignore" and isinstance(value, str):
            return frozenset(c.strip() for c in value.split(","))
        return value

    def differ(key: str) -> bool:
        if key == "classes":
            return not same_classes(recorded.get(key), given.get(key))
        return normal(key, recorded.get(key)) != normal(key, given.get(key))

    return [
        (spelled(k, recorded.get(k)), spelled(k, given.get(k))) for k in DATA_OPTIONS if differ(k)
    ]


def read_metrics(path: Path) -> dict[str, Any]:
    """A train run's ``metrics.json`` as a dict, its ``format`` checked.

    Raises:
        BadInput: in one line: not readable JSON, not a run's metrics (no ``config`` and
            ``split``), or written by a newer nooverfit (a larger ``format``).
    """
    expected = "expected the metrics.json nooverfit train writes"
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise BadInput(f"{path} is not readable JSON ({err}); {expected}") from None
    if not isinstance(metrics, dict) or not all(
        isinstance(metrics.get(k), dict) for k in ("config", "split")
    ):
        raise BadInput(f"{path} records no run's config and split; {expected}")
    made = str(metrics.get("nooverfit", ""))
    check_version(path, metrics.get("format", 1), newest=METRICS_FORMAT, made=made)
    return metrics


def epoch_fields(history: History, kept: int) -> dict[str, Any]:
    """``metrics.json``'s epochs: ``best_epoch``, the diagnosis's
    (:attr:`History.best_epoch`: the lowest finite ``val_loss``, else the highest
    ``val_accuracy``), and ``best``, its values, both ``None`` when no validation value is
    finite (no epoch is best); ``kept_epoch``, the epoch of row ``kept`` whose weights
    ``model.pt`` holds (``best_epoch`` whenever a ``val_loss`` is finite, else the last);
    ``final``, the last epoch's values."""
    best = history.best_epoch
    return {
        "best_epoch": best,
        "kept_epoch": history.epoch[kept],
        "final": history_row(history, len(history) - 1),
        "best": None if best is None else history_row(history, history.epoch.index(best)),
    }


def history_row(history: History, i: int) -> dict[str, float]:
    """Train and validation loss and accuracy of epoch row ``i``."""
    return {k: history.column(k)[i] for k in ("loss", "accuracy", "val_loss", "val_accuracy")}
