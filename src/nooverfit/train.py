"""`fit`: train one model on one config, recording honest per-epoch curves.

This is the sequential reference engine. Each epoch it measures the training loss and
accuracy in eval mode on the clean training subset (running averages under dropout or
augmentation would understate the train/val gap), then validation loss and accuracy.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nooverfit._words import counted
from nooverfit.annealing import cosine_factor
from nooverfit.averaging import ModuleAverage
from nooverfit.config import RunConfig
from nooverfit.data.augment import augmenter, cutout
from nooverfit.data.tensors import SplitData
from nooverfit.history import History
from nooverfit.mixing import mix_rows
from nooverfit.regularize import decay_groups, l2_penalty
from nooverfit.seeding import AUGMENT_SEED_OFFSET, SEED_STRIDE
from nooverfit.stopping import EarlyStopping, StopReason

log = logging.getLogger(__name__)

#: ``callback(epoch, logs) -> stop?``; ``logs`` holds loss, accuracy, val_loss, ...
Callback = Callable[[int, dict[str, float]], bool | None]

EVAL_CHUNK = 4096


@dataclass(frozen=True)
class Scores:
    """Mean cross-entropy loss and accuracy on a set of samples."""

    loss: float
    accuracy: float


def batch_order(
    seed: int, epoch: int, n: int, *, device: torch.device | None = None
) -> torch.Tensor:
    """The sample order of one epoch: a permutation of ``range(n)`` fixed by (seed, epoch).

    Shared by the sequential and the fused engine so both see the same batches.
    """
    gen = torch.Generator().manual_seed(seed * SEED_STRIDE + epoch)
    return torch.randperm(n, generator=gen).to(device or "cpu")


def needs_pairs(model: nn.Module, batch_size: int) -> bool:
    """Whether ``model`` normalizes features by the batch (``nn.BatchNorm1d``), which
    cannot train on a batch of one sample: one value per feature has no spread (torch
    refuses it; the output would be ``beta`` whatever the input, and the running variance
    would be pulled towards 0). Both engines skip such a batch, so a training subset of
    ``k * batch_size + 1`` samples leaves one sample out of each epoch (another one each
    epoch, as the order is drawn anew).

    Raises:
        ValueError: if such a model is to train on batches of ``batch_size`` 1.
    """
    pairs = any(isinstance(m, nn.BatchNorm1d) for m in model.modules())
    if pairs and batch_size < 2:
        raise ValueError(
            "batch norm over features needs batches of at least 2 samples, got batch_size "
            f"{batch_size}; expected batch_size >= 2 (or no batch norm)"
        )
    return pairs


def make_optimizer(model: nn.Module, config: RunConfig) -> torch.optim.Optimizer:
    """``"adam"`` and ``"adamw"`` alike: AdamW (decoupled ``weight_decay``; plain Adam when
    it is 0, and Adam's coupled decay is ``config.l2``), or SGD (momentum 0.9) whose
    coupled ``weight_decay`` equals ``l2`` of that value; both without decay on biases and
    norm parameters. The fused engine and the study's recipes assume these semantics."""
    groups = decay_groups(model, config.weight_decay)
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr, momentum=0.9)
    return torch.optim.AdamW(groups, lr=config.lr)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Scores:
    """Loss and accuracy of ``model`` in eval mode on ``(x, y)``, in chunks.

    Raises:
        ValueError: if ``x`` and ``y`` hold no sample, or not as many samples as labels
            (no sample gave loss 0 and accuracy 0: a perfect loss), or the model gives
            other than one score per class for each sample, at least two (one output
            scores loss 0 and accuracy 1 on any data).
    """
    if len(y) == 0 or len(x) != len(y):
        raise ValueError(
            f"evaluate needs as many samples as labels, at least one; got {len(x)} and {len(y)}"
        )
    was_training = model.training
    model.eval()
    total, correct = 0.0, 0
    try:
        for i in range(0, len(y), EVAL_CHUNK):
            logits = model(x[i : i + EVAL_CHUNK])
            if logits.ndim != 2 or logits.shape[1] < 2:
                raise ValueError(
                    f"the model's output has shape {tuple(logits.shape)}; expected one score "
                    "per class for each sample, (samples, classes) with at least 2 classes"
                )
            target = y[i : i + EVAL_CHUNK]
            total += F.cross_entropy(logits, target, reduction="sum").item()
            correct += int((logits.argmax(1) == target).sum().item())
    finally:
        model.train(was_training)
    return Scores(total / len(y), correct / len(y))


def evaluate_test(model: nn.Module, data: SplitData) -> Scores:
    """Loss and accuracy of ``model`` on the test split of ``data``."""
    return evaluate(model, data.x[data.test_index], data.y[data.test_index])


def fit(
    model: nn.Module,
    data: SplitData,
    config: RunConfig,
    *,
    callbacks: Sequence[Callback] = (),
    optimizer: torch.optim.Optimizer | None = None,
    keep_best: bool = False,
    interruptible: bool = False,
) -> History:
    """Train ``model`` in place on the training subset ``config`` selects.

    Loss: ``cross_entropy + l2 / 2 * sum(||W||_F^2)`` (the cross-entropy with
    ``config.label_smoothing``). Every epoch trains on each batch of its order, the last
    one partial where the subset is no multiple of ``batch_size`` (the mean over its
    samples), except a last batch of one sample under batch norm over features (see
    :func:`needs_pairs`). Which weights ``model`` holds at the end:

    - ``keep_best``: those of the best epoch, the lowest finite ``val_loss`` (the first on
      ties; :func:`nooverfit.history.best_index`, Keras's ``restore_best_weights``), with
      or without early stopping;
    - else with ``config.early_stopping``: those of the criterion's best epoch, whether or
      not it fired (the same epoch, as its criteria keep the lowest ``val_loss``, first on
      ties; but a diverged last epoch, which the criterion never sees, is not a candidate);
    - else the final ones.

    ``History.kept_epoch`` names the epoch kept. A NaN or infinite loss ends the run with
    ``stop_reason == "diverged"`` instead of an exception.

    Args:
        model: the network; moved to ``data.device``.
        data: tensors and split (see :func:`nooverfit.data.prepare`).
        config: optimizer, regularization, epochs, seed and training-set size.
        callbacks: called after every epoch with ``(epoch, logs)``; returning True stops.
        optimizer: used instead of :func:`make_optimizer` when given (e.g. the parameter
            groups of :func:`nooverfit.transfer.prepare`); default None.
        keep_best: end with the best epoch's weights (default False: the last epoch's, or
            early stopping's best).
        interruptible: a Ctrl-C (``KeyboardInterrupt``) once an epoch has finished ends
            the run as a stop would, ``stop_reason == "interrupted"``, the epoch under way
            left out (with ``keep_best``, the best finished epoch's weights are kept); default
            False: it propagates (a study's runs must not swallow it).

    Returns:
        The per-epoch history (train metrics measured in eval mode on clean data).

    Raises:
        TypeError: if ``config`` is not a :class:`~nooverfit.config.RunConfig`.
        ValueError: if the model cannot read ``data``'s samples, its outputs are not one
            per class of ``data``, it normalizes features by batches of ``batch_size`` 1,
            or (without ``optimizer``) it has no trainable parameters or holds them in
            another dtype than ``data.x`` (float32).
    """
    if not isinstance(config, RunConfig):
        raise TypeError(f"config must be a RunConfig, got {type(config).__name__}")
    device = data.device
    model.to(device)
    if optimizer is None:
        _check_parameters(model, data.x.dtype)
    train_idx = data.train_index(
        train_size=config.train_size, train_per_class=config.train_per_class
    )
    x_train, y_train = data.x[train_idx], data.y[train_idx]
    x_val, y_val = data.x[data.val_index], data.y[data.val_index]
    _check_outputs(model, x_train[:1], data.num_classes)
    pairs = needs_pairs(model, config.batch_size)
    if optimizer is None:
        optimizer = make_optimizer(model, config)
    stopper = EarlyStopping(config.early_stopping) if config.early_stopping else None
    augment = (
        augmenter(data.kind, name=data.dataset.name, noise=data.dataset.noise)
        if config.augment > 0
        else None
    )
    gen = torch.Generator(device=device).manual_seed(config.seed + AUGMENT_SEED_OFFSET)
    strength = torch.full((config.batch_size,), config.augment, device=device)
    if config.cutout > 0 and x_train.dim() != 4:
        raise ValueError(f"cutout needs images (N, C, H, W), got shape {tuple(x_train.shape)}")
    holes = torch.full((config.batch_size,), config.cutout, device=device)
    average = ModuleAverage(model, config.ema) if config.ema > 0 else None
    rows: dict[str, list[float]] = {
        k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")
    }
    best_state: dict[str, torch.Tensor] | None = None
    best_row, lowest = None, math.inf  # keep_best's: best_index's rule, row by row
    reason = StopReason.COMPLETED
    devices = [device.index or 0] if device.type == "cuda" else []
    # Dropout masks come from the global generator, seeded for the whole run. Unlike
    # seeding.seeded this holds no lock (a lock held for a whole run would serialize fits
    # in threads, and stall fused worker threads started from a callback): run fits
    # concurrently in processes.
    base_lrs = [g["lr"] for g in optimizer.param_groups]  # each group's, for cosine
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(config.seed)
        try:
            for epoch in range(config.epochs):
                start = time.perf_counter()
                if config.cosine:
                    share = cosine_factor(epoch, config.epochs)
                    for group, lr in zip(optimizer.param_groups, base_lrs, strict=True):
                        group["lr"] = lr * share
                model.train()
                order = batch_order(config.seed, epoch, len(train_idx), device=device)
                diverged = False
                for i in range(0, len(order), config.batch_size):
                    batch = order[i : i + config.batch_size]
                    if pairs and len(batch) == 1:
                        continue  # batch norm cannot train on it (see needs_pairs)
                    xb, yb = x_train[batch], y_train[batch]
                    if augment is not None:
                        xb = augment(xb, strength[: len(batch)], gen)
                    if config.cutout > 0:  # after the affine map, so the hole keeps its size
                        xb = cutout(xb, holes[: len(batch)], gen)
                    ce = _cross_entropy(model, xb, yb, config, gen)
                    loss = ce + l2_penalty(model, config.l2)
                    if not torch.isfinite(loss):
                        diverged = True
                        break
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    if average is not None:
                        average.update()
                if average is not None:  # evaluated, kept and saved: the averaged weights
                    average.apply()
                train = evaluate(model, x_train, y_train)
                val = evaluate(model, x_val, y_val)
                logs = {
                    "loss": train.loss,
                    "accuracy": train.accuracy,
                    "val_loss": val.loss,
                    "val_accuracy": val.accuracy,
                    "lr": optimizer.param_groups[0]["lr"],
                    "seconds": time.perf_counter() - start,
                }
                for k, v in logs.items():
                    rows[k].append(v)
                if keep_best and math.isfinite(val.loss) and val.loss < lowest:
                    # also on a diverged epoch: its weights are those before the bad batch
                    best_row, lowest = epoch, val.loss
                    best_state = _copy_state(model)
                if diverged or not (math.isfinite(train.loss) and math.isfinite(val.loss)):
                    reason = StopReason.DIVERGED
                    log.warning("run %s diverged at epoch %d", config.label or config.key, epoch)
                    break
                stop = False
                if stopper is not None:
                    stop = stopper.update(epoch, val.loss, train.loss)
                    if stopper.best_epoch == epoch and not keep_best:
                        best_state = _copy_state(model)
                if stop and stopper is not None and stopper.stop_reason is not None:
                    reason = stopper.stop_reason
                if any([cb(epoch, logs) for cb in callbacks]) and not stop:
                    reason, stop = StopReason.REQUESTED, True
                if stop:
                    break
                if average is not None:
                    average.restore()
        except KeyboardInterrupt:
            finished = len(rows["seconds"])  # the last column each epoch appends to
            if not interruptible or not finished:
                raise
            reason = StopReason.INTERRUPTED
            for column in rows.values():  # an epoch cut short between its rows' appends
                del column[finished:]
    if average is not None:
        average.apply()
    kept_epoch = len(rows["loss"]) - 1
    # Restore the best weights also after divergence: they are the last finite ones kept.
    if keep_best and best_state is not None and best_row is not None:
        model.load_state_dict(best_state)
        kept_epoch = best_row
    elif stopper is not None and best_state is not None:
        model.load_state_dict(best_state)
        kept_epoch = stopper.best_epoch if stopper.best_epoch is not None else kept_epoch
    return History.from_columns(rows, stop_reason=reason.value, kept_epoch=kept_epoch)


def _cross_entropy(
    model: nn.Module,
    xb: torch.Tensor,
    yb: torch.Tensor,
    config: RunConfig,
    gen: torch.Generator,
) -> torch.Tensor:
    """The mean cross-entropy of one batch, with ``config.label_smoothing``; with
    ``config.mixup``, of the batch mixed with partners of its own (:mod:`nooverfit.mixing`,
    the fused engine's mixup as a batch of one run) against the mixed targets."""
    if config.mixup <= 0:
        return F.cross_entropy(model(xb), yb, label_smoothing=config.label_smoothing)
    mixed = mix_rows(xb.unsqueeze(0), [config.mixup], gen)
    logits = model(mixed.x[0])

    def against(target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(
            logits, target, label_smoothing=config.label_smoothing, reduction="none"
        ).unsqueeze(0)

    return mixed.loss(against(yb), against(mixed.partner_labels(yb.unsqueeze(0))[0])).mean()


def _copy_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model``'s weights and buffers (kept apart from further training)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _check_parameters(model: nn.Module, dtype: torch.dtype) -> None:
    """Raise ``ValueError`` where ``model`` has nothing to train, or weights of another
    float dtype than the data's (torch's own error said only "mat1 and mat2 must have
    the same dtype"; fit moves the model's device, not its dtype)."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError(
            f"{type(model).__name__} has no trainable parameters; expected a network with "
            "weights that require grad"
        )
    other = {str(p.dtype) for p in trainable if p.is_floating_point() and p.dtype != dtype}
    if other:
        name = str(dtype).removeprefix("torch.")
        raise ValueError(
            f"the model's parameters are {', '.join(sorted(other))} but the data is {dtype}; "
            f"expected parameters of the data's dtype (model.to(torch.{name}))"
        )


@torch.no_grad()
def _check_outputs(model: nn.Module, x: torch.Tensor, classes: int) -> None:
    """Raise ``ValueError`` unless ``model`` reads ``x`` and gives one output per class
    (else the loss fails later with a bare "Target 9 is out of bounds"). Eval mode: no
    state changes."""
    was_training = model.training
    model.eval()
    try:
        shape = tuple(model(x).shape)
    except torch.cuda.OutOfMemoryError:
        raise
    except RuntimeError as err:  # (shape or dtype: torch's words, with what was fed)
        raise ValueError(
            f"the model cannot read the data's samples of shape {tuple(x.shape[1:])} "
            f"({x.dtype}): {err}"
        ) from err
    finally:
        model.train(was_training)
    if shape[-1] != classes:
        raise ValueError(
            f"the model has {counted(shape[-1], 'output')} but the data has {classes} classes; "
            f"expected a last layer of {classes} outputs (e.g. prepare(..., classes={classes}))"
        )
    if len(shape) != 2:
        raise ValueError(
            f"the model's output for {len(x)} sample has shape {shape}; expected "
            f"({len(x)}, {classes}), one score per class (e.g. a Flatten before the Linear)"
        )
