"""Runs on different splits in one fused group, and the GPU's once-per-epoch host check."""

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.engine import group as group_module
from nooverfit.engine import run_configs
from nooverfit.engine.feed import Feed, per_run


@pytest.fixture(scope="module")
def splits():
    return [load_split("digits", seed=s, device="cpu") for s in (0, 1)]


def _assert_histories_close(a, b):
    assert len(a) == len(b) and a.stop_reason == b.stop_reason
    assert a.kept_epoch == b.kept_epoch
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(b.column(name), a.column(name), rtol=1e-4, atol=1e-6)


def test_feed_shifts_each_run_into_its_own_block(splits):
    first, second = splits
    config = RunConfig(train_per_class=2)
    feed = Feed.of([first, second, first])
    assert feed.block == (0, 1, 0) and feed.offsets == (0, len(first.y))
    torch.testing.assert_close(feed.x[feed.val_index(1)], second.x[second.val_index])
    own = first.train_index(train_per_class=2)
    torch.testing.assert_close(feed.y[feed.train_index(2, config)], first.y[own])
    assert Feed.of([first, first]).x is first.x  # one split: no copy


def test_feed_rows_gathers_like_indexing(splits):
    feed = Feed.of(list(splits))
    for index in (torch.tensor([5, 0, 5, 3000]), torch.randint(0, len(feed.y), (3, 7))):
        rows = feed.rows(index)
        assert rows.shape == (*index.shape, 1, 8, 8)
        torch.testing.assert_close(rows, feed.x[index], rtol=0, atol=0)


def test_per_run_rejects_wrong_count_and_mixed_data(splits):
    assert per_run(splits[0], 3) == [splits[0]] * 3
    with pytest.raises(ValueError, match="one SplitData per run"):
        per_run(splits, 3)
    tabular = load_split("synthetic", seed=0, device="cpu")
    with pytest.raises(ValueError, match="one shape"):
        per_run([splits[0], tabular], 2)


def test_fused_group_of_two_splits_matches_sequential_on_each(splits):
    base = RunConfig(width=16, epochs=12, train_per_class=5, batch_size=16)
    configs = [
        base.replace(l2=1e-2),
        base.replace(seed=1),
        base.replace(seed=1, early_stopping="patience:2", lr=3e-2),
        base.replace(seed=1, train_per_class=3, batchnorm=True, optimizer="sgd", lr=0.05),
    ]
    datas = [splits[0], splits[1], splits[1], splits[0]]
    fused = run_configs(configs[:3], datas[:3], engine="fused")
    seq = run_configs(configs[:3], datas[:3], engine="sequential")
    assert len({r.engine for r in fused}) == 1
    for f, s in zip(fused, seq, strict=True):
        _assert_histories_close(s.history, f.history)
    sgd = run_configs(configs[3:], datas[3:], engine="fused")[0]  # other group key
    _assert_histories_close(run_configs(configs[3:], datas[3:])[0].history, sgd.history)


def test_fused_checks_divergence_once_per_epoch_like_a_gpu(monkeypatch, splits):
    """The GPU path (no host check per step) gives the same curves for healthy runs and
    stops a diverging one as diverged in the same epoch."""
    monkeypatch.setattr(group_module, "_host_checks_each_step", lambda device: False)
    base = RunConfig(width=16, epochs=6, train_per_class=5, batch_size=16, optimizer="sgd")
    configs = [base.replace(lr=0.05), base.replace(lr=1e8, seed=5), base.replace(lr=0.01)]
    fused = run_configs(configs, splits[0], engine="fused")
    seq = run_configs(configs, splits[0], engine="sequential")
    for i in (0, 2):
        _assert_histories_close(seq[i].history, fused[i].history)
    assert fused[1].history.stop_reason == seq[1].history.stop_reason == "diverged"
    assert len(fused[1].history) == len(seq[1].history)


def test_fused_group_drops_finished_configs_and_still_matches_sequential(monkeypatch, splits):
    """Configs that end at different epochs leave the group (it is rebuilt with the rest)
    while every config's curve and weights stay the sequential engine's."""
    monkeypatch.setattr(group_module, "COMPACT_SHARE", 2)  # compact when half are done
    selected = []
    original = group_module.StackedNet.select
    monkeypatch.setattr(
        group_module.StackedNet,
        "select",
        lambda self, rows: (selected.append(len(rows)), original(self, rows))[1],
    )
    base = RunConfig(width=16, train_per_class=5, batch_size=25, optimizer="sgd", lr=0.05)
    configs = [
        base.replace(epochs=3, batchnorm=True),
        base.replace(epochs=9, seed=1, batchnorm=True, l2=1e-3),
        base.replace(epochs=5, seed=2),
        base.replace(epochs=9, seed=3, weight_decay=1e-2),
        base.replace(epochs=2, seed=4, train_per_class=3),
        base.replace(epochs=7, seed=5, early_stopping="patience:1", lr=0.2),
    ]
    datas = [splits[i % 2] for i in range(len(configs))]
    fused = run_configs(configs, datas, engine="fused")
    seq = run_configs(configs, datas, engine="sequential")
    assert selected  # the group was compacted at least once
    for f, s in zip(fused, seq, strict=True):
        _assert_histories_close(s.history, f.history)
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)
