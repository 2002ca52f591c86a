"""No bias before batch norm, in every network nooverfit builds (as torchvision's): the
layers, the fused engine's zero bias slots, and weights saved with the old biases."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs
from nooverfit.engine.stacked import StackedNet
from nooverfit.models import build_model, cnn, mlp
from nooverfit.stale_bias import fold_stale_biases
from nooverfit.tabm import tabular_mlp

CPU = torch.device("cpu")

BUILDERS = {
    "mlp": lambda bn: mlp(12, 3, width=8, batchnorm=bn),
    "cnn one conv": lambda bn: cnn((1, 8, 8), 3, channels=4, batchnorm=bn),
    "cnn two convs": lambda bn: cnn((1, 8, 8), 3, channels=4, batchnorm=bn, convs=2),
    "tabm": lambda bn: tabular_mlp(12, 3, width=8, batchnorm=bn, members=4),
    "plr": lambda bn: tabular_mlp(12, 3, width=8, batchnorm=bn, periodic=True),
}


def _pairs(net: nn.Module) -> list[tuple[nn.Module, nn.Module]]:
    """Each weighted layer with the layer after it."""
    layers = list(net)
    return list(itertools.pairwise(layers))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_layers_before_batchnorm_have_no_bias_the_others_keep_theirs(name):
    with_bn, plain = BUILDERS[name](True), BUILDERS[name](False)
    norms = [(a, b) for a, b in _pairs(with_bn) if isinstance(b, nn.BatchNorm1d | nn.BatchNorm2d)]
    assert norms and all(a.bias is None for a, _ in norms)
    weighted = [m for m in plain if isinstance(m, nn.Linear | nn.Conv2d)]
    assert weighted and all(m.bias is not None for m in weighted)
    last = [m for m in with_bn if isinstance(m, nn.Linear | nn.Conv2d)][-1]
    assert name == "tabm" or last.bias is not None  # the output layer keeps its bias


def test_stacked_linear_holds_a_missing_bias_slot_at_exactly_zero():
    # one config with batch norm (no hidden bias), one without (bias), one stacked net
    configs = [RunConfig(width=8, batchnorm=True), RunConfig(width=8, seed=1)]
    nets = [build_model(c, (64,), 10) for c in configs]
    stacked = StackedNet(nets, dropout=[0.0, 0.0], device=CPU)
    assert stacked.bias_mask[0].flatten().tolist() == [0.0, 1.0]
    x = torch.rand(16, 64)
    valid, update = torch.ones(2, 16), torch.ones(2, dtype=torch.bool)
    out = stacked.forward(x, shared=True, train=True, valid=valid, update=update)
    out.sum().backward()
    grad = stacked.params["b0"].grad
    assert grad is not None
    assert torch.equal(grad[0], torch.zeros(8)) and grad[1].abs().sum() > 0
    nets[1].train()
    nets[1](x).sum().backward()
    torch.testing.assert_close(grad[1], nets[1][1].bias.grad)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_fused_bias_free_configs_match_sequential_and_save_no_bias(data, model):
    base = RunConfig(model=model, width=4, epochs=5, train_per_class=5, batch_size=16)
    configs = [
        base.replace(batchnorm=True),
        base.replace(seed=1),  # keeps its biases, in the same stacked group
        base.replace(batchnorm=True, width=3, l2=1e-2, seed=2),
    ]
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    assert all(r.engine == "fused" for r in fused)
    for s, f in zip(seq, fused, strict=True):
        for name in ("loss", "val_loss", "val_accuracy"):
            a, b = s.history.column(name), f.history.column(name)
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
        assert f.state.keys() == s.state.keys()
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)
    first = "1.bias" if model == "mlp" else "0.bias"  # the first hidden layer's
    assert first not in fused[0].state and first in fused[1].state


def _old_network(net: nn.Sequential) -> nn.Sequential:
    """``net`` as nooverfit built it before: a bias on each layer before batch norm."""
    layers = []
    for m in copy.deepcopy(net):
        if isinstance(m, nn.Linear) and m.bias is None:
            m = nn.Linear(m.in_features, m.out_features)
        elif isinstance(m, nn.Conv2d) and m.bias is None:
            m = nn.Conv2d(m.in_channels, m.out_channels, 3, padding=1)
        layers.append(m)
    return nn.Sequential(*layers)


@pytest.mark.parametrize("name", ["mlp", "cnn one conv", "tabm"])
def test_weights_saved_with_biases_before_batchnorm_load_as_the_same_network(name):
    torch.manual_seed(0)
    new = BUILDERS[name](True)
    old = _old_network(new)
    x = torch.rand(32, 1, 8, 8) if name.startswith("cnn") else torch.rand(32, 12)
    old.train()
    for _ in range(3):  # running statistics that hold the biases
        old(x)
    with torch.no_grad():
        for m in old:
            if isinstance(m, nn.Linear | nn.Conv2d):
                m.bias.uniform_(-1, 1)
    saved = old.state_dict()
    with pytest.raises(RuntimeError, match="Unexpected key"):
        new.load_state_dict(saved)  # the keys changed once
    folded = fold_stale_biases(new, saved)
    new.load_state_dict(folded)
    assert saved.keys() - folded.keys()  # not changed in place
    old.eval(), new.eval()
    torch.testing.assert_close(new(x), old(x), atol=1e-5, rtol=1e-5)
    old.train(), new.train()  # in training, batch norm cancels the bias
    torch.testing.assert_close(new(x), old(x), atol=1e-5, rtol=1e-5)


def test_fold_leaves_current_weights_alone():
    net = mlp(12, 3, width=8, batchnorm=True)
    state = net.state_dict()
    folded = fold_stale_biases(net, state)
    assert folded.keys() == state.keys()
    assert all(folded[k] is state[k] for k in state)


def test_a_study_folder_saved_with_the_old_biases_predicts_the_same(tmp_path):
    import hashlib
    import json

    from _saved_study import write_csv
    from nooverfit.data import load_dataset
    from nooverfit.data.split import split_dataset
    from nooverfit.data.tensors import prepare
    from nooverfit.saved_model import CARD, load_study_model
    from nooverfit.studies.compare import compare
    from nooverfit.study_files import write_study

    rows = write_csv(tmp_path / "t.csv")
    dataset = load_dataset(f"csv:{tmp_path / 't.csv'}", target="label")
    data = prepare(dataset, split_dataset(dataset, seed=0), device="cpu")
    write_study(compare(data, RunConfig(width=8, epochs=3, batchnorm=True)), tmp_path / "s")
    weights, card = tmp_path / "s" / "best_model.pt", tmp_path / "s" / CARD
    expected = load_study_model(tmp_path / "s").predict_proba(rows)
    # the same network as an older nooverfit saved it: hidden biases, running means with them
    state = torch.load(weights, weights_only=True)
    gen = torch.Generator().manual_seed(0)
    for i in (1, 4):  # the hidden Linears of Flatten, [Linear, BN, ReLU] x 2, Linear
        bias = torch.rand(8, generator=gen) - 0.5
        state[f"{i}.bias"] = bias
        state[f"{i + 1}.running_mean"] = state[f"{i + 1}.running_mean"] + bias
    torch.save(state, weights)
    blob = json.loads(card.read_text())
    blob["weights"]["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert blob["format"] == 2
    blob["format"] = 1  # as its card said then
    card.write_text(json.dumps(blob))
    got = load_study_model(tmp_path / "s").predict_proba(rows)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
