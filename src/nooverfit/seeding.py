"""`seeded`: draw from torch's global random generator under a seed, leaving its state as
it was, one thread at a time.

Weight initialization (``nn.Linear`` and friends) and torchvision's transforms draw from
the global generator, so nooverfit seeds it inside ``torch.random.fork_rng``. That is a
save, a reseed and a restore of one process-wide state: two threads doing it at once (the
fused engine trains groups in worker threads on a CPU) would draw from each other's seeds
and restore each other's states. A lock makes each seeded block whole.

It also names the offsets that derive one stream's seed from another's, so that the
sequential and the fused engine (and pretext pretraining) derive them alike.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch

_LOCK = threading.RLock()

# A prime multiplier that spreads (seed, index) pairs: the batch order of epoch e is seeded
# ``seed * SEED_STRIDE + e``; a fused group's seed mixes its configs' seeds in base
# SEED_STRIDE. Changing it changes every batch order, hence every result.
SEED_STRIDE = 1_000_003
# Added to a run's seed for its augmentation / dropout-mask generator, so those draws
# differ from the weight initialization's (seeded with the run's seed itself).
AUGMENT_SEED_OFFSET = 7919


@contextmanager
def seeded(seed: int, *, cuda_devices: Sequence[int] = ()) -> Iterator[None]:
    """Run the block with the global generator seeded to ``seed``; afterwards its state
    (and that of ``cuda_devices``) is what it was, and no other thread has drawn from or
    reseeded it meanwhile (unless it draws without this lock).

    Args:
        seed: the seed of the block's draws.
        cuda_devices: CUDA devices whose generators are also forked (default none).
    """
    with _LOCK, torch.random.fork_rng(devices=list(cuda_devices)):
        torch.manual_seed(seed)
        yield
