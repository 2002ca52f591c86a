"""Digits on the whole pool: image remedies and capacity for the CNN, one run at a time.

Each variant is a :class:`~nooverfit.config.RunConfig` change of one strong configuration
(the joint search's usual winner on the whole pool: CNN width 32, depth 3, batch norm,
full augmentation, cosine-annealed rate 3e-3, 4x the bench's ~300 steps), trained with the
sequential engine on the protocol's split of each seed (``BENCHMARKS.md``: 50/50 train/test,
150 validation images, the rest of the train half to train) from ``--inits`` initial
weights. Printed per variant: the mean validation and test accuracy of single runs, the
test accuracy of the average of the ``--inits`` networks' probabilities (an ensemble, as the
study's ensemble stage builds), and of single runs with test-time augmentation (the average
over the image and its four one-pixel shifts; measured only, nooverfit does not apply it).
Differences under ~0.3 points are a few test images per seed: read them over many seeds.

    PYTHONPATH=src python bench/augment_digits.py [--variants base cut3 ...] [--seeds 0 3]
        [--inits 3] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.models import build_model
from nooverfit.train import fit

#: the joint search's usual winner on the whole pool (bench/README.md), 64 epochs of ~19 steps
BASE = RunConfig(
    model="cnn",
    width=32,
    depth=3,
    batchnorm=True,
    augment=1.0,
    cosine=True,
    lr=3e-3,
    epochs=64,
)
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "cut2": {"cutout": 0.25},
    "cut3": {"cutout": 0.375},
    "cut4": {"cutout": 0.5},
    "convs2": {"convs": 2, "depth": 2},
    "convs2-cut3": {"convs": 2, "depth": 2, "cutout": 0.375},
    "convs2-d3": {"convs": 2},
    "smooth": {"label_smoothing": 0.1},
    "steps8x": {"epochs": 128},
    "width64": {"width": 64},
    "convs2-steps8x": {"convs": 2, "depth": 2, "epochs": 128},
    "lr1e-3": {"lr": 1e-3},
}


def shifted(x: torch.Tensor) -> list[torch.Tensor]:
    """``x`` ``(N, C, H, W)`` and its four one-pixel shifts (zeros fill the edge)."""
    padded = F.pad(x, (1, 1, 1, 1))
    h, w = x.shape[-2:]
    return [
        padded[..., 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
        for dy, dx in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))
    ]


@torch.no_grad()
def probabilities(net: torch.nn.Module, x: torch.Tensor, *, tta: bool) -> np.ndarray:
    net.eval()
    views = shifted(x) if tta else [x]
    return torch.stack([F.softmax(net(v), 1) for v in views]).mean(0).numpy()


def run(variant: str, seed: int, init: int) -> dict[str, Any]:
    torch.set_num_threads(1)
    data = load_split("digits", test=0.5, val=150, seed=seed, device="cpu")
    config = BASE.replace(seed=seed, init=init, **VARIANTS[variant])
    net = build_model(config, data.in_shape, data.num_classes)
    start = time.perf_counter()
    fit(net, data, config)
    out: dict[str, Any] = {
        "variant": variant,
        "seed": seed,
        "init": init,
        "seconds": time.perf_counter() - start,
    }
    for part, index in (("val", data.val_index), ("test", data.test_index)):
        out[part] = probabilities(net, data.x[index], tta=False)
        out[f"{part}_tta"] = probabilities(net, data.x[index], tta=True)
        out[f"{part}_y"] = data.y[index].numpy()
    return out


def accuracy(p: np.ndarray, y: np.ndarray) -> float:
    return float((p.argmax(1) == y).mean())


def summary(runs: list[dict[str, Any]], variant: str) -> str:
    mine = [r for r in runs if r["variant"] == variant]
    seeds = sorted({r["seed"] for r in mine})
    val, test, tta, ens, secs = [], [], [], [], []
    for s in seeds:
        rs = [r for r in mine if r["seed"] == s]
        val += [accuracy(r["val"], r["val_y"]) for r in rs]
        test += [accuracy(r["test"], r["test_y"]) for r in rs]
        tta += [accuracy(r["test_tta"], r["test_y"]) for r in rs]
        secs += [r["seconds"] for r in rs]
        ens.append(accuracy(np.mean([r["test"] for r in rs], 0), rs[0]["test_y"]))
    per_seed = " ".join(f"{100 * e:.1f}" for e in ens)
    return (
        f"| {variant} | {100 * np.mean(val):.2f} | {100 * np.mean(test):.2f} "
        f"| {100 * np.mean(tta):.2f} | {100 * np.mean(ens):.2f} ({per_seed}) "
        f"| {np.mean(secs):.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 3])
    parser.add_argument("--inits", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--log", help="a file to append each run's accuracies to, as done")
    args = parser.parse_args()
    start = time.perf_counter()
    tasks = [(v, s, i) for v in args.variants for s in args.seeds for i in range(args.inits)]
    runs = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for future in as_completed([pool.submit(run, *t) for t in tasks]):
            r = future.result()
            runs.append(r)
            if args.log:
                line = {k: r[k] for k in ("variant", "seed", "init", "seconds")}
                for part in ("val", "test", "test_tta"):
                    line[part] = accuracy(r[part], r[f"{part.split('_')[0]}_y"])
                with open(args.log, "a") as f:
                    f.write(json.dumps(line) + "\n")
    print(
        f"digits, whole pool, seeds {args.seeds}, {args.inits} initial weights each; base {BASE}"
    )
    print("| variant | val % | test % | test % with TTA | ensemble test % (per seed) | s/run |")
    print("| --- | --- | --- | --- | --- | --- |")
    for v in args.variants:
        print(summary(runs, v))
    print(
        f"wall time {time.perf_counter() - start:.0f} s, {args.jobs} jobs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
