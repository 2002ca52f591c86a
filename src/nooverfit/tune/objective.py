"""The tuning objective: train one sampled config, report val loss, prune, stop overfitting.

A trial's value is the validation accuracy of the weights the run keeps (those of its
stopping criterion's best epoch, ``History.kept_epoch``). Two things end a trial early:

- the Optuna pruner, fed ``-val_loss`` every epoch (Optuna's pruners assume intermediate
  values share the study's direction, which maximizes accuracy, so the loss is negated);
- :class:`OverfitGuard`, which stops a run that is already overfitting: its validation
  loss rose ``alpha`` percent above its best (Prechelt's GL criterion fired) while its
  training loss kept falling. Such a trial is *complete*, not pruned: its best epoch is
  behind it and the weights of that epoch are kept.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.errors import BadInput
from nooverfit.history import History
from nooverfit.models import Network, network_for
from nooverfit.stopping import generalization_loss
from nooverfit.train import fit
from nooverfit.tune.space import Space, suggest_config

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)


class OverfitGuard:
    """Decide, epoch by epoch, whether a run is overfitting beyond repair.

    Fires at epoch ``t`` when ``GL(t) = 100 * (E_va(t) / E_opt - 1) > alpha`` and the
    training loss at ``t`` is below the training loss at the epoch of ``E_opt``: the
    validation loss got worse while the network kept fitting the training set.

    Args:
        alpha: GL threshold in percent (default 10, twice Prechelt's GL5 so that the run's
            own, gentler criterion usually decides).
        start_from_epoch: epochs before this one never fire (default 3).

    Attributes:
        fired_epoch: the epoch it fired at, or None.
    """

    def __init__(self, alpha: float = 10.0, *, start_from_epoch: int = 3) -> None:
        if not alpha > 0:
            raise ValueError(f"guard alpha must be > 0, got {alpha!r}")
        self.alpha = alpha
        self.start_from_epoch = start_from_epoch
        self.fired_epoch: int | None = None
        self._best_val: float | None = None
        self._train_at_best = float("inf")

    def update(self, epoch: int, val_loss: float, train_loss: float) -> bool:
        """Record one epoch; return True when the run should stop after it."""
        # Where `nooverfit.diagnose` lands, this rule becomes
        # `diagnose(history_so_far).verdict is Verdict.OVERFITTING and a criterion fired`.
        if self.fired_epoch is not None:
            return True
        if self._best_val is None or val_loss < self._best_val:
            self._best_val, self._train_at_best = val_loss, train_loss
            return False
        gl = generalization_loss(val_loss, self._best_val)
        if epoch >= self.start_from_epoch and gl > self.alpha and train_loss < self._train_at_best:
            self.fired_epoch = epoch
            return True
        return False


@dataclass(frozen=True)
class TrialRun:
    """One trained configuration: the network with its kept weights and its curves.

    Attributes:
        config: what was trained.
        model: the network, holding the weights of ``history.kept_epoch``.
        history: the per-epoch curves.
        guard_epoch: the epoch :class:`OverfitGuard` fired at, or None.
        pruned_epoch: the epoch the pruner stopped the run at, or None.
    """

    config: RunConfig
    model: Network
    history: History
    guard_epoch: int | None
    pruned_epoch: int | None

    @property
    def val_accuracy(self) -> float:
        """Validation accuracy of the kept weights (the trial's value)."""
        kept = self.history.kept_epoch
        return self.history.val_accuracy[kept if kept is not None else -1]


def train_config(
    config: RunConfig,
    data: SplitData,
    *,
    guard: float | None = 10.0,
    should_prune: Callable[[int, float], bool] | None = None,
) -> TrialRun:
    """Train ``config`` with the overfitting guard and an optional pruning hook.

    Args:
        config: the configuration (its ``early_stopping`` picks the weights kept).
        data: tensors and split.
        guard: :class:`OverfitGuard` alpha in percent; None disables the guard.
        should_prune: ``(epoch, val_loss) -> prune?``, called after every epoch.
    """
    model = network_for(config, data)
    watcher = OverfitGuard(guard) if guard is not None else None
    pruned: list[int] = []

    def on_epoch(epoch: int, logs: dict[str, float]) -> bool:
        if should_prune is not None and should_prune(epoch, logs["val_loss"]):
            pruned.append(epoch)
            return True
        return watcher is not None and watcher.update(epoch, logs["val_loss"], logs["loss"])

    history = fit(model, data, config, callbacks=[on_epoch])
    return TrialRun(
        config=config,
        model=model,
        history=history,
        guard_epoch=watcher.fired_epoch if watcher is not None else None,
        pruned_epoch=pruned[0] if pruned else None,
    )


def worker_id() -> str:
    """``host:pid`` of this process, recorded on each trial it runs."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Objective:
    """``objective(trial) -> val accuracy``: sample, train, report, prune.

    Args:
        data: tensors and split, loaded once per worker.
        space: the search space.
        base: fixed fields of every config (model family, epochs, batch size, seed, ...).
        guard: :class:`OverfitGuard` alpha in percent, None to disable.
    """

    def __init__(
        self, data: SplitData, space: Space, base: RunConfig, *, guard: float | None = 10.0
    ) -> None:
        self.data = data
        self.space = space
        self.base = base
        self.guard = guard

    def __call__(self, trial: optuna.Trial) -> float:
        import optuna

        config = suggest_config(trial, self.space, self.base)
        trial.set_user_attr("worker", worker_id())
        # A fused group of configs per trial would be recorded here as "engine".
        trial.set_user_attr("engine", "sequential")

        def should_prune(epoch: int, val_loss: float) -> bool:
            trial.report(-val_loss, epoch)
            return trial.should_prune()

        run = train_config(config, self.data, guard=self.guard, should_prune=should_prune)
        history = run.history
        kept = history.kept_epoch if history.kept_epoch is not None else len(history) - 1
        trial.set_user_attr("epochs", len(history))
        trial.set_user_attr("kept_epoch", kept)
        trial.set_user_attr("stop_reason", history.stop_reason)
        trial.set_user_attr("val_loss", history.val_loss[kept])
        trial.set_user_attr("guard_epoch", run.guard_epoch)
        if run.pruned_epoch is not None:
            raise optuna.TrialPruned(f"val loss behind the median at epoch {run.pruned_epoch}")
        return run.val_accuracy


def out_of_memory(err: RuntimeError) -> bool:
    """Whether torch failed to allocate memory (CUDA's OutOfMemoryError, or the CPU
    allocator's "can't allocate memory")."""
    import torch

    text = str(err)
    # (torch.OutOfMemoryError from torch 2.5; the CUDA one before it)
    oom = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
    return isinstance(err, oom) or "can't allocate memory" in text


def too_large(trial: optuna.Trial, err: RuntimeError) -> BadInput:
    """The one-line error of ``trial``, whose network or batch did not fit in memory: the
    search space is too large for the device, which the user can fix."""
    params = trial.params
    sampled = ", ".join(f"{k} {params[k]}" for k in ("width", "depth") if k in params)
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return BadInput(
        f"trial {trial.number}{f' ({sampled})' if sampled else ''} ran out of memory: "
        f"{reason}; expected a search that fits the device: a smaller --max-width, "
        "--max-depth or --batch-size (the study's finished trials are kept)"
    )
