import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs, train_group
from nooverfit.engine.group import cross_entropy


@pytest.mark.parametrize("transposed", [False, True])
def test_cross_entropy_per_sample_in_either_layout(transposed):
    """Logits stored as (K, B, C) or, as a narrow output layer leaves them, as (K, C, B):
    losses and gradients equal torch's cross-entropy on each config's rows."""
    gen = torch.Generator().manual_seed(0)
    k, b, c = 3, 5, 10
    shape = (k, c, b) if transposed else (k, b, c)
    base = torch.randn(*shape, generator=gen).requires_grad_(True)
    logits = base.mT if transposed else base  # (K, B, C) either way
    y = torch.randint(0, c, (k, b), generator=gen)
    weights = torch.rand(k, b, generator=gen)
    ce = cross_entropy(logits, y)
    (ce * weights).sum().backward()

    ref = logits.detach().contiguous().requires_grad_(True)
    expected = F.cross_entropy(ref.flatten(0, 1), y.flatten(), reduction="none").view(k, b)
    (expected * weights).sum().backward()
    torch.testing.assert_close(ce, expected)
    assert base.grad is not None and ref.grad is not None
    grad = base.grad.mT if transposed else base.grad
    torch.testing.assert_close(grad, ref.grad)


def test_a_diverged_run_keeps_its_best_weights_under_early_stopping_as_fit_does(data):
    """fit restores early stopping's best epoch also after a run diverges (those are the
    last finite weights it kept); a fused run must keep the same epoch, not the last."""
    base = RunConfig(width=16, epochs=10, train_per_class=5, batch_size=16, optimizer="sgd")
    diverging = base.replace(lr=0.05, l2=100.0, early_stopping="patience:5")  # at epoch 2
    configs = [diverging, base.replace(lr=0.05, seed=1)]
    seq = run_configs(configs, data, engine="sequential")
    fused = train_group(configs, data)
    for s, f in zip(seq, fused, strict=True):
        assert f.history.stop_reason == s.history.stop_reason
        assert f.history.kept_epoch == s.history.kept_epoch
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, rtol=1e-4, atol=1e-4)
    assert seq[0].history.stop_reason == "diverged" and seq[0].history.kept_epoch == 0


def _user_module(config: RunConfig) -> nn.Module:
    """A user's module with batch norm over features that is no chain of the built-in
    layers (a residual block), so the fused engine trains it through ``torch.func``."""

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Linear(config.width, config.width)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + torch.relu(self.inner(x))

    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, config.width, bias=False),
        nn.BatchNorm1d(config.width),
        Block(),
        nn.Linear(config.width, 10),
    )


@pytest.mark.parametrize("factory", [None, _user_module], ids=["built_in", "user_module"])
def test_a_last_batch_of_one_sample_is_skipped_under_batchnorm_only(data, factory):
    """50 samples in batches of 7 leave a last batch of one, on which batch norm over
    features cannot train (torch refuses it): both engines skip it, and only for the runs
    that normalize, so a plain run of the same batch stream still trains on it."""
    base = RunConfig(width=16, epochs=4, train_per_class=5, batch_size=7)
    configs = [base.replace(batchnorm=True), base, base.replace(batchnorm=True, seed=1)]
    seq = run_configs(configs, data, engine="sequential", factory=factory)
    fused = train_group(configs, data, factory=factory)
    for s, f in zip(seq, fused, strict=True):
        for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
            np.testing.assert_allclose(
                f.history.column(name), s.history.column(name), rtol=1e-4, atol=1e-6
            )
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)


@pytest.mark.parametrize("engine", ["sequential", "fused"])
def test_batchnorm_over_features_refuses_batches_of_one(data, engine):
    config = RunConfig(width=8, epochs=1, train_per_class=2, batch_size=1, batchnorm=True)
    with pytest.raises(ValueError, match="batch_size >= 2"):
        run_configs([config, config.replace(seed=1)], data, engine=engine)
    cnn = config.replace(model="cnn", width=2)  # a map has many values per channel
    assert len(run_configs([cnn], data, engine=engine)[0].history) == 1


def _same(a, b) -> bool:
    """Whether two results hold the same numbers, bit for bit."""
    ha, hb = a.history, b.history
    return (
        all(ha.column(n) == hb.column(n) for n in ("loss", "accuracy", "val_loss", "val_accuracy"))
        and (ha.stop_reason, ha.kept_epoch) == (hb.stop_reason, hb.kept_epoch)
        and a.state.keys() == b.state.keys()
        and all(torch.equal(a.state[k], b.state[k]) for k in a.state)
    )


ISOLATED = RunConfig(width=16, epochs=6, train_per_class=5, batch_size=16, lr=3e-3)


@pytest.mark.parametrize(
    "change",
    [
        {"lr": 3e-2},
        {"l2": 0.1},
        {"weight_decay": 0.1},
        {"ema": 0.5},
        {"cosine": True},
        {"width": 12},  # narrower: the group's padding is unchanged
        {"epochs": 2},  # ends early: a quarter of the group, so it leaves the group
        {"early_stopping": "patience:1", "lr": 0.1},
    ],
    ids=lambda c: ",".join(c),
)
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_changing_one_member_leaves_the_others_bit_identical(data, change, optimizer):
    """Members of one group share every batch, product and optimizer call; the
    hyper-parameters of one (its learning rate, decay, schedule, length, divergence)
    must not move another's numbers by a single bit. Dropout, batch norm and weight
    averaging members are among the others (their random draws come from the group's
    generator, which a changed member with the same draws leaves alone)."""
    base = ISOLATED.replace(optimizer=optimizer, lr=0.05 if optimizer == "sgd" else 3e-3)
    group = [
        base.replace(l2=1e-3),
        base.replace(seed=1),  # the member that changes
        base.replace(seed=2, batchnorm=True),
        base.replace(seed=3, dropout=0.3, ema=0.9),
    ]
    before = train_group(group, data)
    changed = list(group)
    changed[1] = group[1].replace(**change)
    after = train_group(changed, data)
    assert not _same(before[1], after[1])
    for i in (0, 2, 3):
        assert _same(before[i], after[i]), group[i]


def test_a_member_that_changes_label_smoothing_leaves_the_others_equal_to_rounding(data):
    """Smoothing one member adds a term to the group's loss whose gradient for the other
    members is exactly 0, but it changes the memory layout of the logits' gradient, and
    with it the rounding of later products: the others move in their last bits only."""
    group = [ISOLATED, ISOLATED.replace(seed=1), ISOLATED.replace(seed=2, batchnorm=True)]
    before = train_group(group, data)
    after = train_group([group[0], group[1].replace(label_smoothing=0.2), group[2]], data)
    for i in (0, 2):
        for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
            a, b = before[i].history.column(name), after[i].history.column(name)
            np.testing.assert_allclose(b, a, rtol=1e-7, atol=0)
        for key, value in before[i].state.items():
            torch.testing.assert_close(after[i].state[key], value, rtol=0, atol=1e-6)


@pytest.mark.parametrize("gpu_mode", [False, True], ids=["cpu_mode", "gpu_mode"])
def test_a_diverging_member_poisons_no_other_and_is_reported(data, caplog, monkeypatch, gpu_mode):
    """A member whose loss turns NaN stops as "diverged" (logged), while the others train
    on: the members without batch norm bit for bit as beside a finite member, those with
    it to rounding (once a member is lost, batch norm leaves torch's kernel for the masked
    computation, which rounds otherwise). In the GPU's mode the host learns of the
    divergence only at the end of the epoch."""
    if gpu_mode:
        monkeypatch.setattr("nooverfit.engine.group._host_checks_each_step", lambda dev: False)
    base = ISOLATED
    group = [
        base.replace(l2=1e-3),
        base.replace(seed=1),  # diverges below
        base.replace(seed=2, dropout=0.3, ema=0.9),
        base.replace(seed=3, batchnorm=True),
    ]
    before = train_group(group, data)
    diverging = group[1].replace(lr=1e30, label="diverging")
    with caplog.at_level("WARNING", logger="nooverfit.engine.group"):
        after = train_group([group[0], diverging, *group[2:]], data)
    assert after[1].history.stop_reason == "diverged" and len(after[1].history) == 1
    assert "run diverging diverged at epoch 0" in caplog.text
    sequential = run_configs([diverging], data, engine="sequential")[0].history
    assert (sequential.stop_reason, len(sequential)) == ("diverged", 1)
    assert _same(before[0], after[0]) and _same(before[2], after[2])
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        a, b = before[3].history.column(name), after[3].history.column(name)
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-7)
    for key, value in before[3].state.items():
        torch.testing.assert_close(after[3].state[key], value, rtol=1e-4, atol=1e-5)
