"""Transfer learning on small data: digits 0-4 as the source, digits 5-9 as the target.

Protocol (BENCHMARKS.md style, on the 5-class target): for seed s in (0, 1, 2), a
stratified 50/50 train/test split of the digits 5-9 images (random_state=s), a stratified
validation set of 75 images (15 per class, as 150 for 10 classes) from the train half,
and training subsets of the first n images per class of the seeded pool order. The source
network is pretrained on all digits 0-4 images (disjoint classes, so no target image is
seen). For every method the learning rate of the new layers (1e-3 or 1e-2) and the epoch
(early stopping on validation loss, patience 30, best weights restored) are chosen on
validation; the test half is scored once per seed. Prints mean +- std test accuracy (%).

    python bench/transfer.py            # full: n = 1, 5, 10; 3 seeds
    python bench/transfer.py --quick    # one seed, n = 5, one learning rate
    python bench/transfer.py --model mlp   # the same with a 256x2 MLP
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_dataset, make_split, prepare
from nooverfit.models import build_model
from nooverfit.train import evaluate
from nooverfit.transfer import class_subset, pretrain, transfer_runs

METHODS = ("scratch", "head", "io", "full", "gradual")
SOURCE = RunConfig(
    model="cnn", width=32, depth=2, batchnorm=True, augment=0.5, batch_size=64,
    epochs=60, early_stopping="patience:10",
)  # fmt: skip
TARGET = RunConfig(
    model="cnn", width=32, depth=2, batchnorm=True, epochs=150, early_stopping="patience:30"
)


ARCH = {"cnn": {"model": "cnn", "width": 32}, "mlp": {"model": "mlp", "width": 256}}


def run_seed(
    seed: int, sizes: tuple[int, ...], rates: tuple[float, ...], *, arch: str
) -> dict[tuple[int, str], float]:
    digits = load_dataset("digits")
    config = SOURCE.replace(seed=seed, **ARCH[arch])
    source = pretrain(class_subset(digits, range(5)), config, device="cpu")
    target = class_subset(digits, range(5, 10))
    data = prepare(target, make_split(target.y, test=0.5, val=75, seed=seed), device="cpu")
    x_test, y_test = data.x[data.test_index], data.y[data.test_index]
    scores: dict[tuple[int, str], float] = {}
    for n in sizes:
        best: dict[str, tuple[float, float, dict[str, torch.Tensor]]] = {}
        for lr in rates:
            base = TARGET.replace(seed=seed, train_per_class=n, lr=lr, **ARCH[arch])
            for result in transfer_runs(data, source=source, base_config=base):
                method = result.config.label.removeprefix("transfer:")
                h = result.history
                key = (h.val_accuracy[h.best_epoch], -h.val_loss[h.best_epoch])
                if method not in best or key > best[method][:2]:
                    best[method] = (*key, result.state)
        for method, (*_, state) in best.items():
            model = build_model(source.config, data.in_shape, data.num_classes)
            model.load_state_dict(state)
            scores[n, method] = 100 * evaluate(model, x_test, y_test).accuracy
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, n=5, lr 1e-2")
    parser.add_argument("--model", choices=sorted(ARCH), default="cnn", help="architecture")
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny models: threads only contend on a shared CPU
    seeds, sizes, rates = (
        ((0,), (5,), (1e-2,)) if args.quick else ((0, 1, 2), (1, 5, 10), (1e-3, 1e-2))
    )
    start = time.perf_counter()
    runs = [run_seed(s, sizes, rates, arch=args.model) for s in seeds]
    width = ARCH[args.model]["width"]
    print(f"digits 0-4 -> 5-9, {args.model} {width}x2 + batch norm; test % over seeds {seeds} "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    print(f"| n per class | {' | '.join(METHODS)} | best transfer - scratch |")
    print("|---" * (len(METHODS) + 2) + "|")
    for n in sizes:
        cells, means = [], {}
        for m in METHODS:
            values = np.array([r[n, m] for r in runs])
            means[m] = values.mean()
            cells.append(f"{values.mean():.1f} ± {values.std():.1f}")
        gain = max(means[m] for m in METHODS[1:]) - means["scratch"]
        print(f"| {n} | {' | '.join(cells)} | {gain:+.1f} |")
        if n == 5:
            verdict = "met" if gain >= 5 else "NOT met"
            print(f"floor (best transfer beats scratch by >= 5 points at 5 per class): {verdict}")


if __name__ == "__main__":
    main()
