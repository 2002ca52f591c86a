"""The analytic FLOP count against torch's own counter (``FlopCounterMode``)."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.engine import run_configs
from nooverfit.engine.flops import (
    count_flops,
    flop_rate,
    run_flops,
    sample_flops,
    training_flops,
)
from nooverfit.models import cnn, mlp

NETS = {
    "mlp": lambda: mlp(64, 10, width=32, batchnorm=True, dropout=0.2),
    "cnn": lambda: cnn((1, 8, 8), 10, channels=8, batchnorm=True),
    "cnn depth 3": lambda: cnn((1, 16, 16), 10, channels=4, depth=3),
}


@pytest.mark.parametrize("name", sorted(NETS))
def test_sample_flops_matches_torch_flop_counter(name):
    net = NETS[name]()
    shape = (1, 16, 16) if name == "cnn depth 3" else (1, 8, 8)
    counted = sample_flops(net, shape)
    x = torch.randn(5, *shape)
    with FlopCounterMode(display=False) as forward:
        net.eval()(x)
    with FlopCounterMode(display=False) as train:
        net.train()(x).sum().backward()
    assert counted.forward * 5 == forward.get_total_flops()
    assert counted.train * 5 == train.get_total_flops()


def test_run_flops_counts_epochs_of_training_and_evaluation():
    data = load_split("digits", seed=0, device="cpu")
    config = RunConfig(width=16, train_per_class=5, epochs=7)
    per = sample_flops(mlp(64, 10, width=16), (1, 8, 8))
    n, v = 50, len(data.split.val)
    assert per.forward == 2 * (64 * 16 + 16 * 16 + 16 * 10)
    assert per.train == 3 * per.forward - 2 * 64 * 16
    want = 7 * (n * per.train + (n + v) * per.forward)
    assert (
        run_flops(config, data)
        == want
        == training_flops(per, train_samples=n, val_samples=v, epochs=7)
    )
    assert run_flops(config, data, epochs=3) * 7 == want * 3
    assert flop_rate(want, 2.0) == want / 2 and flop_rate(want, 0.0) == 0.0


def test_count_flops_sums_the_epochs_each_run_trained():
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=8, train_per_class=5, epochs=6, batch_size=16)
    configs = [base, base.replace(early_stopping="patience:1", lr=0.5, seed=1)]
    results = run_configs(configs, data, engine="fused")
    epochs = [len(r.history) for r in results]
    want = sum(run_flops(c, data, epochs=e) for c, e in zip(configs, epochs, strict=True))
    assert count_flops(results, {0: data, 1: data}) == want
