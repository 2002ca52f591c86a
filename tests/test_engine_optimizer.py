"""`StackedOptimizer`: its three update paths (the fused kernel per config row, the kernel
on blocks of rows as on a GPU, the eager ops) all apply L2 and weight decay through
`weight_penalty`, and each matches torch's AdamW with coupled L2 per config."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.engine.optimizer import StackedOptimizer, weight_penalty

PENALTIES = [(1e-2, 0.0), (0.0, 0.1), (1e-2, 0.1), (0.0, 0.0)]  # (l2, weight_decay)
COLS, P, STEPS = 6, 10, 5


def _grads() -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    return [torch.randn(len(PENALTIES), P, generator=gen) for _ in range(STEPS)]


def _reference(w0: torch.Tensor, grads: list[torch.Tensor], lr: float) -> torch.Tensor:
    out = []
    for k, (l2, wd) in enumerate(PENALTIES):
        w = w0[k, :COLS].clone().requires_grad_()
        b = w0[k, COLS:].clone().requires_grad_()
        opt = torch.optim.AdamW(
            [{"params": [w], "weight_decay": wd}, {"params": [b], "weight_decay": 0.0}], lr=lr
        )
        for g in grads:
            w.grad = g[k, :COLS] + l2 * w.detach()
            b.grad = g[k, COLS:].clone()
            opt.step()
        out.append(torch.cat([w.detach(), b.detach()]))
    return torch.stack(out)


@pytest.mark.parametrize("path", ["rows", "blocks", "eager"])
def test_every_update_path_matches_adamw_with_coupled_l2(path):
    lr = 1e-2
    configs = [RunConfig(lr=lr, l2=l2, weight_decay=wd) for l2, wd in PENALTIES]
    w0 = torch.randn(len(configs), P, generator=torch.Generator().manual_seed(1))
    net = SimpleNamespace(
        k=len(configs),
        device=torch.device("cpu"),
        flat=w0.clone(),
        grad=torch.zeros_like(w0),
        matrix_columns=COLS,
    )
    opt = StackedOptimizer(net, configs)  # type: ignore[arg-type]
    if path == "blocks":
        opt.per_row = False
    elif path == "eager":
        opt.kernel = False
    active = torch.ones(len(configs), dtype=torch.bool)
    grads = _grads()
    for g in grads:
        net.grad.copy_(g)
        opt.step(active, np.ones(len(configs), dtype=bool))
    torch.testing.assert_close(net.flat, _reference(w0, grads, lr), rtol=1e-5, atol=1e-6)


def test_weight_penalty_couples_l2_and_shrinks_for_decay():
    w = torch.tensor([[1.0, -2.0], [3.0, 4.0]])
    g = torch.zeros_like(w)
    l2 = torch.tensor([[0.5], [0.0]])
    shrink = torch.tensor([[1.0], [0.9]])
    assert weight_penalty(w, g, l2=l2, shrink=shrink) == 0.0
    assert torch.equal(g, torch.tensor([[0.5, -1.0], [0.0, 0.0]]))
    torch.testing.assert_close(w, torch.tensor([[1.0, -2.0], [2.7, 3.6]]))
    # on one config's rows before the kernel: L2 alone is left to the kernel
    ws, gs = [torch.ones(2)], [torch.zeros(2)]
    assert weight_penalty(ws, gs, l2=0.1, shrink=None, kernel=True) == 0.1
    assert torch.equal(gs[0], torch.zeros(2))
    assert weight_penalty(ws, gs, l2=0.1, shrink=0.5, kernel=True) == 0.0
    torch.testing.assert_close(gs[0], torch.full((2,), 0.1))
    torch.testing.assert_close(ws[0], torch.full((2,), 0.5))
