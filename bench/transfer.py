"""Transfer learning on small data: digits 5-9 as the target, three sources.

Sources (none sees a target validation or test image):

- ``0-4``: supervised on all digits 0-4 images (disjoint classes);
- ``rotation``: rotation prediction on the target's unlabeled pool;
- ``contrastive``: SimCLR (NT-Xent on two augmented views) on the target's unlabeled pool.

The unlabeled pool of a seed is the training half of its split minus the validation
images (:func:`nooverfit.transfer.unlabeled_pool`; ~373 images, labels never read; the
labelled few are among them, as training images).

Protocol (BENCHMARKS.md style, on the 5-class target): for seed s in (0, 1, 2), a
stratified 50/50 train/test split of the digits 5-9 images (random_state=s), a stratified
validation set of 75 images (15 per class) from the train half, and training subsets of
the first n images per class of the seeded pool order. Scratch (trained once, shared by
every source's table) and each transfer strategy get the same target recipe: the same
labelled images, no augmentation, the learning rate of the new layers (1e-3 or 1e-2) and
the epoch (early stopping on validation loss, patience 30, best weights restored) chosen
on validation; the test half is scored once per seed. Prints mean +- std test accuracy
(%) per source and whether the best transfer strategy beats scratch by >= 5 points at 5
images per class (the floor).

    python bench/transfer.py            # full: n = 1, 5, 10; 3 seeds; all sources
    python bench/transfer.py --quick    # one seed, n = 5, one learning rate
    python bench/transfer.py --sources contrastive --model mlp   # a 256x2 MLP
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from nooverfit.config import RunConfig
from nooverfit.data import Dataset, load_dataset, make_split, prepare
from nooverfit.data.tensors import SplitData
from nooverfit.models import build_model
from nooverfit.train import evaluate
from nooverfit.transfer import (
    Source,
    class_subset,
    contrastive_pretrain,
    pretrain,
    rotation_pretext,
    transfer_runs,
    unlabeled_pool,
)

METHODS = ("scratch", "head", "io", "full", "gradual")
SOURCES = {
    "0-4": "digits 0-4, supervised (all their images)",
    "rotation": "rotation prediction on the unlabeled 5-9 pool",
    "contrastive": "contrastive (SimCLR) on the unlabeled 5-9 pool",
}
SOURCE = RunConfig(
    model="cnn", width=32, depth=2, batchnorm=True, augment=0.5, batch_size=64,
    epochs=60, early_stopping="patience:10",
)  # fmt: skip
CONTRASTIVE = RunConfig(
    model="cnn", width=32, depth=2, batchnorm=True, augment=1.0, batch_size=256, epochs=200
)
TARGET = RunConfig(
    model="cnn", width=32, depth=2, batchnorm=True, epochs=150, early_stopping="patience:30"
)
ARCH = {"cnn": {"model": "cnn", "width": 32}, "mlp": {"model": "mlp", "width": 256}}
Scores = dict[tuple[str, int, str], float]


def make_source(name: str, digits: Dataset, target: Dataset, data: SplitData, **arch) -> Source:
    """Pretrain source ``name`` for one seed's split (seeded by ``data.split.seed``)."""
    seed = data.split.seed
    if name == "0-4":
        return pretrain(class_subset(digits, range(5)), SOURCE.replace(seed=seed, **arch))
    pool = unlabeled_pool(data.split)
    if name == "rotation":
        return pretrain(rotation_pretext(target, pool), SOURCE.replace(seed=seed, **arch))
    return contrastive_pretrain(target, CONTRASTIVE.replace(seed=seed, **arch), index=pool)


def run_seed(
    seed: int, sizes: tuple[int, ...], rates: tuple[float, ...], *, arch: str,
    sources: tuple[str, ...],
) -> Scores:  # fmt: skip
    digits = load_dataset("digits")
    target = class_subset(digits, range(5, 10))
    data = prepare(target, make_split(target.y, test=0.5, val=75, seed=seed), device="cpu")
    x_test, y_test = data.x[data.test_index], data.y[data.test_index]
    built = {s: make_source(s, digits, target, data, **ARCH[arch]) for s in sources}
    scores: Scores = {}
    for n in sizes:
        # best[(source, method)] = (val accuracy, -val loss, state); scratch once, as "*"
        best: dict[tuple[str, str], tuple[float, float, dict[str, torch.Tensor]]] = {}
        for lr in rates:
            base = TARGET.replace(seed=seed, train_per_class=n, lr=lr, **ARCH[arch])
            for i, name in enumerate(sources):
                for result in transfer_runs(
                    data, source=built[name], base_config=base, scratch=i == 0
                ):
                    method = result.config.label.removeprefix("transfer:")
                    key = (name if method != "scratch" else "*", method)
                    h = result.history
                    score = (h.val_accuracy[h.kept_epoch], -h.val_loss[h.kept_epoch])
                    if key not in best or score > best[key][:2]:
                        best[key] = (*score, result.state)
        for (name, method), (*_, state) in best.items():
            model = build_model(TARGET.replace(**ARCH[arch]), data.in_shape, data.num_classes)
            model.load_state_dict(state)
            accuracy = 100 * evaluate(model, x_test, y_test).accuracy
            for s in sources if name == "*" else (name,):
                scores[s, n, method] = accuracy
    return scores


def print_table(name: str, runs: list[Scores], sizes: tuple[int, ...]) -> None:
    print(f"\nsource {name}: {SOURCES[name]}")
    print(f"| n per class | {' | '.join(METHODS)} | best transfer - scratch |")
    print("|---" * (len(METHODS) + 2) + "|")
    gains = {}
    for n in sizes:
        cells, means = [], {}
        for m in METHODS:
            values = np.array([r[name, n, m] for r in runs])
            means[m] = values.mean()
            cells.append(f"{values.mean():.1f} ± {values.std():.1f}")
        gains[n] = max(means[m] for m in METHODS[1:]) - means["scratch"]
        print(f"| {n} | {' | '.join(cells)} | {gains[n]:+.1f} |")
    summary = " / ".join(f"{gains[n]:+.1f}" for n in sizes)
    print(f"best transfer - scratch at {'/'.join(map(str, sizes))} per class: {summary}")
    if 5 in gains:
        verdict = "met" if gains[5] >= 5 else "NOT met"
        print(f"floor (best transfer beats scratch by >= 5 points at 5 per class): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, n=5, lr 1e-2")
    parser.add_argument("--model", choices=sorted(ARCH), default="cnn", help="architecture")
    parser.add_argument(
        "--sources", nargs="+", choices=sorted(SOURCES), default=list(SOURCES), help="sources"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)  # tiny models: threads only contend on a shared CPU
    seeds, sizes, rates = (
        ((0,), (5,), (1e-2,)) if args.quick else ((0, 1, 2), (1, 5, 10), (1e-3, 1e-2))
    )
    sources = tuple(args.sources)
    start = time.perf_counter()
    runs = [run_seed(s, sizes, rates, arch=args.model, sources=sources) for s in seeds]
    width = ARCH[args.model]["width"]
    print(f"target digits 5-9, {args.model} {width}x2 + batch norm; test % over seeds {seeds} "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    for name in sources:
        print_table(name, runs, sizes)


if __name__ == "__main__":
    main()
