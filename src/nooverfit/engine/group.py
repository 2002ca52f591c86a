"""`GroupTraining`: one fused group while it trains, epoch by epoch.

It reproduces :func:`nooverfit.train.fit` config by config: the same initialization
(each network comes from ``build_model``), the same batches (``batch_order`` over each
config's own training subset), the same loss and optimizer arithmetic, the same eval-mode
curves and early stopping. What differs: dropout masks and augmentation draws come from a
group generator (same distribution, other numbers), and a config that has run out of
batches in an epoch (a smaller training subset) waits, without any update, for the rest;
like ``fit``, a config skips a last batch of one sample under batch norm over features
(:func:`~nooverfit.train.needs_pairs`).
Divergence is detected on the batch cross-entropy (``fit`` checks it plus the L2 term,
which is finite whenever the loss is), and the ``seconds`` column holds the group's epoch
time divided by the configs it trained.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.annealing import cosine_factor
from nooverfit.averaging import RowAverage
from nooverfit.config import RunConfig
from nooverfit.data.augment import augmenter
from nooverfit.engine.feed import Feed, Layout, index_rows
from nooverfit.engine.follow import Policy, Tracker, follows
from nooverfit.engine.functional import BatchedNet, stack_modules
from nooverfit.engine.optimizer import StackedOptimizer
from nooverfit.engine.sequential import Factory, RunResult, make_model
from nooverfit.engine.stacked import StackedNet
from nooverfit.history import History
from nooverfit.mixing import MIX_SEED_OFFSET, mix_rows
from nooverfit.models import network_for
from nooverfit.seeding import AUGMENT_SEED_OFFSET, SEED_STRIDE
from nooverfit.stopping import EarlyStopping, StopReason
from nooverfit.train import batch_order, needs_pairs

log = logging.getLogger(__name__)

#: configs x samples per evaluation chunk; on a CPU the activations should stay in cache
#: (profiled at K = 24, one thread: the products and copies of evaluation took 73 ms per
#: 10 epochs in chunks of 85 samples against 107 ms in chunks of 341, whose 8 MB outputs
#: go to memory and back; the whole run 3 % less), with at least EVAL_MIN_SAMPLES
#: samples per chunk, below which the products lose speed
EVAL_ROWS = {"cpu": 1 << 11, "cuda": 1 << 19}
EVAL_MIN_SAMPLES = 64
#: drop finished configs from a group once they are at least 1 / COMPACT_SHARE of it
COMPACT_SHARE = 4
#: gather an epoch's inputs at once when they take at most this many bytes
PREFETCH_BYTES = 64 << 20
COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-sample cross-entropy ``(K, B)`` of logits ``(K, B, C)`` and labels ``(K, B)``.

    Logits of a narrow output layer lie in memory as ``(K, C, B)`` (see
    :mod:`~nooverfit.engine.layers`); torch's kernel then runs with classes as channels,
    over contiguous samples, which on a CPU is about ten times faster than over rows of
    10 classes (measured: 24 against 240 us at K = 24, B = 64).
    """
    if logits.stride(-1) != 1:
        return F.cross_entropy(logits.mT, y, reduction="none")
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view_as(y)


def smoothed(ce: torch.Tensor, logits: torch.Tensor, eps: torch.Tensor | None) -> torch.Tensor:
    """Per-sample cross-entropy ``(K, B)`` against targets smoothed by ``eps`` ``(K, 1)``:
    ``(1 - eps) * ce + eps * mean_c(-log p_c)``, as ``F.cross_entropy(label_smoothing=)``
    computes it; ``ce`` as it is when ``eps`` is None."""
    if eps is None:
        return ce
    uniform = -logits.float().log_softmax(-1).mean(-1)  # (K, B)
    return torch.lerp(ce, uniform, eps)


@torch.no_grad()
def _evaluate(
    net: BatchedNet, data: Feed, index: torch.Tensor, valid: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode mean loss and accuracy ``(K,)`` of every config; ``index`` is shared
    ``(N,)`` or per config ``(K, N)`` with a ``valid`` mask."""
    shared = index.dim() == 1
    n = index.shape[-1]
    chunk = max(EVAL_MIN_SAMPLES, EVAL_ROWS.get(net.device.type, EVAL_ROWS["cpu"]) // net.k)
    loss = torch.zeros(net.k, dtype=torch.float64, device=net.device)
    correct = torch.zeros_like(loss)
    for i in range(0, n, chunk):
        idx = index[..., i : i + chunk]
        logits = net.forward(data.rows(idx), shared=shared, train=False)  # (K, B, C)
        y = data.y[idx].expand(net.k, -1)
        ce = cross_entropy(logits, y)
        hit = (logits.contiguous().argmax(-1) == y).double()  # argmax: fastest on rows
        if valid is not None:
            w = valid[:, i : i + chunk]
            ce, hit = torch.where(w > 0, ce, 0), hit * w
        loss += ce.double().sum(1)
        correct += hit.sum(1)
    count = valid.sum(1).double() if valid is not None else torch.full_like(loss, n)
    return loss / count, correct / count


def _host_checks_each_step(device: torch.device) -> bool:
    """Whether to check every step for diverged configs on the host: free on a CPU, while
    on a GPU it would make the host wait for the device each step (there it happens once
    per epoch; a diverged config's gradients are zeroed on the device meanwhile)."""
    return device.type == "cpu"


class GroupTraining:
    """The configs of one group, their stacked net and optimizer, and per config its
    curves, stopping state and result.

    Row ``r`` of the net trains config ``ids[r]``; finished configs leave the net (see
    :meth:`end_epoch`), so rows and config indices part ways as training goes on.

    Args:
        configs: the runs.
        feed: their data (one split per run, stacked).
        factory: builds a user's own network per config (default: ``build_model``).
        policy: how runs end besides their epochs and early stopping: following their
            curve, or judged behind (see :mod:`~nooverfit.engine.follow`).
    """

    def __init__(
        self,
        configs: Sequence[RunConfig],
        feed: Feed,
        *,
        factory: Factory | None,
        policy: Policy | None = None,
    ) -> None:
        first = feed.first
        self.configs = list(configs)
        self.feed = feed
        self.device = dev = first.device
        k = len(configs)
        self.net: BatchedNet
        self.nets: Sequence[nn.Module]
        if factory is None:
            built = [network_for(c, first) for c in configs]
            self.net = StackedNet(built, dropout=[c.dropout for c in configs], device=dev)
            self.nets = built
        else:
            pairs = zip(configs, feed.datas, strict=True)
            self.nets = [make_model(c, d, factory=factory) for c, d in pairs]
            self.net = stack_modules(self.nets, first.in_shape, device=dev)
        self.opt = StackedOptimizer(self.net, configs)
        # per config: whether it skips a last batch of one sample (see train.needs_pairs)
        nets = zip(self.nets, configs, strict=True)
        self.pairs = np.array([needs_pairs(n, c.batch_size) for n, c in nets])
        self.average = RowAverage.of(self.net.flat, [c.ema for c in configs])  # averaging.py
        self.ids = list(range(k))  # the config of each row of the stacked net
        self.layout = Layout.of(configs, self.ids, feed)
        self.augment = (
            augmenter(first.kind, name=first.dataset.name, noise=first.dataset.noise)
            if any(c.augment > 0 or c.cutout > 0 for c in configs)
            else None
        )
        self.seed = sum(c.seed * SEED_STRIDE**i for i, c in enumerate(configs[:8])) % 2**62
        # dropout and augmentation draws
        self.gen = torch.Generator(device=dev).manual_seed(self.seed + AUGMENT_SEED_OFFSET)
        self.mix_gen = torch.Generator(device=dev).manual_seed(self.seed + MIX_SEED_OFFSET)
        self.stoppers = [
            EarlyStopping(c.early_stopping) if c.early_stopping else None for c in configs
        ]
        self.rows: list[dict[str, list[float]]] = [{n: [] for n in COLUMNS} for _ in configs]
        self.reasons: list[StopReason | None] = [None] * k
        self.best = self.net.snapshot() if any(self.stoppers) else {}
        self.has_best = [False] * k
        self.results: dict[int, RunResult] = {}
        self.sync_each_step = _host_checks_each_step(dev)
        self.judge = policy.judge if policy is not None else None
        follow = policy.follow if policy is not None else None
        self.trackers = (
            [Tracker(follow, int(b)) for b in self.layout.batches] if follow is not None else None
        )

    def running(self, epoch: int) -> list[bool]:
        """Per row: whether its config trains in ``epoch``."""
        return [self.reasons[i] is None and epoch < self.configs[i].epochs for i in self.ids]

    def train_epoch(self, epoch: int, running: list[bool]) -> torch.Tensor:
        """One epoch of steps for the ``running`` rows; returns which of them are still
        finite, ``(K,)`` bool on the device."""
        net, feed, layout, dev = self.net, self.feed, self.layout, self.device
        size, n = self.configs[0].batch_size, len(self.ids)
        if any(self.configs[i].cosine for i in self.ids):  # this epoch's rates (annealing.py)
            self.opt.anneal([self._share(i, epoch) for i in self.ids])
        subsets = layout.subsets
        order = [
            subsets[s][batch_order(seed, epoch, len(subsets[s]), device=dev)]
            for seed, s in layout.streams
        ]
        lone = self.pairs[self.ids] & (layout.sizes % size == 1)  # a last batch of one
        trained = layout.batches - lone  # batches each row trains on
        steps = int(trained[np.array(running)].max())
        index, valid = index_rows(order, steps * size)  # (streams, S*B)
        index, valid = index[layout.row_of], valid[layout.row_of]  # (K, S*B)
        for r in np.flatnonzero(lone):  # batch norm cannot train on it: left out
            valid[r, int(layout.sizes[r]) - 1 :] = 0
        alive = torch.tensor(running, device=dev)  # cleared when a config diverges
        live = np.array(running)  # alive, as far as the host knows
        shared = layout.shared
        eps = self._smoothing()
        alphas = [self.configs[i].mixup for i in self.ids]
        whole = int(layout.sizes.min()) // size  # steps in which every row has a full batch
        # the epoch's labels, batch sizes and (when small enough) inputs, gathered once
        labels = feed.y[index]  # (K, S*B)
        counts = valid.view(n, steps, size).sum(2)  # (K, S) real samples per batch
        has_batch = counts > 0
        counts = counts.clamp_min(1)
        rows_x = index[0] if shared else index
        inputs = (
            feed.rows(rows_x)
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
                xb = feed.rows(rows_x[cols] if shared else rows_x[:, cols])
            if self.augment is not None and not shared:
                xb = layout.augment(xb, self.augment, self.gen)
            has = has_batch[:, s]
            full = s < whole and bool(live.all())
            update = alive if full else alive & has
            mixed = None
            if any(alphas):  # each row mixes its own partners (mixing.py)
                rows = xb.expand(n, *xb.shape) if shared else xb
                mixed = mix_rows(rows, alphas, self.mix_gen, vb)
                xb = mixed.x
            logits = net.forward(
                xb,
                shared=shared and mixed is None,
                train=True,
                valid=vb,
                update=update,
                gen=self.gen,
                full=full,
            )
            ce = cross_entropy(logits, yb)
            if mixed is not None:
                ce = mixed.loss(ce, cross_entropy(logits, mixed.partner_labels(yb)))
            ce = smoothed(ce, logits, eps)
            per = ce.mean(1) if full else (ce * vb).sum(1) / counts[:, s]
            net.zero_grad()
            per.sum().backward()
            net.batches_tracked += update
            finite = torch.isfinite(per)
            if not self.sync_each_step or not bool(finite.all()):
                net.grad.masked_fill_(~finite.view(-1, 1), 0)  # keep NaN out of the moments
                alive &= finite | ~has
                if self.sync_each_step:
                    live = alive.numpy().copy()
            self.opt.step(alive & has, live & (s < trained))
            if self.average is not None:
                self.average.update(net.flat, alive & has)
        return alive

    def _share(self, i: int, epoch: int) -> float:
        """The share of config ``i``'s learning rate it trains at in ``epoch``."""
        c = self.configs[i]
        return cosine_factor(epoch, c.epochs) if c.cosine else 1.0

    def _smoothing(self) -> torch.Tensor | None:
        """Label smoothing of each row ``(K, 1)``, None when no config smooths."""
        values = [self.configs[i].label_smoothing for i in self.ids]
        if not any(values):
            return None
        return torch.tensor(values, device=self.device).view(-1, 1)

    def end_epoch(
        self, epoch: int, running: list[bool], alive: torch.Tensor, start: float
    ) -> None:
        """Evaluate the rows, record each running config's epoch, decide who stops, keep
        the best weights, and let finished configs leave the net once they are enough
        (each would still cost its share of every later step)."""
        layout = self.layout
        if self.average is not None:  # evaluated, kept and saved: the averaged weights
            self.average.apply(self.net.flat)
        train_loss, train_acc = _evaluate(self.net, self.feed, *layout.train_eval)
        val_loss, val_acc = _evaluate(self.net, self.feed, *layout.val_eval)
        alive_now = alive.tolist()
        metrics = torch.stack([train_loss, train_acc, val_loss, val_acc]).t().tolist()
        seconds = (time.perf_counter() - start) / sum(running)
        improved = []
        for r, i in enumerate(self.ids):
            if not running[r]:
                continue
            config, stopper = self.configs[i], self.stoppers[i]
            loss, acc, vloss, vacc = metrics[r]
            values = (loss, acc, vloss, vacc, config.lr * self._share(i, epoch), seconds)
            for name, value in zip(COLUMNS, values, strict=True):
                self.rows[i][name].append(value)
            if not (alive_now[r] and math.isfinite(loss) and math.isfinite(vloss)):
                self.reasons[i] = StopReason.DIVERGED
                log.warning("run %s diverged at epoch %d", config.label or config.key, epoch)
                continue
            if stopper is not None:
                if stopper.update(epoch, vloss, loss) and stopper.stop_reason is not None:
                    self.reasons[i] = stopper.stop_reason
                if stopper.best_epoch == epoch:
                    improved.append(r)
            if self.reasons[i] is None and epoch + 1 >= config.epochs:
                self.reasons[i] = StopReason.COMPLETED
            if self.trackers is not None and follows(config) and self.trackers[i].update(vloss):
                self.reasons[i] = self.reasons[i] or StopReason.CURVE
        if self.judge is not None:
            live = [i for r, i in enumerate(self.ids) if running[r] and self.reasons[i] is None]
            curves = [row["val_accuracy"] for row in self.rows]
            for i in self.judge(epoch, self.configs, curves, live) if live else []:
                self.reasons[i] = self.reasons[i] or StopReason.HALVED
        if improved:
            self.net.copy_rows(self.best, improved)
            for r in improved:
                self.has_best[self.ids[r]] = True
        n = len(self.ids)
        done = [r for r, i in enumerate(self.ids) if self.reasons[i] is not None]
        if done and len(done) < n and len(done) * COMPACT_SHARE >= n:
            self.finish(done)
            keep = [r for r in range(n) if r not in set(done)]
            self.net.select(keep)
            self.opt.select(keep)
            if self.average is not None:
                self.average.select(keep)
            index = torch.tensor(keep, device=self.device)
            self.best = {name: t[index] for name, t in self.best.items()}
            self.ids = [self.ids[r] for r in keep]
            self.layout = Layout.of(self.configs, self.ids, self.feed)
        if self.average is not None:
            self.average.restore(self.net.flat)

    def finish(self, done: list[int]) -> None:
        """Store the results of rows ``done``: the best epoch's weights where early
        stopping kept some, also after the run diverged (they are the last finite weights
        kept, as :func:`~nooverfit.train.fit` keeps them), else the final ones."""
        if self.average is not None:
            self.average.apply(self.net.flat)
        final = self.net.snapshot()
        for r in done:
            i = self.ids[r]
            reason = self.reasons[i] or StopReason.COMPLETED
            kept_epoch = len(self.rows[i]["loss"]) - 1
            source, stopper = final, self.stoppers[i]
            if stopper is not None and self.has_best[i]:
                source = self.best
                kept_epoch = stopper.best_epoch if stopper.best_epoch is not None else kept_epoch
            state = self.net.state_dict(r, source, self.nets[i])
            history = History.from_columns(
                self.rows[i], stop_reason=reason.value, kept_epoch=kept_epoch
            )
            self.results[i] = RunResult(self.configs[i], history, state, "fused")
