"""A user's module made of the built-in models' layers trains as a built-in network:
the same numbers as nooverfit's own MLP/CNN (bitwise) and as plain PyTorch (the
sequential engine) within float32 tolerance."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs
from nooverfit.engine.chain import as_chain, chains_for
from nooverfit.engine.functional import FunctionalNet, stack_modules
from nooverfit.engine.stacked import StackedNet
from nooverfit.models import cnn, mlp

IMAGE = (1, 8, 8)


class Net(nn.Module):
    """A CNN written the way tutorials write one: functional calls, ``x.view``, one
    Dropout module used twice."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * width * 4, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(F.max_pool2d(F.relu(self.conv1(x)), 2))
        x = self.drop(F.max_pool2d(self.conv2(x).relu(), 2))
        return self.fc(x.view(x.size(0), -1))


def net_factory(config: RunConfig) -> nn.Module:
    return Net(config.width, config.dropout)


def cnn_factory(config: RunConfig) -> nn.Module:
    """The built-in CNN, built by the user: same layers, same initialization."""
    width, dropout, batchnorm = config.width, config.dropout, config.batchnorm
    return cnn(IMAGE, 10, channels=width, dropout=dropout, batchnorm=batchnorm)


def mlp_factory(config: RunConfig) -> nn.Module:
    return mlp(64, 10, width=config.width, dropout=config.dropout, batchnorm=config.batchnorm)


def _same(a, b):
    assert a.history.loss == b.history.loss and a.history.val_loss == b.history.val_loss
    assert a.history.stop_reason == b.history.stop_reason
    assert a.state.keys() == b.state.keys()
    for key, value in a.state.items():
        assert torch.equal(value, b.state[key]), key


@pytest.mark.parametrize(("model", "factory"), [("cnn", cnn_factory), ("mlp", mlp_factory)])
def test_chain_trains_bitwise_as_the_builtin_network(data, model, factory):
    base = RunConfig(model=model, width=8, epochs=4, train_per_class=10, batch_size=16)
    configs = [
        base.replace(l2=1e-3, seed=1),
        base.replace(dropout=0.3),
        base.replace(batchnorm=True, seed=2),
        base.replace(width=4, early_stopping="patience:1", lr=3e-2),
        base.replace(augment=1.0, seed=3),
    ]
    builtin = run_configs(configs, data, engine="fused", max_group=8)
    user = run_configs(configs, data, engine="fused", max_group=8, factory=factory)
    for b, u in zip(builtin, user, strict=True):
        assert u.engine == "fused"
        _same(b, u)
    net = factory(configs[2])
    net.load_state_dict(user[2].state)  # strict: the user's own keys


def test_chain_of_a_custom_class_matches_plain_pytorch(data):
    base = RunConfig(model="cnn", width=6, epochs=8, train_per_class=5, batch_size=16)
    configs = [base.replace(l2=1e-2), base.replace(seed=1, lr=3e-3), base.replace(width=3)]
    fused = run_configs(configs, data, engine="fused", factory=net_factory)
    seq = run_configs(configs, data, engine="sequential", factory=net_factory)
    for f, s in zip(fused, seq, strict=True):
        assert f.engine == "fused"
        for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
            np.testing.assert_allclose(f.history.column(name), s.history.column(name), rtol=1e-4)
        assert f.state.keys() == s.state.keys() == set(net_factory(f.config).state_dict())
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)


class Torchvision(nn.Module):
    """Convolutions without bias before batch norm, as torchvision's models are written."""

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(
            *(nn.Conv2d(1, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()),
            nn.MaxPool2d(2),
            *(nn.Conv2d(w, 2 * w, 3, padding=1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU()),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            *(nn.Flatten(), nn.Linear(8 * w, 16), nn.BatchNorm1d(16), nn.ReLU()),
            *(nn.Dropout(dropout), nn.Linear(16, 10)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def test_layers_without_bias_train_stacked_as_plain_pytorch(data):
    def factory(config):
        return Torchvision(config.width, config.dropout)

    base = RunConfig(model="cnn", width=4, epochs=5, train_per_class=20, batch_size=16)
    configs = [base, base.replace(seed=1, l2=1e-2), base.replace(width=3)]
    nets = [factory(c) for c in configs]
    assert isinstance(stack_modules(nets, IMAGE, device=torch.device("cpu")), StackedNet)
    fused = run_configs(configs, data, engine="fused", factory=factory)
    seq = run_configs(configs, data, engine="sequential", factory=factory)
    for f, s in zip(fused, seq, strict=True):
        # batch norm over batches of 16 amplifies float32 rounding (2e-4 of the loss here;
        # 8e-4 for the same module with conv biases, which Adam steps on rounding noise)
        for name in ("loss", "val_loss"):
            np.testing.assert_allclose(f.history.column(name), s.history.column(name), rtol=1e-3)
        assert f.state.keys() == s.state.keys() == set(factory(f.config).state_dict())
        assert "features.0.bias" not in f.state and "head.1.bias" in f.state
        for key, value in s.state.items():
            # the linear layer's bias feeds batch norm: Adam steps on its rounding noise,
            # which the norm's running mean absorbs. Adam turns a rounding difference on a
            # gradient near zero into up to one step (lr) on its weight: on an AMD EPYC the
            # first config's weights differ by up to 8.4e-4 at lr 1e-3 (mean 1e-5; the other
            # two agree to 1e-7), on an Intel Xeon under 1e-4, on an AVX2-only AMD EPYC by
            # 1.24e-3 (features.5.bias, a batch norm's shift; session 30): a bound of two
            # steps; a stacking bug moves the losses by 2e-2, which the histories above
            # would catch
            if key not in ("head.1.bias", "head.2.running_mean"):
                atol = 2 * f.config.lr
                torch.testing.assert_close(f.state[key], value, atol=atol, rtol=1e-4)


def test_chain_maps_layers_and_names():
    chain = as_chain(Net(4, 0.25), IMAGE)
    assert chain is not None and chain.dropout == 0.25
    assert chain.prefixes == ("conv1", "", "", "drop", "conv2", "", "", "drop", "", "fc")
    nets = [Net(4, 0.25), Net(8, 0.0)]  # widths and rates differ: one stacked net
    assert isinstance(stack_modules(nets, IMAGE, device=torch.device("cpu")), StackedNet)


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        return self.b(x + torch.relu(self.a(x)))


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.relu(self.a(torch.relu(self.a(x.flatten(1))))))


def _frozen() -> nn.Module:
    net = mlp(64, 10, width=8)
    net[1].weight.requires_grad_(False)
    return net


REFUSED = {
    "residual sum": Residual,
    "weights used twice": Shared,
    "frozen layer": _frozen,
    "GELU": lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.GELU(), nn.Linear(8, 10)),
    "two dropout rates": lambda: nn.Sequential(
        nn.Flatten(), nn.Linear(64, 8), nn.Dropout(0.1), nn.Linear(8, 8), nn.Dropout(0.2)
    ),
    "input dropout": lambda: nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(64, 10)),
    "linear on images": lambda: nn.Sequential(nn.Linear(8, 10)),
    "strided conv": lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.Flatten(), nn.Linear(64, 10)
    ),
    "batch norm momentum": lambda: nn.Sequential(
        nn.Flatten(), nn.Linear(64, 8), nn.BatchNorm1d(8, momentum=0.01), nn.Linear(8, 10)
    ),
    "softmax output": lambda: nn.Sequential(nn.Flatten(), nn.Linear(64, 10), nn.Softmax(1)),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_chain_refuses_what_the_stacked_layers_do_not_compute(name):
    module = REFUSED[name]()
    assert as_chain(module, IMAGE) is None
    if name not in ("frozen layer", "batch norm momentum"):  # not for torch.func either
        net = stack_modules([module], IMAGE, device=torch.device("cpu"))
        assert isinstance(net, FunctionalNet)


def test_chains_need_one_skeleton():
    small = cnn(IMAGE, 10, channels=4)
    other = nn.Sequential(
        nn.Conv2d(1, 4, 5, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(144, 10)
    )
    assert as_chain(other, IMAGE) is not None
    assert chains_for([small, other], IMAGE) is None
    assert chains_for([small, cnn(IMAGE, 10, channels=8, batchnorm=True)], IMAGE) is not None


class Switch(nn.Module):
    """A forward that branches on a plain attribute repr does not print."""

    def __init__(self, skip: bool) -> None:
        super().__init__()
        self.skip = skip
        self.a, self.b = nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        h = torch.relu(self.a(x))
        return self.b(h + x if self.skip else h)


def test_chain_cache_tells_structures_apart():
    for _ in range(2):  # the second time from the cache
        assert as_chain(Switch(False), IMAGE) is not None
        assert as_chain(Switch(True), IMAGE) is None
        frozen = _frozen()
        assert as_chain(frozen, IMAGE) is None and as_chain(mlp(64, 10, width=8), IMAGE)
        again = as_chain(Net(4, 0.5), IMAGE)
        assert again is not None and again.dropout == 0.5
        assert again.net[0] is not as_chain(Net(4, 0.5), IMAGE).net[0]  # each its own layers


class Tutorial(nn.Module):
    """``F.dropout(x, p, self.training)`` and ``x.view(-1, features)``."""

    def __init__(self, training_flag: bool = True) -> None:
        super().__init__()
        self.follow = training_flag
        self.a, self.b = nn.Linear(64, 32), nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.a(x.view(-1, 64)))
        return self.b(F.dropout(x, 0.4, self.training if self.follow else True))


def test_chain_takes_functional_dropout_only_when_it_follows_the_mode():
    chain = as_chain(Tutorial(), IMAGE)
    assert chain is not None and chain.dropout == pytest.approx(0.4)
    assert as_chain(Tutorial(training_flag=False), IMAGE) is None  # drops in eval too
