"""Write a real ``torch.utils.tensorboard.SummaryWriter`` log validated every 5 epochs
without an ``epoch`` scalar (issue 15, s29 i154): ``train/loss`` and ``train/accuracy``
at each epoch (step = epoch), ``val/loss`` and ``val/accuracy`` at epochs 4, 9, 14, ...

A 256-wide MLP on 200 digits (sklearn), Adam (``--lr``), full-batch steps. Every random
thing takes ``--seed``.

    python bench/make_sparse_validation_tb.py --out tests/data/every_fifth_epoch_digits_tb
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--every", type=int, default=5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from torch.utils.tensorboard import SummaryWriter

    torch.manual_seed(a.seed)
    torch.set_num_threads(1)
    x, y = load_digits(return_X_y=True)
    xt, xv, yt, yv = train_test_split(x / 16, y, train_size=200, random_state=a.seed)
    xt, xv = torch.tensor(xt, dtype=torch.float32), torch.tensor(xv, dtype=torch.float32)
    yt, yv = torch.tensor(yt), torch.tensor(yv)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    lossf = torch.nn.CrossEntropyLoss()
    writer = SummaryWriter(str(a.out))
    for epoch in range(a.epochs):
        net.train()
        opt.zero_grad()
        out = net(xt)
        loss = lossf(out, yt)
        loss.backward()
        opt.step()
        writer.add_scalar("train/loss", float(loss), epoch)
        writer.add_scalar("train/accuracy", float((out.argmax(1) == yt).float().mean()), epoch)
        if (epoch + 1) % a.every == 0:
            net.eval()
            with torch.no_grad():
                out = net(xv)
            writer.add_scalar("val/loss", float(lossf(out, yv)), epoch)
            writer.add_scalar("val/accuracy", float((out.argmax(1) == yv).float().mean()), epoch)
    writer.close()


if __name__ == "__main__":
    main()
