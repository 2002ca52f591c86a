"""A user's own ``nn.Module`` on the fused engine (``torch.func``) against the sequential
engine."""

import numpy as np
import pytest
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs
from nooverfit.engine.functional import FunctionalNet


class Residual(nn.Module):
    """A block the built-in models do not have: x + MLP(LayerNorm(x))."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.norm(x))


def factory(config: RunConfig) -> nn.Module:
    layers = [nn.Flatten(), nn.Linear(64, config.width), Residual(config.width, config.dropout)]
    if config.batchnorm:
        layers.append(nn.BatchNorm1d(config.width))
    return nn.Sequential(*layers, nn.Linear(config.width, 10))


def _close(a, b):
    assert len(a) == len(b) and a.stop_reason == b.stop_reason and a.kept_epoch == b.kept_epoch
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(b.column(name), a.column(name), rtol=1e-4, atol=1e-6)


def test_functional_fused_matches_sequential_over_20_epochs(data):
    base = RunConfig(width=16, epochs=20, train_per_class=5, batch_size=16)
    configs = [
        base.replace(l2=1e-2),
        base.replace(weight_decay=0.1, lr=3e-3, optimizer="adamw", seed=1),
        base.replace(train_per_class=3, seed=2),  # its own group: another training size
        base.replace(early_stopping="patience:2", lr=3e-2, seed=3),
        base.replace(width=8, seed=4),  # another structure: another group
    ]
    fused = run_configs(configs, data, engine="fused", factory=factory)
    seq = run_configs(configs, data, engine="sequential", factory=factory)
    assert {r.engine for r in fused} == {"fused"}
    for f, s in zip(fused, seq, strict=True):
        _close(s.history, f.history)
        assert f.state.keys() == s.state.keys()
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)
    model = factory(configs[0])
    model.load_state_dict(fused[0].state)  # strict: the user's own keys and shapes


def test_functional_fused_dropout_draws_per_config_masks(data):
    base = RunConfig(width=16, epochs=6, train_per_class=10, batch_size=16, lr=1e-2)
    configs = [base.replace(dropout=0.3, seed=s) for s in range(3)] + [base]
    fused = run_configs(configs, data, engine="fused", factory=factory)
    plain = run_configs([base], data, engine="sequential", factory=factory)[0]
    _close(plain.history, fused[3].history)  # no dropout: exact despite the others' masks
    losses = {tuple(r.history.loss) for r in fused[:3]}
    assert len(losses) == 3  # own seeds and masks
    assert all(r.history.val_accuracy[-1] > 0.5 for r in fused)  # learned (10 classes)
    again = run_configs(configs, data, engine="fused", factory=factory)
    assert [r.history.loss for r in again] == [r.history.loss for r in fused]  # seeded


def test_functional_batchnorm_module_fused_matches_sequential(data):
    # 25 training images in batches of 16: every epoch ends on a partial batch of 9
    base = RunConfig(width=16, epochs=6, train_per_class=None, train_size=25, batch_size=16)
    configs = [
        base.replace(batchnorm=True),
        base.replace(batchnorm=True, l2=1e-2, seed=1),
        base.replace(batchnorm=True, epochs=3, seed=2),  # stops first: keeps its statistics
        base.replace(batchnorm=True, early_stopping="patience:1", lr=3e-2, seed=3),
    ]
    fused = run_configs(configs, data, engine="fused", factory=factory)
    seq = run_configs(configs, data, engine="sequential", factory=factory)
    assert {r.engine for r in fused} == {"fused"}
    for f, s in zip(fused, seq, strict=True):
        _close(s.history, f.history)
        for key, value in s.state.items():  # running statistics included
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0, msg=key)
    with pytest.raises(ValueError, match="same structure"):
        small = RunConfig(width=8)
        FunctionalNet(
            [factory(small), factory(small.replace(width=16))], device=torch.device("cpu")
        )


def test_functional_dropout_rates_share_a_group(data):
    base = RunConfig(width=16, epochs=3, train_per_class=5, batch_size=16)
    rates = [0.0, 0.2, 0.5]
    net = FunctionalNet(
        [factory(base.replace(dropout=p)) for p in rates], device=torch.device("cpu")
    )
    assert net.buffers["2.mlp.2.rate"].tolist() == pytest.approx(rates)
    fused = run_configs([base.replace(dropout=p) for p in rates], data, factory=factory,
                        engine="fused")  # fmt: skip
    plain = run_configs([base], data, engine="sequential", factory=factory)[0]
    _close(plain.history, fused[0].history)  # rate 0 in a group with others: exact
