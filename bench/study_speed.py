"""The default `nooverfit study` end to end: sequential engine vs fused engine.

Runs the pair ``--repeats`` times, interleaved (a single run on a shared virtual machine
varies by 20 % or more), and prints every wall time, the ratio of the fastest of each,
and what each engine recommended (the engines draw dropout masks and augmentations from
different random streams, so selections can differ where scores are within noise).

    python bench/study_speed.py                 # the default study (quick budget, 3 seeds)
    python bench/study_speed.py --repeats 1 --seeds 1 --epochs 30
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from nooverfit.studies import study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of the pair")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    times: dict[str, list[float]] = {"fused": [], "sequential": []}
    for _ in range(args.repeats):
        for engine in times:
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                result = study(
                    seeds=args.seeds,
                    epochs=args.epochs,
                    engine=engine,
                    out=out,
                    device=args.device,
                )
                seconds = time.perf_counter() - start
            times[engine].append(seconds)
            print(
                f"{engine:>10}: {seconds:7.1f} s, {result.settings['runs']} runs, "
                f"recommended {result.recommended.name!r}, "
                f"test {100 * result.test['recommended'].accuracy:.1f}% "
                f"(baseline {100 * result.test['baseline'].accuracy:.1f}%)",
                flush=True,
            )
    fused, sequential = min(times["fused"]), min(times["sequential"])
    print(f"device {result.settings['device']}, torch threads {torch.get_num_threads()}")
    print(f"sequential / fused wall time, fastest of {args.repeats}: {sequential / fused:.2f}x")


if __name__ == "__main__":
    main()
