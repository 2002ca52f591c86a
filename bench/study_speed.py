"""The default `nooverfit study` end to end: sequential engine vs fused engine.

Runs the pair ``--repeats`` times, interleaved (a single run on a shared virtual machine
varies by 20 % or more), and prints every wall time, the ratio of the fastest of each,
and what each engine recommended (the engines draw dropout masks and augmentations from
different random streams, so selections can differ where scores are within noise).

With ``--replay``, one sequential study instead hands each stage's configs to both
engines (the sequential results drive the study), so both train exactly the same configs
whatever the fused engine would have selected; it prints each stage's times and ratio.

    python bench/study_speed.py                 # the default study (quick budget, 3 seeds)
    python bench/study_speed.py --repeats 1 --seeds 1 --epochs 30
    python bench/study_speed.py --replay
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from nooverfit.studies import study


def replay(*, seeds: int, epochs: int | None, device: str | None) -> None:
    """Time both engines on every stage's configs of one sequential study."""
    import nooverfit.studies.session as runner_module
    from nooverfit.engine import run_configs

    stages: list[tuple[int, float, float]] = []

    def both(configs, data, *, engine, on_result=None, **options):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        run_configs(configs, data, engine="fused", **options)
        fused = time.perf_counter() - start
        start = time.perf_counter()
        results = run_configs(configs, data, engine="sequential", on_result=on_result, **options)
        sequential = time.perf_counter() - start
        stages.append((len(configs), sequential, fused))
        print(
            f"{len(configs):4d} configs: sequential {sequential:6.1f} s, fused {fused:6.1f} s, "
            f"{sequential / fused:.2f}x",
            flush=True,
        )
        return results

    runner_module.run_configs = both  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as out:
            result = study(seeds=seeds, epochs=epochs, engine="sequential", out=out, device=device)
    finally:
        runner_module.run_configs = run_configs
    sequential = sum(s for _, s, _ in stages)
    fused = sum(f for _, _, f in stages)
    print(f"recommended {result.recommended.name!r}, torch threads {torch.get_num_threads()}")
    print(
        f"training, the same configs: sequential {sequential:.1f} s, fused {fused:.1f} s, "
        f"{sequential / fused:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs of the pair")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--replay", action="store_true", help="both engines, the same configs")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.replay:
        replay(seeds=args.seeds, epochs=args.epochs, device=args.device)
        return
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
                f"{engine:>10}: {seconds:7.1f} s, {result.settings.runs} runs, "
                f"recommended {result.recommended.name!r}, "
                f"test {100 * result.test['recommended'].accuracy:.1f}% "
                f"(baseline {100 * result.test['baseline'].accuracy:.1f}%)",
                flush=True,
            )
    fused, sequential = min(times["fused"]), min(times["sequential"])
    print(f"device {result.settings.device}, torch threads {torch.get_num_threads()}")
    print(f"sequential / fused wall time, fastest of {args.repeats}: {sequential / fused:.2f}x")


if __name__ == "__main__":
    main()
