"""What a remedy costs per run: fused groups of the default study's shape, side by side.

On digits with 20 training images per class (the default study), each case trains one
fused group of ``--k`` runs over 3 seeds' splits (the remedies stage's shape): all plain
runs, or the same with every run given the remedy. Cases are interleaved ``--repeats``
times and the fastest of each is kept (a shared machine's load varies by the minute);
the table gives seconds per run and the ratio to plain runs.

    python bench/remedy_cost.py [--k 8] [--repeats 3] [--epochs 100]
"""

from __future__ import annotations

import argparse
import time

import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import make_split
from nooverfit.data.tensors import prepare
from nooverfit.engine import run_configs

CASES = {
    "plain": {},
    "mixup=0.4": {"mixup": 0.4},
    "weight average=0.99": {"ema": 0.99},
    "label smoothing=0.1": {"label_smoothing": 0.1},
    "augment=1": {"augment": 1.0},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=8, help="runs per seed in the group")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(1)
    digits = load_dataset("digits")
    datas = {
        s: prepare(digits, make_split(digits.y, test=0.25, val=0.2, seed=s), device="cpu")
        for s in range(3)
    }
    base = RunConfig(train_per_class=20, epochs=args.epochs)
    best: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, change in CASES.items():
            # k runs per seed differing in width a little, as a stage's variants differ
            configs = [
                base.replace(seed=s, width=256 - i, **change)
                for s in range(3)
                for i in range(args.k)
            ]
            start = time.perf_counter()
            run_configs(configs, [datas[c.seed] for c in configs], engine="fused")
            seconds = (time.perf_counter() - start) / len(configs)
            best[name] = min(best.get(name, seconds), seconds)
    print(f"\n{3 * args.k} runs per group, {args.epochs} epochs, fastest of {args.repeats}")
    print("| remedy | s per run | x plain |\n| --- | --- | --- |")
    for name, seconds in best.items():
        print(f"| {name} | {seconds:.3f} | {seconds / best['plain']:.2f} |")


if __name__ == "__main__":
    main()
