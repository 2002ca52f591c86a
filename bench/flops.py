"""The study's FLOP rate against this machine's float32 GEMM peak, in one run (issue 21).

1. ``peak``: float32 ``torch.mm`` of square matrices (256 to 2048), fastest of
   ``--reps`` runs each, at the script's torch thread count; the best size is the peak.
   Also ``torch.bmm`` in the shapes of the fused MLP step (K = 64 configs, a batch of 32,
   256 x 256 weights), the engine's own kind of product.
2. ``fused group``: K = 64 default MLPs (an L2 x dropout grid, 20 images per class) trained
   as one fused group for ``--epochs`` epochs; FLOPs counted by
   :func:`nooverfit.engine.flops.run_flops` (matrix products and convolutions of training
   and the per-epoch evaluation) over its wall time.
3. ``study`` (unless ``--no-study``): the default ``nooverfit study`` (digits, MLP, 20 per
   class, quick budget, ``--seeds`` seeds); the FLOPs of every run it trained over the
   study's wall time (which includes selection, diagnosis and testing).

Each rate is printed as GFLOP/s and as a share of the measured peak.

    python bench/flops.py                      # 1 torch thread, the default study
    python bench/flops.py --no-study --threads 2
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_dataset, load_split, prepare
from nooverfit.engine.flops import flop_rate, run_flops
from nooverfit.engine.fused import train_group


def _fastest(fn, reps: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up: the first call allocates
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def gemm_peak(reps: int) -> float:
    """The best float32 GEMM rate over square sizes, FLOP/s (prints each size)."""
    best = 0.0
    for n in (256, 512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        out = torch.empty(n, n)
        rate = 2 * n**3 / _fastest(lambda a=a, b=b, out=out: torch.mm(a, b, out=out), reps)
        print(f"  mm {n:5d}^3: {rate / 1e9:7.1f} GFLOP/s")
        best = max(best, rate)
    k, batch, width = 64, 32, 256
    h, w = torch.randn(k, batch, width), torch.randn(k, width, width)
    seconds = _fastest(lambda: torch.bmm(h, w), reps * 20)
    print(f"  bmm K={k}, ({batch}, {width}) @ ({width}, {width}): "
          f"{2 * k * batch * width * width / seconds / 1e9:7.1f} GFLOP/s")  # fmt: skip
    return best


def fused_group(epochs: int, peak: float) -> None:
    data = load_split("digits", seed=0, device="cpu")
    l2 = (0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
    dropout = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    configs = [
        RunConfig(l2=a, dropout=p, epochs=epochs, train_per_class=20)
        for a, p in itertools.product(l2, dropout)
    ]
    start, cpu = time.perf_counter(), time.process_time()
    results = train_group(configs, data)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    flops = sum(run_flops(r.config, data, epochs=len(r.history.loss)) for r in results)
    _report(f"fused group, K = {len(configs)}, {epochs} epochs", flops, seconds, cpu, peak)


def study_rate(seeds: int, peak: float) -> None:
    from nooverfit.studies import study

    start, cpu = time.perf_counter(), time.process_time()
    result = study("digits", seeds=seeds, device="cpu")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    dataset = load_dataset("digits")
    datas = {s.seed: prepare(dataset, s, device="cpu") for s in result.splits}
    flops = sum(
        run_flops(r.config, datas[r.config.seed], epochs=len(r.history.loss))
        for r in result.runs.values()
    )
    name = f"default study, {seeds} seeds, {len(result.runs)} runs"
    _report(name, flops, seconds, cpu, peak)


def _report(name: str, flops: float, seconds: float, cpu: float, peak: float) -> None:
    """Print the rate per wall-clock second and per CPU second of the process (on a
    shared machine the process gets only part of a core; the GEMM peak is the fastest
    of several short runs, so it is closer to the CPU-time rate's conditions)."""
    rate, per_cpu = flop_rate(flops, seconds), flop_rate(flops, cpu)
    print(
        f"{name}: {flops / 1e12:.3f} TFLOP in {seconds:.1f} s wall ({cpu:.1f} s CPU) = "
        f"{rate / 1e9:.2f} GFLOP/s, {100 * rate / peak:.1f} % of the GEMM peak "
        f"({per_cpu / 1e9:.2f} GFLOP/s per CPU second, {100 * per_cpu / peak:.1f} %)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20, help="epochs of the fused group")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the study")
    parser.add_argument("--no-study", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"load average at start: {os.getloadavg()}, torch threads {args.threads}")
    peak = gemm_peak(args.reps)
    print(f"float32 GEMM peak: {peak / 1e9:.1f} GFLOP/s")
    fused_group(args.epochs, peak)
    if not args.no_study:
        study_rate(args.seeds, peak)
    peak_after = gemm_peak(args.reps)  # the machine is shared: did the peak move?
    print(f"float32 GEMM peak again: {peak_after / 1e9:.1f} GFLOP/s")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
