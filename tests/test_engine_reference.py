"""Both engines against a plain PyTorch training loop written here: ``torch.nn`` layers,
``torch.optim`` optimizers and schedulers, the same initial weights and the same batches.

The sequential engine must reproduce the loop's curves, dropout masks included (both
draw them from the global generator under the run's seed). A fused group draws its
dropout masks and mixup partners from generators of its own, so a run fused alone is
checked against the loop drawing from those generators; in larger groups the other
checks of this module apply (members do not leak into each other).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs, train_group
from nooverfit.mixing import MIX_SEED_OFFSET
from nooverfit.models import network_for
from nooverfit.seeding import AUGMENT_SEED_OFFSET, SEED_STRIDE

COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy")


class GenDropout(nn.Module):
    """Inverted dropout whose mask is ``rand >= p`` from a generator of its own (the fused
    engine's masks), scaled by ``1 / (1 - p)``; drawn for whole batches of ``batch``
    samples (a fused group pads a partial batch, and draws for the padding too)."""

    def __init__(self, p: float, gen: torch.Generator, batch: int) -> None:
        super().__init__()
        self.p, self.gen, self.batch = p, gen, batch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        drawn = torch.rand((self.batch, *x.shape[1:]), generator=self.gen)
        keep = drawn[: len(x)] >= self.p
        return x * keep / (1 - self.p)


def plain_mlp(
    config: RunConfig,
    features: int,
    classes: int,
    *,
    dropout: Callable[[float], nn.Module] = nn.Dropout,
) -> nn.Sequential:
    """The MLP a config describes, in plain torch layers: a Linear that feeds batch norm
    has no bias."""
    layers: list[nn.Module] = [nn.Flatten()]
    size = features
    for _ in range(config.depth):
        layers.append(nn.Linear(size, config.width, bias=not config.batchnorm))
        if config.batchnorm:
            layers.append(nn.BatchNorm1d(config.width))
        layers.append(nn.ReLU())
        if config.dropout > 0:
            layers.append(dropout(config.dropout))
        size = config.width
    layers.append(nn.Linear(size, classes))
    return nn.Sequential(*layers)


def plain_cnn(
    config: RunConfig,
    shape: tuple[int, ...],
    classes: int,
    *,
    dropout: Callable[[float], nn.Module] = nn.Dropout,
) -> nn.Sequential:
    """The CNN a config describes (one convolution a block), in plain torch layers."""
    c, h, w = shape
    layers: list[nn.Module] = []
    for i in range(config.depth):
        out = config.width * 2**i
        layers.append(nn.Conv2d(c, out, 3, padding=1, bias=not config.batchnorm))
        if config.batchnorm:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        if min(h, w) >= 4:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        if config.dropout > 0:
            layers.append(dropout(config.dropout))
        c = out
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * h * w, classes))


def plain_optimizer(model: nn.Module, config: RunConfig) -> torch.optim.Optimizer:
    """``torch.optim``'s own optimizer for a config: Adam with its coupled ``weight_decay``
    for ``l2``, AdamW for decoupled weight decay, SGD with momentum 0.9 and coupled decay;
    no decay on biases and norm parameters."""
    weights = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    if config.optimizer == "sgd":
        decay = config.l2 + config.weight_decay
        groups = [{"params": weights, "weight_decay": decay}, {"params": rest}]
        return torch.optim.SGD(groups, lr=config.lr, momentum=0.9)
    assert not (config.l2 and config.weight_decay), "one decay at a time"
    if config.weight_decay:
        groups = [{"params": weights, "weight_decay": config.weight_decay}, {"params": rest}]
        return torch.optim.AdamW(groups, lr=config.lr, weight_decay=0.0)
    groups = [{"params": weights, "weight_decay": config.l2}, {"params": rest}]
    return torch.optim.Adam(groups, lr=config.lr)


def ema_model(model: nn.Module, decay: float) -> torch.optim.swa_utils.AveragedModel:
    """torch's ``AveragedModel`` holding ``avg = d * avg + (1 - d) * w`` with the warm-up
    ``d_t = min(decay, (1 + t) / (4 + t))``, started from the initial weights."""

    def average(avg: torch.Tensor, w: torch.Tensor, averaged: torch.Tensor) -> torch.Tensor:
        t = int(averaged) - 1  # updates since the initial weights
        d = min(decay, (1 + t) / (4 + t))
        return d * avg + (1 - d) * w

    averaged = torch.optim.swa_utils.AveragedModel(model, avg_fn=average)
    averaged.update_parameters(model)  # the first update copies: the initial weights
    return averaged


def reference(
    config: RunConfig,
    data,
    *,
    masks: int | None = None,
    mix: int | None = None,
) -> dict[str, list[float]]:
    """Train ``config`` in a plain loop; its eval-mode curves per epoch.

    Args:
        masks: seed of a generator for the dropout masks (:class:`GenDropout`); None:
            ``nn.Dropout`` under ``torch.manual_seed(config.seed)``.
        mix: seed of the generator of mixup's partners and weights (needed for mixup).
    """
    train = data.train_index(train_size=config.train_size, train_per_class=config.train_per_class)
    x, y = data.x[train], data.y[train]
    xv, yv = data.x[data.val_index], data.y[data.val_index]
    features, classes = math.prod(data.in_shape), data.num_classes
    gen = torch.Generator().manual_seed(masks) if masks is not None else None
    dropout: Callable[[float], nn.Module] = nn.Dropout
    if gen is not None:
        dropout = lambda p: GenDropout(p, gen, config.batch_size)  # noqa: E731
    if config.model == "cnn":
        model = plain_cnn(config, data.in_shape, classes, dropout=dropout)
    else:
        model = plain_mlp(config, features, classes, dropout=dropout)
    model.load_state_dict(network_for(config, data).state_dict())  # strict: the same layers
    opt = plain_optimizer(model, config)
    schedule = (
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
        if config.cosine
        else None
    )
    averaged = ema_model(model, config.ema) if config.ema > 0 else None
    mixer = torch.Generator().manual_seed(mix) if mix is not None else None
    # BatchNorm1d cannot train on a batch of one (BatchNorm2d has a map's values)
    one_value_norm = config.batchnorm and config.model == "mlp"
    curves: dict[str, list[float]] = {k: [] for k in COLUMNS}
    torch.manual_seed(config.seed)
    for epoch in range(config.epochs):
        model.train()
        perm_gen = torch.Generator().manual_seed(config.seed * SEED_STRIDE + epoch)
        order = torch.randperm(len(y), generator=perm_gen)
        for batch in order.split(config.batch_size):
            if one_value_norm and len(batch) == 1:
                continue
            xb, yb = x[batch], y[batch]
            if config.mixup > 0:
                assert mixer is not None
                partner = torch.rand((len(batch),), generator=mixer).argsort()
                seed = int(torch.randint(0, 2**62, (1,), generator=mixer))
                lam = np.random.default_rng(seed).beta(config.mixup, config.mixup, len(batch))
                lam_t = torch.as_tensor(lam, dtype=xb.dtype)
                shape = (-1, *[1] * (xb.dim() - 1))
                logits = model(lam_t.view(shape) * xb + (1 - lam_t.view(shape)) * xb[partner])
                smooth = config.label_smoothing
                own = F.cross_entropy(logits, yb, label_smoothing=smooth, reduction="none")
                other = F.cross_entropy(
                    logits, yb[partner], label_smoothing=smooth, reduction="none"
                )
                loss = (lam_t * own + (1 - lam_t) * other).mean()
            else:
                loss = F.cross_entropy(model(xb), yb, label_smoothing=config.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if averaged is not None:
                averaged.update_parameters(model)
        if schedule is not None:
            schedule.step()
        judged = model
        if averaged is not None:  # the averaged weights with the trained batch statistics
            judged = copy.deepcopy(model)
            judged.load_state_dict(
                {**model.state_dict(), **dict(averaged.module.named_parameters())}
            )
        judged.eval()
        with torch.no_grad():
            for prefix, (xs, ys) in (("", (x, y)), ("val_", (xv, yv))):
                logits = judged(xs)
                curves[prefix + "loss"].append(F.cross_entropy(logits, ys).item())
                accuracy = (logits.argmax(1) == ys).double().mean().item()
                curves[prefix + "accuracy"].append(accuracy)
    return curves


def assert_curves(history, expected: dict[str, list[float]], *, rtol: float = 1e-4) -> None:
    assert len(history) == len(expected["loss"])
    for name in COLUMNS:
        np.testing.assert_allclose(
            history.column(name), expected[name], rtol=rtol, atol=1e-6, err_msg=name
        )


BASE = RunConfig(width=16, epochs=8, train_per_class=5, batch_size=16)  # 50 = 3 x 16 + 2

CASES = {
    "adam_coupled_l2": BASE.replace(l2=1e-2, lr=3e-3),
    "adamw_decoupled_decay": BASE.replace(optimizer="adamw", weight_decay=0.2, lr=3e-3),
    "sgd_momentum_l2": BASE.replace(optimizer="sgd", lr=0.05, l2=1e-3),
    "sgd_weight_decay": BASE.replace(optimizer="sgd", lr=0.05, weight_decay=1e-2),
    "batchnorm": BASE.replace(batchnorm=True, lr=3e-3),
    "batchnorm_sgd": BASE.replace(batchnorm=True, optimizer="sgd", lr=0.05),
    "label_smoothing": BASE.replace(label_smoothing=0.2),
    "ema": BASE.replace(ema=0.9, lr=3e-3),
    "ema_batchnorm": BASE.replace(ema=0.8, batchnorm=True, lr=3e-3),
    "cosine_adamw": BASE.replace(cosine=True, optimizer="adamw", weight_decay=0.1, lr=1e-2),
    "cosine_sgd": BASE.replace(cosine=True, optimizer="sgd", lr=0.1),
    "batch_larger_than_training_set": BASE.replace(train_per_class=3, batch_size=64),
    "batch_larger_with_batchnorm": BASE.replace(train_per_class=3, batch_size=64, batchnorm=True),
    "one_sample_per_class": BASE.replace(train_per_class=1, batch_size=4),
    "one_sample_per_class_batchnorm": BASE.replace(
        train_per_class=1, batch_size=4, batchnorm=True
    ),
    "last_batch_of_one_batchnorm": BASE.replace(batch_size=7, batchnorm=True),  # 7 x 7 + 1
    "last_batch_of_one": BASE.replace(batch_size=7),
    "cnn_l2": BASE.replace(model="cnn", width=4, l2=1e-2, epochs=4),
    "cnn_batchnorm_last_batch_of_one": BASE.replace(
        model="cnn", width=4, batchnorm=True, batch_size=7, epochs=4
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_engines_match_plain_torch(data, name):
    config = CASES[name]
    expected = reference(config, data)
    sequential = run_configs([config], data, engine="sequential")[0]
    assert_curves(sequential.history, expected)
    # fused beside a member of other hyper-parameters and seed, of the same group key
    other = config.replace(seed=7, lr=config.lr * 2, l2=1e-3, weight_decay=0.0, width=8)
    fused = train_group([other, config], data)[1]
    assert fused.engine == "fused"
    assert_curves(fused.history, expected)


@pytest.mark.parametrize(
    "config",
    [
        BASE.replace(dropout=0.3, lr=3e-3),
        BASE.replace(dropout=0.5, batchnorm=True, depth=3, lr=3e-3),
        BASE.replace(mixup=0.4, lr=3e-3),
        BASE.replace(mixup=1.0, label_smoothing=0.1, dropout=0.2, train_per_class=8),
        BASE.replace(model="cnn", width=4, dropout=0.3, batchnorm=True, epochs=4),
    ],
    ids=["dropout", "dropout_batchnorm", "mixup", "mixup_smoothing_dropout", "cnn_dropout"],
)
def test_random_remedies_match_plain_torch_drawing_what_each_engine_draws(data, config):
    """The sequential engine draws dropout masks from the global generator under the run's
    seed (``nn.Dropout``) and mixup from its augmentation generator; a run fused alone
    draws masks ``rand >= p`` from the group's generator and mixup from the group's mixup
    generator (the group's seed is the run's)."""
    sequential = run_configs([config], data, engine="sequential")[0]
    expected = reference(config, data, mix=config.seed + AUGMENT_SEED_OFFSET)
    assert_curves(sequential.history, expected)
    fused = train_group([config], data)[0]
    if config.mixup and 10 * config.train_per_class % config.batch_size:
        return  # a fused partial batch draws partners for its padding too: other numbers
    expected = reference(
        config, data, masks=config.seed + AUGMENT_SEED_OFFSET, mix=config.seed + MIX_SEED_OFFSET
    )
    assert_curves(fused.history, expected)
