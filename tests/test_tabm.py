"""TabM-mini members and PLR embeddings (``nooverfit.tabm``): shapes, parameter counts
against a hand count, the members' mean, seeding, the fused engine against the
sequential reference, and a study's saved network predicting as the study tested it."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
import torch

from _saved_study import write_csv
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.data.tensors import prepare
from nooverfit.engine import run_configs
from nooverfit.models import build_model, mlp, network_for
from nooverfit.studies.compare import compare
from nooverfit.study_files import write_study
from nooverfit.tabm import (
    EMBEDDING,
    FREQUENCIES,
    MemberMean,
    PeriodicEmbedding,
    functional,
    tabular_mlp,
)
from test_saved_model import assert_predicts_as_tested


def _hand_count(f: int, c: int, *, width: int, depth: int, k: int, plr: bool) -> int:
    """Parameters counted by hand: PLR's frequencies (F x m) and shared linear (2m -> d),
    the members' input signs (k x in), the shared hidden layers, k output layers."""
    n, size = 0, f
    if plr:
        n += f * FREQUENCIES + (2 * FREQUENCIES + 1) * EMBEDDING
        size = f * EMBEDDING
    if k > 1:
        n += k * size
    for _ in range(depth):
        n += (size + 1) * width
        size = width
    return n + (k if k > 1 else 1) * (size + 1) * c


@pytest.mark.parametrize(("k", "plr"), [(1, True), (4, False), (8, True)])
def test_tabular_mlp_shapes_and_parameter_counts(k, plr):
    net = tabular_mlp(9, 3, width=32, depth=2, members=k, periodic=plr)
    out = net(torch.randn(5, 9))
    assert out.shape == (5, 3)
    count = sum(p.numel() for p in net.parameters())
    assert count == _hand_count(9, 3, width=32, depth=2, k=k, plr=plr)


def test_without_members_or_plr_it_is_the_plain_mlp():
    torch.manual_seed(0)
    plain = mlp(6, 2, width=8)
    torch.manual_seed(0)
    same = tabular_mlp(6, 2, width=8)
    x = torch.randn(4, 6)
    assert [type(m) for m in same] == [type(m) for m in plain]
    torch.testing.assert_close(same(x), plain(x), rtol=0, atol=0)


def test_member_mean_is_the_mean_of_log_probabilities():
    logits = torch.randn(5, 4, 3)  # (B, k, C)
    out = MemberMean()(logits)
    expected = torch.stack([logits[:, i].log_softmax(-1) for i in range(4)]).mean(0)
    torch.testing.assert_close(out, expected)
    # the members' normalized geometric mean of probabilities
    geo = torch.exp(expected) / torch.exp(expected).sum(-1, keepdim=True)
    torch.testing.assert_close(out.softmax(-1), geo)


def test_plr_embeds_each_feature_with_its_own_frequencies():
    emb = PeriodicEmbedding(3, 4, 5, sigma=1.0)
    x = torch.randn(7, 3)
    out = emb(x)
    assert out.shape == (7, 15)
    j = 1  # feature j's block, by hand
    angle = 2 * math.pi * emb.frequency[j] * x[:, j : j + 1]  # (B, m)
    by_hand = torch.relu(emb.linear(torch.cat([angle.cos(), angle.sin()], -1)))
    torch.testing.assert_close(out[:, 5:10], by_hand)
    with pytest.raises(ValueError, match="sigma"):
        PeriodicEmbedding(3, sigma=0.0)


def test_config_validates_and_seeds_the_networks():
    with pytest.raises(ValueError, match="members"):
        RunConfig(members=0)
    with pytest.raises(ValueError, match="mlp"):
        RunConfig(model="cnn", periodic=True)
    config = RunConfig(width=16, members=4, periodic=True)
    assert functional(config) and not functional(RunConfig())
    a, b = (build_model(config, (6,), 2) for _ in range(2))
    other = build_model(config.replace(seed=1), (6,), 2)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), name  # same seed, same weights
    assert all(
        not torch.equal(p, r) for p, r in zip(a.parameters(), other.parameters(), strict=True)
    )
    # runs before these fields keep their keys
    assert RunConfig(width=16).key == RunConfig(width=16, members=1, periodic=False).key


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("tabm") / "t.csv"
    rows = write_csv(path)
    dataset = load_dataset(f"csv:{path}", target="label")
    return rows, dataset, prepare(dataset, split_dataset(dataset, seed=0), device="cpu")


def test_fused_members_and_plr_match_the_sequential_engine(table):
    _, _, data = table
    base = RunConfig(width=16, epochs=5, batch_size=16)
    configs = [base.replace(members=4), base.replace(members=4, seed=1, weight_decay=0.1)]
    configs += [base.replace(periodic=True), base.replace(periodic=True, members=2, seed=2)]
    fused = run_configs(configs, data, engine="fused", factory=partial(network_for, data=data))
    seq = run_configs(configs, data, engine="sequential")
    for f, s in zip(fused, seq, strict=True):
        np.testing.assert_allclose(f.history.loss, s.history.loss, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(f.history.val_accuracy, s.history.val_accuracy, atol=1e-6)
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0, msg=key)
    again = run_configs(configs, data, engine="fused", factory=partial(network_for, data=data))
    assert [r.history.loss for r in again] == [r.history.loss for r in fused]  # seeded


def test_a_studys_saved_member_network_predicts_as_the_study_tested_it(table, tmp_path):
    rows, _, data = table
    candidate = RunConfig(width=16, epochs=8, members=4, periodic=True, dropout=0.1)
    result = compare(data, candidate)
    assert result.recommended.config.replace(seed=0) == candidate.replace(seed=0)
    write_study(result, tmp_path)
    assert_predicts_as_tested(tmp_path, rows, data, candidate)
