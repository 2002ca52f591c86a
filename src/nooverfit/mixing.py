"""Mixup for K runs at once (``RunConfig.mixup``), for both engines.

Each training sample is replaced by ``lam * x_i + (1 - lam) * x_j`` with a partner ``j``
of its own batch and ``lam ~ Beta(alpha, alpha)``, and its loss by
``lam * CE(y_i) + (1 - lam) * CE(y_j)``, which is the cross-entropy against the mixed
one-hot targets (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018).
Label smoothing is linear in the target, so it applies to the mixed loss unchanged.

A fused batch ``(K, B, ...)`` has its rows' own partners and weights; a row with
``alpha == 0`` is left as it is (``lam = 1``), and a partially filled batch (a smaller
training subset's last batch) mixes only among its real samples, which lead the batch.
The weights come from a NumPy generator seeded from the run's torch generator (torch has
no seeded Beta sampler), so a run's draws are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

#: offset of the fused group's mixup generator from its seed: its own stream, so the
#: dropout and augmentation draws of a group's other runs do not depend on mixup rows
MIX_SEED_OFFSET = 104_729  # another prime than seeding.AUGMENT_SEED_OFFSET


@dataclass(frozen=True)
class Mixed:
    """A mixed batch: inputs ``x`` ``(K, B, ...)``, each sample's partner ``partner``
    ``(K, B)`` (a position in its row) and its own label's weight ``lam`` ``(K, B)``."""

    x: torch.Tensor
    partner: torch.Tensor
    lam: torch.Tensor

    def loss(self, ce: torch.Tensor, ce_partner: torch.Tensor) -> torch.Tensor:
        """Per-sample mixed loss ``(K, B)`` from the losses against each sample's own
        labels and its partner's."""
        return torch.lerp(ce_partner, ce, self.lam.to(ce.dtype))

    def partner_labels(self, y: torch.Tensor) -> torch.Tensor:
        """The partners' labels ``(K, B)`` of labels ``y`` ``(K, B)``."""
        return y.gather(1, self.partner)


def mix_rows(
    x: torch.Tensor,
    alpha: Sequence[float],
    gen: torch.Generator,
    valid: torch.Tensor | None = None,
) -> Mixed:
    """Mix the samples of each row of ``x`` ``(K, B, ...)`` with partners of that row.

    Args:
        x: inputs ``(K, B, ...)``.
        alpha: each row's Beta concentration (0: that row is not mixed).
        gen: the run's (or group's) random generator.
        valid: ``(K, B)`` 0/1, real samples first in each row (None: all real).
    """
    k, b = x.shape[:2]
    dev = x.device
    keys = torch.rand((k, b), generator=gen, device=gen.device).to(dev)
    if valid is not None:
        keys = torch.where(valid > 0, keys, 2.0)  # padding sorts last: never a partner
    partner = keys.argsort(dim=1)  # per row, a random order of its real positions first
    seed = int(torch.randint(0, 2**62, (1,), generator=gen, device=gen.device).item())
    rng = np.random.default_rng(seed)
    a = np.asarray(alpha, dtype=np.float64).reshape(-1, 1)
    on = a > 0
    lam_np = np.where(on, rng.beta(np.where(on, a, 1.0), np.where(on, a, 1.0), size=(k, b)), 1.0)
    lam = torch.as_tensor(lam_np, dtype=x.dtype, device=dev)
    other = x.gather(1, partner.view(k, b, *([1] * (x.dim() - 2))).expand_as(x))
    shape = (k, b, *([1] * (x.dim() - 2)))
    return Mixed(torch.lerp(other, x, lam.view(shape)), partner, lam)
