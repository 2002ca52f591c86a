"""The fused engine: train a group of K configs at once as one :class:`StackedNet`.

It reproduces :func:`nooverfit.train.fit` config by config: the same initialization
(each network comes from ``build_model``), the same batches (``batch_order`` over each
config's own training subset), the same loss and optimizer arithmetic, the same eval-mode
curves and early stopping. What differs: dropout masks and augmentation draws come from a
group generator (same distribution, other numbers), and a config that has run out of
batches in an epoch (a smaller training subset) waits, without any update, for the rest.
Divergence is detected on the batch cross-entropy (``fit`` checks it plus the L2 term,
which is finite whenever the loss is), and the ``seconds`` column holds the group's epoch
time divided by the configs it trained.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.augment import augmenter
from nooverfit.data.tensors import SplitData
from nooverfit.engine.batched import BatchedNet
from nooverfit.engine.feed import DataArg, Feed, per_run
from nooverfit.engine.functional import FunctionalNet, has_running_stats, structure
from nooverfit.engine.grouping import CPU_GROUP, GPU_GROUP, group_key, plan_groups
from nooverfit.engine.layout import Layout, index_rows
from nooverfit.engine.optimizer import StackedOptimizer
from nooverfit.engine.result import RunResult
from nooverfit.engine.sequential import Factory, make_model, run_sequential
from nooverfit.engine.stacked import StackedNet
from nooverfit.history import History
from nooverfit.models import build_model
from nooverfit.stopping import EarlyStopping, StopReason
from nooverfit.train import batch_order

log = logging.getLogger(__name__)

#: configs x samples per evaluation chunk (on a CPU, activations of a few MB stay in cache)
EVAL_ROWS = {"cpu": 1 << 13, "cuda": 1 << 19}


@torch.no_grad()
def _evaluate(
    net: BatchedNet, data: Feed, index: torch.Tensor, valid: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode mean loss and accuracy ``(K,)`` of every config; ``index`` is shared
    ``(N,)`` or per config ``(K, N)`` with a ``valid`` mask."""
    shared = index.dim() == 1
    n = index.shape[-1]
    chunk = max(1, EVAL_ROWS.get(net.device.type, EVAL_ROWS["cpu"]) // net.k)
    loss = torch.zeros(net.k, dtype=torch.float64, device=net.device)
    correct = torch.zeros_like(loss)
    for i in range(0, n, chunk):
        idx = index[..., i : i + chunk]
        logits = net.forward(data.x[idx], shared=shared, train=False)  # (K, B, C)
        y = data.y[idx].expand(net.k, -1)
        ce = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view_as(y)
        hit = (logits.argmax(-1) == y).double()
        if valid is not None:
            w = valid[:, i : i + chunk]
            ce, hit = torch.where(w > 0, ce, 0), hit * w
        loss += ce.double().sum(1)
        correct += hit.sum(1)
    count = valid.sum(1).double() if valid is not None else torch.full_like(loss, n)
    return loss / count, correct / count


#: drop finished configs from a group once they are at least 1 / COMPACT_SHARE of it
COMPACT_SHARE = 4
#: gather an epoch's inputs at once when they take at most this many bytes
PREFETCH_BYTES = 64 << 20


def _host_checks_each_step(device: torch.device) -> bool:
    """Whether to check every step for diverged configs on the host: free on a CPU, while
    on a GPU it would make the host wait for the device each step (there it happens once
    per epoch; a diverged config's gradients are zeroed on the device meanwhile)."""
    return device.type == "cpu"


def train_group(
    configs: Sequence[RunConfig], data: DataArg, *, factory: Factory | None = None
) -> list[RunResult]:
    """Train ``configs`` (one :func:`~nooverfit.engine.grouping.group_key`) as one model.

    Args:
        configs: the runs.
        data: one split for all runs, or one per run (e.g. a seed's own split each).
        factory: builds a user's own network per config (default: ``build_model``); its
            modules are stacked by :class:`~nooverfit.engine.functional.FunctionalNet`,
            so they must share one structure and have no batch-norm running statistics.

    Returns:
        One :class:`RunResult` per config, in order, with ``engine == "fused"``.
    """
    feed = Feed.of(per_run(data, len(configs)))
    first = feed.first
    dev, k = first.device, len(configs)
    net: BatchedNet
    nets: Sequence[nn.Module]
    if factory is None:
        built = [build_model(c, first.in_shape, first.num_classes) for c in configs]
        net, nets = StackedNet(built, dropout=[c.dropout for c in configs], device=dev), built
    else:
        pairs = zip(configs, feed.datas, strict=True)
        nets = [make_model(c, d, factory=factory) for c, d in pairs]
        net = FunctionalNet(nets, device=dev)
    opt = StackedOptimizer(net, configs)
    ids = list(range(k))  # the config of each row of the stacked net
    layout = Layout.of(configs, ids, feed)
    augment = (
        augmenter(first.kind, name=first.dataset.name)
        if any(c.augment > 0 for c in configs)
        else None
    )
    size = configs[0].batch_size
    seed = sum(c.seed * 1_000_003**i for i, c in enumerate(configs[:8])) % 2**62
    gen = torch.Generator(device=dev).manual_seed(seed + 7919)  # dropout and augmentation
    stoppers = [EarlyStopping(c.early_stopping) if c.early_stopping else None for c in configs]
    rows: list[dict[str, list[float]]] = [
        {n: [] for n in ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")}
        for _ in configs
    ]
    reasons: list[StopReason | None] = [None] * k
    best = net.snapshot() if any(stoppers) else {}
    has_best = [False] * k
    results: dict[int, RunResult] = {}

    def finish(done: list[int]) -> None:
        """Store the results of rows ``done`` (config ids[r] each)."""
        final = net.snapshot()
        for r in done:
            i = ids[r]
            reason = reasons[i] or StopReason.COMPLETED
            best_epoch = len(rows[i]["loss"]) - 1
            source, stopper = final, stoppers[i]
            if stopper is not None and has_best[i] and reason is not StopReason.DIVERGED:
                source = best
                best_epoch = stopper.best_epoch if stopper.best_epoch is not None else best_epoch
            state = net.state_dict(r, source, nets[i])
            history = History.from_columns(
                rows[i], stop_reason=reason.value, best_epoch=best_epoch
            )
            results[i] = RunResult(configs[i], history, state, "fused")

    sync_each_step = _host_checks_each_step(dev)
    rng_devices = [dev.index or 0] if dev.type == "cuda" else []
    with warnings.catch_warnings(), torch.random.fork_rng(devices=rng_devices):
        warnings.filterwarnings("ignore", message="grad and param do not obey")
        torch.manual_seed(seed)  # dropout inside a user's module (FunctionalNet)
        for epoch in range(max(c.epochs for c in configs)):
            running = [reasons[i] is None and epoch < configs[i].epochs for i in ids]
            if not any(running):
                break
            start = time.perf_counter()
            n = len(ids)
            subsets = layout.subsets
            order = [
                subsets[s][batch_order(seed_, epoch, len(subsets[s]), device=dev)]
                for seed_, s in layout.streams
            ]
            steps = int(layout.batches[np.array(running)].max())
            index, valid = index_rows(order, steps * size)  # (streams, S*B)
            index, valid = index[layout.row_of], valid[layout.row_of]  # (K, S*B)
            alive = torch.tensor(running, device=dev)  # cleared when a config diverges
            live = np.array(running)  # alive, as far as the host knows
            shared = layout.shared
            whole = int(layout.sizes.min()) // size  # steps in which every row has a full batch
            # the epoch's labels, batch sizes and (when small enough) inputs, gathered once
            labels = feed.y[index]  # (K, S*B)
            counts = valid.view(n, steps, size).sum(2)  # (K, S) real samples per batch
            has_batch = counts > 0
            counts = counts.clamp_min(1)
            rows_x = index[0] if shared else index
            inputs = (
                feed.x[rows_x]
                if rows_x.numel() * feed.x[0].numel() * feed.x.element_size() <= PREFETCH_BYTES
                else None
            )
            for s in range(steps):
                cols = slice(s * size, (s + 1) * size)
                vb = valid[:, cols]  # (K, B)
                yb = labels[:, cols]
                if inputs is not None:  # (B, ...) shared or (K, B, ...)
                    xb = inputs[cols] if shared else inputs[:, cols]
                else:
                    xb = feed.x[rows_x[cols] if shared else rows_x[:, cols]]
                if augment is not None and not shared:
                    xb = layout.augment(xb, augment, gen)
                has = has_batch[:, s]
                full = s < whole and bool(live.all())
                update = alive if full else alive & has
                logits = net.forward(
                    xb, shared=shared, train=True, valid=vb, update=update, gen=gen, full=full
                )
                ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none")
                if full:  # (K,) batch means
                    per = ce.view(n, -1).mean(1)
                else:
                    per = (ce.view(n, -1) * vb).sum(1) / counts[:, s]
                net.zero_grad()
                per.sum().backward()
                net.batches_tracked += update
                finite = torch.isfinite(per)
                if not sync_each_step or not bool(finite.all()):
                    net.grad.masked_fill_(~finite.view(-1, 1), 0)  # keep NaN out of the moments
                    alive &= finite | ~has
                    if sync_each_step:
                        live = alive.numpy().copy()
                opt.step(alive & has, live & (s < layout.batches))
            train_loss, train_acc = _evaluate(net, feed, *layout.train_eval)
            val_loss, val_acc = _evaluate(net, feed, *layout.val_eval)
            alive_now = alive.tolist()
            metrics = torch.stack([train_loss, train_acc, val_loss, val_acc]).t().tolist()
            seconds = (time.perf_counter() - start) / sum(running)
            improved = []
            for r, i in enumerate(ids):
                if not running[r]:
                    continue
                loss, acc, vloss, vacc = metrics[r]
                for name, value in zip(
                    rows[i], (loss, acc, vloss, vacc, configs[i].lr, seconds), strict=True
                ):
                    rows[i][name].append(value)
                if not (alive_now[r] and math.isfinite(loss) and math.isfinite(vloss)):
                    reasons[i] = StopReason.DIVERGED
                    log.warning(
                        "run %s diverged at epoch %d", configs[i].label or configs[i].key, epoch
                    )
                    continue
                stopper = stoppers[i]
                if stopper is not None:
                    if stopper.update(epoch, vloss, loss) and stopper.stop_reason is not None:
                        reasons[i] = stopper.stop_reason
                    if stopper.best_epoch == epoch:
                        improved.append(r)
                if reasons[i] is None and epoch + 1 >= configs[i].epochs:
                    reasons[i] = StopReason.COMPLETED
            if improved:
                net.copy_rows(best, improved)
                for r in improved:
                    has_best[ids[r]] = True
            done = [r for r, i in enumerate(ids) if reasons[i] is not None]
            if done and len(done) < n and len(done) * COMPACT_SHARE >= n:
                # finished configs would still cost their share of every later step
                finish(done)
                keep = [r for r in range(n) if r not in set(done)]
                net.select(keep)
                opt.select(keep)
                index_keep = torch.tensor(keep, device=dev)
                best = {name: t[index_keep] for name, t in best.items()}
                ids = [ids[r] for r in keep]
                layout = Layout.of(configs, ids, feed)
    finish(list(range(len(ids))))
    return [results[i] for i in range(k)]


def run_fused(
    configs: Sequence[RunConfig],
    data: DataArg,
    *,
    max_group: int | None = None,
    factory: Factory | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """Train ``configs`` in fused groups, yielding ``(index, result)`` group by group.

    Args:
        configs: the runs; any mix of families and sizes (see
            :func:`~nooverfit.engine.grouping.plan_groups`).
        data: one split for all runs, or one per run; runs of different splits of one data
            set share groups.
        max_group: the most configs per group (default: sized to the device).
        factory: builds a user's own network per config; configs whose modules share a
            structure are fused through ``torch.func``, and modules with batch-norm
            running statistics run on the sequential engine.
    """
    datas = per_run(data, len(configs))
    if not datas:
        return
    first = datas[0]
    if factory is not None:
        yield from _run_functional(configs, datas, factory, max_group=max_group)
        return
    groups = plan_groups(
        configs, first.in_shape, first.num_classes, device=first.device, max_group=max_group
    )
    for group in groups:
        log.info("fused group of %d configs", len(group))
        chosen = [configs[i] for i in group]
        yield from zip(group, train_group(chosen, [datas[i] for i in group]), strict=True)


def _run_functional(
    configs: Sequence[RunConfig],
    datas: Sequence[SplitData],
    factory: Factory,
    *,
    max_group: int | None,
) -> Iterator[tuple[int, RunResult]]:
    """Group a user's modules by structure (and :func:`group_key`) and train each group
    through :class:`FunctionalNet`, or sequentially where it cannot stack them."""
    keyed: dict[tuple, list[int]] = {}
    for i, (config, split) in enumerate(zip(configs, datas, strict=True)):
        module = make_model(config, split, factory=factory)
        shape = None if has_running_stats(module) else structure(module)
        keyed.setdefault((group_key(config), shape), []).append(i)
    for (_, shape), members in keyed.items():
        if shape is None:
            log.info("%d runs of a module with batch-norm statistics: sequential", len(members))
            chosen = [configs[i] for i in members]
            for j, result in run_sequential(chosen, [datas[i] for i in members], factory=factory):
                yield members[j], result
            continue
        limit = max_group or (CPU_GROUP if datas[0].device.type != "cuda" else GPU_GROUP)
        for start in range(0, len(members), limit):
            group = members[start : start + limit]
            log.info("fused group of %d configs of a user's module", len(group))
            results = train_group(
                [configs[i] for i in group], [datas[i] for i in group], factory=factory
            )
            yield from zip(group, results, strict=True)
