"""Write a real HF-Trainer-format log (``trainer_state.json``) of an RMSprop run whose
validation loss oscillates on a flat floor after an early minimum (issue 15, i63).

A 2-class ``make_classification`` set, a small two-layer MLP trained with plain PyTorch and
``torch.optim.RMSprop`` for 30 epochs; the training loss is logged every ``--log-every``
steps with a fractional epoch, ``eval_loss`` once per epoch, as ``transformers.Trainer``
writes them. Every random thing takes ``--seed``.

    python bench/make_oscillating_hf.py --seed 3 --out tests/data/oscillating_rmsprop_hf
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from _corpus_writers import _write_trainer_state

#: Minibatch size.
BATCH = 32


def run(
    seed: int,
    lr: float,
    epochs: int,
    log_every: int,
    hidden: int,
    rows: int,
    eval_steps: int = 0,
) -> tuple[list[dict], int, int]:
    """Train the run; its ``log_history`` entries, last step and steps per epoch.
    ``eval_steps``: evaluate every that many steps, as ``eval_strategy="steps"`` does
    (0: at each epoch's end)."""
    import torch
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x, y = make_classification(
        n_samples=rows, n_features=20, n_informative=8, flip_y=0.05, random_state=seed
    )
    xt, xv, yt, yv = train_test_split(x, y, test_size=0.3, random_state=seed)
    mu, sd = xt.mean(0), xt.std(0)
    xt, xv = (xt - mu) / sd, (xv - mu) / sd
    xt_t, yt_t = torch.tensor(xt, dtype=torch.float32), torch.tensor(yt)
    xv_t, yv_t = torch.tensor(xv, dtype=torch.float32), torch.tensor(yv)
    net = (
        torch.nn.Sequential(
            torch.nn.Linear(20, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, 2),
        )
        if hidden
        else torch.nn.Linear(20, 2)  # logistic regression
    )
    opt = torch.optim.RMSprop(net.parameters(), lr=lr)
    lossf = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    batch = BATCH
    steps_per_epoch = -(-len(xt_t) // batch)
    history: list[dict] = []
    step, running, count = 0, 0.0, 0
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(xt_t), generator=gen)
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = lossf(net(xt_t[idx]), yt_t[idx])
            loss.backward()
            opt.step()
            step += 1
            running += float(loss.detach())
            count += 1
            if step % log_every == 0:
                history.append(
                    {
                        "epoch": round(step / steps_per_epoch, 4),
                        "step": step,
                        "loss": round(running / count, 4),
                        "learning_rate": lr,
                    }
                )
                running, count = 0.0, 0
            if eval_steps and step % eval_steps == 0:
                history.append(_evaluate(net, lossf, xv_t, yv_t, step, steps_per_epoch))
                net.train()
        if not eval_steps:
            net.eval()
            with torch.no_grad():
                ev = float(lossf(net(xv_t), yv_t))
            history.append({"epoch": float(epoch + 1), "step": step, "eval_loss": ev})
    return history, step, steps_per_epoch


def _evaluate(net: Any, lossf: Any, x: Any, y: Any, step: int, steps_per_epoch: int) -> dict:
    """An evaluation entry as the Trainer logs it: ``eval_loss`` and ``eval_accuracy`` (a
    ``compute_metrics`` of accuracy), at the epochs done so far."""
    import torch

    net.eval()
    with torch.no_grad():
        out = net(x)
    return {
        "epoch": round(step / steps_per_epoch, 4),
        "eval_accuracy": float((out.argmax(1) == y).float().mean()),
        "eval_loss": float(lossf(out, y)),
        "step": step,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--hidden", type=int, default=8)
    ap.add_argument("--rows", type=int, default=8000)
    ap.add_argument("--eval-steps", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    history, step, per_epoch = run(
        a.seed, a.lr, a.epochs, a.log_every, a.hidden, a.rows, eval_steps=a.eval_steps
    )
    spec = {
        "epochs": a.epochs,
        "val_every": 1,
        "eval_steps": a.eval_steps,
        "log_steps": a.log_every,
        "batch": BATCH,
        "hf_checkpoint": False,
    }
    # the corpus's writer: trainer_state.json as transformers.TrainerState writes it
    _write_trainer_state(spec, history, step, per_epoch, a.out)
    ev = [h["eval_loss"] for h in history if "eval_loss" in h]
    print(f"eval_loss min {min(ev):.4f} at epoch {int(np.argmin(ev)) + 1}, last {ev[-1]:.4f}")


if __name__ == "__main__":
    main()
