import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.engine import run_configs
from nooverfit.engine.group import cross_entropy, smoothed


def test_smoothed_matches_torch_label_smoothing():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 7, 5, generator=gen)
    y = torch.randint(0, 5, (3, 7), generator=gen)
    eps = torch.tensor([0.0, 0.1, 0.3]).view(-1, 1)
    got = smoothed(cross_entropy(logits, y), logits, eps)
    for k in range(3):
        want = F.cross_entropy(logits[k], y[k], reduction="none", label_smoothing=float(eps[k]))
        torch.testing.assert_close(got[k], want)


def test_config_rejects_label_smoothing_outside_0_1():
    with pytest.raises(ValueError, match="label_smoothing"):
        RunConfig(label_smoothing=1.0)


def test_fused_label_smoothing_matches_sequential():
    torch.set_num_threads(1)
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=16, epochs=8, train_per_class=5, batch_size=16)
    configs = [base, base.replace(label_smoothing=0.1), base.replace(label_smoothing=0.3, l2=1e-3)]
    seq = run_configs(configs, data, engine="sequential")
    fused = run_configs(configs, data, engine="fused")
    for s, f in zip(seq, fused, strict=True):
        for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
            a, b = np.array(s.history.column(name)), np.array(f.history.column(name))
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    # smoothing changes training: the smoothed runs end with other weights
    first = next(iter(seq[0].state))
    assert not torch.allclose(seq[0].state[first], seq[1].state[first])
