import threading

import torch

from nooverfit.config import RunConfig
from nooverfit.models import build_model
from nooverfit.seeding import seeded


def test_seeded_draws_from_the_seed_and_restores_the_state():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    with seeded(7):
        a = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(7)
    assert torch.equal(a, torch.rand(3))


def test_seeded_initialization_is_the_same_in_concurrent_threads():
    """Threads building networks at once each get the weights of their own seed (without
    the lock, one thread's reseed or restore lands between another's draws)."""
    configs = [RunConfig(width=32, seed=s) for s in range(4)]
    alone = [build_model(c, (1, 8, 8), 10).state_dict() for c in configs]
    wrong: list[int] = []

    def build(k: int) -> None:
        for _ in range(100):
            state = build_model(configs[k], (1, 8, 8), 10).state_dict()
            if any(not torch.equal(state[n], alone[k][n]) for n in state):
                wrong.append(k)

    threads = [threading.Thread(target=build, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
