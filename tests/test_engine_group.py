import pytest
import torch
import torch.nn.functional as F

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
