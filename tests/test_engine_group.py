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
