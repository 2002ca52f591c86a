"""The fused step and the evaluation in the GPU's mode never wait for the device: no
tensor is read on the host inside them (checked on the CPU by making every host read of a
tensor raise; on a GPU each would stall the queue of kernels)."""

import contextlib

import pytest
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.engine.feed import Feed, per_run
from nooverfit.engine.group import GroupTraining, _evaluate

READS = ("item", "tolist", "numpy", "cpu", "__bool__", "__int__", "__float__", "__index__")


class HostRead(AssertionError):
    pass


@contextlib.contextmanager
def no_host_reads():
    """Every host read of a tensor's values raises :class:`HostRead` inside."""
    saved = {name: getattr(torch.Tensor, name) for name in READS}

    def refuse(name):
        def read(self, *args, **kwargs):
            raise HostRead(f"tensor.{name}() read on the host")

        return read

    for name in READS:
        setattr(torch.Tensor, name, refuse(name))
    try:
        yield
    finally:
        for name, method in saved.items():
            setattr(torch.Tensor, name, method)


def user_factory(config: RunConfig) -> nn.Module:  # a chain: the stacked layers
    return nn.Sequential(
        nn.Flatten(), nn.Linear(64, config.width), nn.ReLU(), nn.Linear(config.width, 10)
    )


def functional_factory(config: RunConfig) -> nn.Module:  # not a chain: torch.func
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(64, config.width),
        nn.GELU(),
        nn.Dropout(config.dropout),
        nn.Linear(config.width, 10),
    )


@pytest.mark.parametrize("factory", [None, user_factory, functional_factory])
def test_fused_step_and_evaluation_read_nothing_on_the_host_in_gpu_mode(factory):
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=16, epochs=2, train_per_class=5, batch_size=16)
    configs = [
        base.replace(dropout=0.3),
        base.replace(batchnorm=True, seed=1),
        base.replace(augment=0.5, l2=1e-3, seed=2),
        base.replace(train_per_class=3, early_stopping="patience:1", seed=3),
        base.replace(label_smoothing=0.1, weight_decay=0.1, optimizer="adamw", seed=4),
    ]
    if factory is not None:  # (a torch.func module with batch norm reads the length of
        # an epoch's last, partial batch on the host)
        configs = [c.replace(batchnorm=False, augment=0.0) for c in configs]
    group = GroupTraining(configs, Feed.of(per_run(data, len(configs))), factory=factory)
    kind = "FunctionalNet" if factory is functional_factory else "StackedNet"
    assert type(group.net).__name__ == kind
    group.sync_each_step = False  # what a GPU does (see _host_checks_each_step)
    running = group.running(0)
    with no_host_reads():
        alive = group.train_epoch(0, running)
        scores = [_evaluate(group.net, group.feed, *group.layout.train_eval)]
        scores.append(_evaluate(group.net, group.feed, *group.layout.val_eval))
    assert bool(alive.all())
    for loss, acc in scores:
        assert loss.shape == acc.shape == (len(configs),) and bool(torch.isfinite(loss).all())
    with pytest.raises(HostRead), no_host_reads():
        torch.ones(1).item()  # the check itself works
