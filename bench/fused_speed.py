"""Fused-engine speed, measured side by side in one run (see issue 5 and BENCHMARKS.md).

1. ``sweep``: K = 8, 64, 256 configs of the default MLP on ``digits`` (an L2 x dropout
   grid); sequential time / fused time. Sequential runs are timed on 8 of the configs
   and scaled to K (every config does the same work), fused runs on all K through
   ``run_configs`` (which cuts K = 256 into CPU-sized groups).
2. ``sklearn``: a validation curve of 16 L2 values x 3 seeds (split seeds of the
   BENCHMARKS.md digits protocol, 500 training images, 150 val images), scikit-learn's
   ``validation_curve(MLPClassifier)`` against the fused engine with the same width (one
   hidden layer of 256), epochs, batch size (64) and optimizer (Adam, lr 1e-3); prints
   both times and the best mean val accuracy of each. sklearn's ``alpha`` adds
   ``alpha / (2 * batch) * ||W||^2`` per batch, so nooverfit's ``l2 = alpha / batch``.
   Then the bound: the same groups' matrix products alone (forward, both gradients and
   the per-epoch evaluation, with their bias adds and ReLUs; no optimizer, loss or
   bookkeeping), in the same worker threads, and the ratio that would give.
3. ``--gpu``: fused training time for K = 1, 64, 1024, 8192 on CUDA (one group each;
   the engine's own per-epoch times after the first epoch), in float32 and TF32.

Each engine runs 3 times (the sklearn item 2 times), interleaved, and the fastest run of
each is reported: on this shared virtual machine a single run varies by 20 % or more.

On a busy shared CPU pass ``--threads 1``: with two threads every parallel region waits
for a descheduled thread, and small kernels get 10-100x slower for both engines.

Usage: ``python bench/fused_speed.py [--quick] [--threads N] [--gpu]``.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import time

import numpy as np
import torch

from nooverfit.config import RunConfig
from nooverfit.data import Split, load_dataset, load_split, prepare
from nooverfit.engine import run_configs
from nooverfit.engine.fused import train_group
from nooverfit.engine.group import EVAL_MIN_SAMPLES, EVAL_ROWS
from nooverfit.engine.schedule import cpu_workers, plan_groups, run_in_threads

L2 = (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
DROPOUT = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def grid(k: int, epochs: int) -> list[RunConfig]:
    """K default-MLP configs: L2 x dropout, then seeds for K > 64."""
    cells = list(itertools.product(L2, DROPOUT))
    return [
        RunConfig(l2=cells[i % 64][0], dropout=cells[i % 64][1], seed=i // 64, epochs=epochs)
        for i in range(k)
    ]


def sweep(ks: list[int], *, epochs: int, sample: int, reps: int) -> None:
    data = load_split("digits", seed=0, device="cpu")
    for engine in ("sequential", "fused"):  # warm-up: first calls allocate and dispatch
        run_configs(grid(2, 1), data, engine=engine)
    print(f"\n1. default MLP (256x2, batch 32, Adam) on digits, {epochs} epochs")
    print(f"   (fastest of {reps} interleaved repeats of each engine)")
    print(f"{'K':>5} {'sequential s':>13} {'fused s':>9} {'ratio':>7}")
    for k in ks:
        configs = grid(k, epochs)
        n = min(sample, k)
        seq, fused = [], []
        for _ in range(reps):
            start = time.perf_counter()
            run_configs(configs[:n], data, engine="sequential")
            seq.append((time.perf_counter() - start) * k / n)
            start = time.perf_counter()
            run_configs(configs, data, engine="fused")  # groups sized by the engine
            fused.append(time.perf_counter() - start)
        print(f"{k:>5} {min(seq):>13.1f} {min(fused):>9.1f} {min(seq) / min(fused):>7.1f}x")


def protocol_split(y: np.ndarray, seed: int, n_train: int) -> Split:
    """BENCHMARKS.md digits protocol: 50/50 test split, 150 val, first ``n_train`` of a
    seeded permutation of the rest."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    train, test = train_test_split(idx, test_size=0.5, stratify=y, random_state=seed)
    rest, val = train_test_split(train, test_size=150, stratify=y[train], random_state=seed)
    pool = np.random.default_rng(seed).permutation(rest)[:n_train]
    return Split(pool=pool, val=np.sort(val), test=np.sort(test), seed=seed)


def _products(k: int, *, epochs: int, n_train: int, n_val: int, batch: int) -> None:
    """The matrix products of ``epochs`` epochs of a fused group of ``k`` 64-256-10 MLPs,
    with the engine's shapes and layouts: the first layer as ``(K, B, 64) @ (K, 64, 256)``,
    the 10-wide output layer transposed (see ``nooverfit.engine.layers``)."""
    w1, b1 = torch.randn(k, 64, 256), torch.randn(k, 1, 256)
    w2, b2 = torch.randn(k, 10, 256), torch.randn(k, 10, 1)
    sizes = [batch] * (n_train // batch) + ([n_train % batch] if n_train % batch else [])
    chunk = max(EVAL_MIN_SAMPLES, EVAL_ROWS["cpu"] // k)
    evals = [min(chunk, n - i) for n in (n_train, n_val) for i in range(0, n, chunk)]
    inputs = {b: torch.rand(k, b, 64) for b in set(sizes + evals)}
    for _ in range(epochs):
        for b in sizes:
            x = inputs[b]
            h = torch.baddbmm(b1, x, w1).relu_()
            g = torch.baddbmm(b2, w2, h.mT)  # (K, 10, B) logits, standing in for their gradient
            torch.bmm(g, h)  # output layer's weight gradient
            dh = torch.bmm(g.mT, w2)  # gradient of the hidden layer
            torch.bmm(x.mT, dh)  # first layer's weight gradient
        for b in evals:
            h = torch.baddbmm(b1, inputs[b], w1).relu_()
            torch.baddbmm(b2, w2, h.mT)


def product_bound(
    configs: list[RunConfig], *, n_train: int, n_val: int, batch: int, epochs: int
) -> float:
    """Seconds for the matrix products alone of the fused engine's groups of ``configs``,
    trained in its worker threads: a lower bound on the fused engine's time."""
    steps = [epochs * -(-n_train // batch)] * len(configs)
    workers = cpu_workers(len(configs))
    groups = plan_groups(
        configs, (1, 8, 8), 10, device=torch.device("cpu"), workers=workers, steps=steps
    )

    def task(k: int, cancel: object) -> None:
        _products(k, epochs=epochs, n_train=n_train, n_val=n_val, batch=batch)

    tasks = [functools.partial(task, len(g)) for g in groups]
    start = time.perf_counter()
    for _ in run_in_threads(tasks, workers=min(workers, len(groups))):
        pass
    return time.perf_counter() - start


def versus_sklearn(*, epochs: int, n_alpha: int, reps: int) -> None:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import validation_curve
    from sklearn.neural_network import MLPClassifier

    dataset = load_dataset("digits")
    x = dataset.x.reshape(len(dataset.x), -1)
    y = dataset.y
    splits = [protocol_split(y, s, 500) for s in range(3)]
    alphas = np.logspace(-5, 1, n_alpha)
    batch = 64
    print(f"\n2. validation curve: {n_alpha} alphas x 3 seeds, 256 hidden, {epochs} epochs")
    import warnings

    def sklearn_curve() -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            _, val_scores = validation_curve(
                MLPClassifier(
                    hidden_layer_sizes=(256,),
                    batch_size=batch,
                    max_iter=epochs,
                    learning_rate_init=1e-3,
                    tol=0.0,
                    n_iter_no_change=epochs + 1,
                    random_state=0,
                ),
                x,
                y,
                param_name="alpha",
                param_range=alphas,
                cv=[(s.pool, s.val) for s in splits],
                n_jobs=1,
            )
        return val_scores

    def fused_curve() -> np.ndarray:
        datas = [prepare(dataset, split, device="cpu") for split in splits]
        configs = [
            RunConfig(width=256, depth=1, l2=a / batch, batch_size=batch, epochs=epochs, seed=j)
            for j in range(3)
            for a in alphas
        ]
        results = run_configs(configs, [datas[c.seed] for c in configs], engine="fused")
        return np.array([r.history.val_accuracy[-1] for r in results]).reshape(3, n_alpha).T

    sk_times, fused_times = [], []
    for _ in range(reps):  # interleaved; the fastest of each
        start = time.perf_counter()
        val_scores = sklearn_curve()
        sk_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        acc = fused_curve()
        fused_times.append(time.perf_counter() - start)
    sk_time, fused_time = min(sk_times), min(fused_times)
    sk_best = float(val_scores.mean(1).max())
    fused_best = float(acc.mean(1).max())
    print(f"{'':>12} {'seconds':>8} {'best val acc':>13}")
    print(f"{'scikit-learn':>12} {sk_time:>8.1f} {sk_best:>13.4f}")
    print(f"{'fused':>12} {fused_time:>8.1f} {fused_best:>13.4f}")
    print(f"ratio {sk_time / fused_time:.1f}x")
    bound = min(
        product_bound(
            [RunConfig(width=256, depth=1, batch_size=batch, epochs=epochs)] * (3 * n_alpha),
            n_train=500,
            n_val=150,
            batch=batch,
            epochs=epochs,
        )
        for _ in range(reps)
    )
    print(
        f"matrix products alone, same groups and threads: {bound:.1f} s "
        f"(at most {sk_time / bound:.1f}x; the rest of fused time: optimizer, losses, "
        f"bookkeeping)"
    )


def gpu(ks: list[int], *, epochs: int) -> None:
    """Training time of epochs 2 .. ``epochs + 1`` (the first warms up kernels and the
    allocator), from the per-epoch wall times the engines record after syncing with the
    device: building the K networks and copying results back are not counted. Run in
    full float32 matmul precision and in TF32 (``torch.set_float32_matmul_precision``)."""
    if not torch.cuda.is_available():
        raise SystemExit("--gpu needs a CUDA device")
    from nooverfit.models import build_model
    from nooverfit.train import fit

    data = load_split("digits", seed=0, device="cuda")
    print(f"\n3. fused on {torch.cuda.get_device_name()}, default MLP, {epochs} epochs")
    train_group(grid(2, 1), data)  # warm-up: CUDA context and kernels

    def trained(seconds: tuple[float, ...], k: int) -> float:
        return sum(seconds[1:]) * k  # the column holds epoch time / configs trained

    for precision in ("highest", "high"):
        torch.set_float32_matmul_precision(precision)
        config = grid(1, epochs + 1)[0]
        model = build_model(config, data.in_shape, data.num_classes)
        one = trained(fit(model, data, config).column("seconds"), 1)
        print(f"matmul precision {precision!r}; sequential engine, one config: {one:6.3f} s")
        base = None
        for k in ks:
            results = train_group(grid(k, epochs + 1), data)
            seconds = trained(results[0].history.column("seconds"), k)
            base = base or seconds
            print(
                f"K={k:>5}: {seconds:6.3f} s  ({seconds / base:5.2f}x the time of K=1; "
                f"{k * one / seconds:7.1f}x the throughput of sequential runs)",
                flush=True,
            )
    torch.set_float32_matmul_precision("highest")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs, small K")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--gpu", action="store_true", help="item 3 only, on CUDA")
    parser.add_argument("--only", choices=["sweep", "sklearn"], default=None)
    args = parser.parse_args()
    if args.threads:  # torch and the BLAS under numpy/scikit-learn alike
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(args.threads)
        threadpool_limits(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    if args.gpu:
        gpu([1, 64, 1024] if args.quick else [1, 64, 1024, 8192], epochs=2 if args.quick else 5)
        return
    if args.only in (None, "sweep"):
        if args.quick:
            sweep([8, 64], epochs=1, sample=2, reps=1)
        else:
            sweep([8, 64, 256], epochs=3, sample=8, reps=3)
    if args.only in (None, "sklearn"):
        versus_sklearn(
            epochs=10 if args.quick else 100,
            n_alpha=4 if args.quick else 16,
            reps=1 if args.quick else 2,
        )


if __name__ == "__main__":
    main()
