"""The fused engine on VGG-style CNN blocks (``convs=2``, no bias before batch norm) and
with cutout rows, against the sequential engine."""

from __future__ import annotations

import numpy as np
import torch

from nooverfit.config import RunConfig
from nooverfit.engine import run_configs


def _curves(results):
    return [np.array(r.history.val_loss) for r in results]


def test_fused_two_conv_blocks_match_sequential(data):
    base = RunConfig(
        model="cnn", width=4, depth=2, convs=2, epochs=5, train_per_class=4, batch_size=16
    )
    # batch norm (bias-free convolutions) and plain rows (with biases) in one group
    configs = [base, base.replace(batchnorm=True, seed=1), base.replace(batchnorm=True, width=2)]
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    assert all(r.engine == "fused" for r in fused)
    for s, f in zip(seq, fused, strict=True):
        np.testing.assert_allclose(f.history.val_loss, s.history.val_loss, rtol=1e-4)
        np.testing.assert_allclose(f.history.accuracy, s.history.accuracy, atol=1e-6)
        assert s.state.keys() == f.state.keys()
        for key, value in s.state.items():
            torch.testing.assert_close(f.state[key], value, atol=1e-4, rtol=0)
    assert not any(k.endswith("0.bias") for k in fused[1].state)  # the first conv's
    assert "0.bias" in fused[0].state


def test_fused_cutout_rows_are_seeded_and_leave_the_others_alone(data):
    base = RunConfig(model="cnn", width=4, depth=2, epochs=4, train_per_class=4, batch_size=16)
    configs = [base, base.replace(cutout=0.5, seed=1), base.replace(augment=1.0, cutout=0.25)]
    seq = run_configs(configs[:1], data, engine="sequential")
    a = run_configs(configs, data, engine="fused")
    b = run_configs(configs, data, engine="fused")
    for x, y in zip(_curves(a), _curves(b), strict=True):
        np.testing.assert_array_equal(x, y)  # deterministic
    # the row without augmentation trains as the sequential engine does
    np.testing.assert_allclose(a[0].history.val_loss, seq[0].history.val_loss, rtol=1e-4)
    plain = run_configs([base.replace(seed=1)], data, engine="fused")
    assert not np.allclose(a[1].history.loss, plain[0].history.loss)  # the holes changed it


def test_sequential_cutout_is_seeded_and_changes_training(data):
    config = RunConfig(model="cnn", width=4, depth=1, epochs=3, train_per_class=4, cutout=0.5)
    a, b = run_configs([config, config], data, engine="sequential")
    np.testing.assert_array_equal(a.history.loss, b.history.loss)
    (plain,) = run_configs([config.replace(cutout=0.0)], data, engine="sequential")
    assert not np.allclose(a.history.loss, plain.history.loss)


def test_fused_test_time_shifts_match_sequential(data):
    base = RunConfig(
        model="cnn", width=4, depth=2, epochs=4, train_per_class=4, batch_size=16, tta=True
    )
    configs = [base, base.replace(batchnorm=True, convs=2, seed=1), base.replace(width=2)]
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    assert all(r.engine == "fused" for r in fused)
    for s, f in zip(seq, fused, strict=True):
        np.testing.assert_allclose(f.history.val_loss, s.history.val_loss, rtol=1e-4)
        np.testing.assert_allclose(f.history.val_accuracy, s.history.val_accuracy, atol=1e-6)
    # training is the same as without the shifts; only the evaluation averages copies
    (plain,) = run_configs([base.replace(tta=False)], data, engine="sequential")
    shifted = seq[0].state  # the same layers, one position later (ShiftCopies is first)
    assert [f"{int(k.split('.')[0]) + 1}.{k.split('.', 1)[1]}" for k in plain.state] == list(
        shifted
    )
    for a, b in zip(plain.state.values(), shifted.values(), strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=0)
    assert not np.allclose(plain.history.val_loss, seq[0].history.val_loss)
