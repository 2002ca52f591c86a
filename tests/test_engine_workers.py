import threading
import time

import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.engine import run_configs
from nooverfit.engine.fused import train_group
from nooverfit.engine.schedule import (
    CPU_WORKERS,
    Cancelled,
    config_steps,
    cpu_workers,
    plan_groups,
    run_in_threads,
)


@pytest.fixture()
def two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def test_run_fused_in_threads_equals_groups_trained_one_by_one(two_threads):
    """Two workers of one torch thread each give every config exactly the numbers of its
    group trained alone on one thread: nothing leaks between concurrent groups."""
    datas = [load_split("digits", seed=s, device="cpu") for s in range(2)]
    base = RunConfig(width=16, train_per_class=5, epochs=3, seed=0)
    variants = [
        base,
        base.replace(l2=1e-3),
        base.replace(dropout=0.3),
        base.replace(batchnorm=True),
        base.replace(augment=1.0),
        base.replace(train_per_class=10),
        base.replace(train_per_class=10, dropout=0.5, batchnorm=True),
    ]
    configs = [v.replace(seed=s) for s in range(2) for v in variants]
    split = [datas[c.seed] for c in configs]
    rng = torch.get_rng_state()
    threaded = dict(enumerate(run_configs(configs, split, engine="fused", workers=2)))
    assert torch.equal(torch.get_rng_state(), rng)
    assert torch.get_num_threads() == 2  # restored

    steps = [config_steps(c, 10 * c.train_per_class) for c in configs]
    groups = plan_groups(
        configs, (1, 8, 8), 10, device=torch.device("cpu"), workers=2, steps=steps
    )
    assert len(groups) >= 2
    torch.set_num_threads(1)
    for group in groups:
        alone = train_group([configs[i] for i in group], [split[i] for i in group])
        for i, result in zip(group, alone, strict=True):
            assert threaded[i].config == configs[i]
            assert threaded[i].history.loss == result.history.loss, configs[i]
            assert threaded[i].history.val_loss == result.history.val_loss, configs[i]
            for key, value in result.state.items():
                assert torch.equal(threaded[i].state[key], value), key


def test_run_in_threads_yields_every_result_and_restores_threads(two_threads):
    seen: list[int] = []

    def task(n):
        def run(cancel):
            seen.append(torch.get_num_threads())
            return n * n

        return run

    results = dict(run_in_threads([task(n) for n in range(5)], workers=2))
    assert results == {n: n * n for n in range(5)}
    assert seen == [1] * 5  # each worker had its share of the two threads
    assert torch.get_num_threads() == 2


def test_run_in_threads_stops_the_others_and_reraises(two_threads):
    stopped = threading.Event()

    def slow(cancel):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if cancel.is_set():
                stopped.set()
                raise Cancelled("stopped")
            time.sleep(0.01)
        return "finished"

    def failing(cancel):
        time.sleep(0.05)
        raise ValueError("bad config")

    start = time.monotonic()
    with pytest.raises(ValueError, match="bad config"):
        list(run_in_threads([slow, failing], workers=2))
    assert stopped.is_set()
    assert time.monotonic() - start < 10
    assert torch.get_num_threads() == 2


def test_run_in_threads_stops_workers_when_the_caller_stops_reading(two_threads):
    stopped = threading.Event()

    def quick(cancel):
        return "done"

    def slow(cancel):
        while not cancel.wait(0.01):
            pass
        stopped.set()
        raise Cancelled("stopped")

    results = run_in_threads([slow, quick], workers=2)
    assert next(results) == (1, "done")
    results.close()  # e.g. KeyboardInterrupt in the caller
    assert stopped.is_set()
    assert torch.get_num_threads() == 2


def test_default_grouping_does_not_depend_on_the_thread_count(two_threads):
    """Dropout and augmentation draws come from each group's generator, so the groups
    must not change with the machine: at one torch thread the engine trains the same
    groups one after another, with every config's numbers unchanged."""
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=16, train_per_class=5, epochs=2, dropout=0.3)
    configs = [base.replace(seed=s, augment=a) for s in range(3) for a in (0.0, 1.0)]
    two = list(run_configs(configs, data, engine="fused"))
    torch.set_num_threads(1)
    one = list(run_configs(configs, data, engine="fused"))
    for a, b in zip(two, one, strict=True):
        assert a.history.loss == b.history.loss and a.history.val_loss == b.history.val_loss


def test_cpu_workers_bounded_by_threads_and_groups(two_threads):
    assert cpu_workers(1) == 1
    assert cpu_workers(2) == 2
    assert cpu_workers(8) == 3  # one per thread and one to fill their Python time
    torch.set_num_threads(1)
    assert cpu_workers(8) == 1  # one thread asked: one worker
    torch.set_num_threads(8)
    assert cpu_workers(8) == CPU_WORKERS + 1 == 3


def test_every_random_remedy_repeats_bit_for_bit_at_one_or_two_threads(two_threads):
    """Same configs, same numbers: twice for both engines, with every source of
    randomness on (dropout, augmentation, mixup) and the stateful remedies beside them
    (batch norm, averaging, schedule); and for the fused engine once more at one torch
    thread. Its groups are planned for two workers whatever the thread count, and at two
    threads each worker has one. (A sequential run at two threads is another matter:
    torch's batch-norm kernel splits its sums by thread, so its last bits differ.)"""
    data = load_split("digits", seed=0, device="cpu")
    base = RunConfig(width=16, train_per_class=5, epochs=2, batch_size=16)
    configs = [
        base.replace(dropout=0.3, augment=0.5),
        base.replace(mixup=0.4, label_smoothing=0.1, seed=1),
        base.replace(batchnorm=True, ema=0.9, cosine=True, seed=2),
        base.replace(dropout=0.2, batchnorm=True, mixup=1.0, seed=3),
    ]

    def numbers(engine, runs=configs):
        results = run_configs(runs, data, engine=engine)
        return [
            (r.history.loss, r.history.val_loss, [v.numpy().tobytes() for v in r.state.values()])
            for r in results
        ]

    fused = numbers("fused")
    assert numbers("fused") == fused
    torch.set_num_threads(1)
    assert numbers("fused") == fused
    # (fit's own repeat of dropout and augmentation: tests/test_train.py)
    assert numbers("sequential", configs[1:3]) == numbers("sequential", configs[1:3])
