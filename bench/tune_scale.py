"""How `nooverfit tune` scales: trials per minute with 1, 2, 4 workers, SQLite vs PostgreSQL.

    python bench/tune_scale.py                  # full run (a few minutes)
    python bench/tune_scale.py --quick          # smoke test

Each cell runs a fresh study of tiny digits trials (width 16, a few epochs) with N local
worker processes (one torch thread each). Throughput is taken from the trials' own start
and end times in the storage, so process start-up (importing torch) is not counted:
``trials/min = 60 * finished / seconds`` over the window in which every worker runs
trials (from the last worker's first trial start to the first worker's last trial end).
The storage overhead per trial is the time a worker spends on the study database for one
trial with no training at all: the budget check, ask, 10 reported epochs, user
attributes, heartbeat thread and tell.

PostgreSQL: a throwaway cluster on a loopback port (as in the tests), or ``--postgres URL``.
The CPU count bounds the speed-up: on a 2-core machine shared with other jobs, expect at
most about 2x, and read the figures as relative, not absolute.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import optuna

from nooverfit.config import RunConfig
from nooverfit.tune import Space, TuneSpec, open_study, start_workers, suggest_config
from nooverfit.tune.storage import count_trials, within_budget

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def spec_for(storage: str, *, trials: int, epochs: int) -> TuneSpec:
    return TuneSpec(
        storage=storage,
        study_name=f"bench-{uuid.uuid4().hex[:8]}",
        trials=trials,
        base=RunConfig(epochs=epochs, train_per_class=20),
        space=Space(width=(16, 16), depth=(1, 1)),
        pruner="none",
        heartbeat_interval=5,
        poll=0.2,
    )


def trials_per_minute(storage: str, workers: int, *, trials: int, epochs: int) -> float:
    """Run one study with ``workers`` processes; finished trials per minute of trial time."""
    spec = spec_for(storage, trials=trials, epochs=epochs)
    processes = start_workers(spec, workers)
    for process in processes:
        process.join()
    study = open_study(spec)
    done = [t for t in study.get_trials() if t.state.name in ("COMPLETE", "PRUNED")]
    # Steady state: from the moment every worker had started its first trial to the moment
    # the first worker finished its last one (workers import torch at different speeds).
    by_worker: dict[str, list[optuna.trial.FrozenTrial]] = {}
    for trial in done:
        by_worker.setdefault(str(trial.user_attrs.get("worker")), []).append(trial)
    start = max(min(t.datetime_start for t in ts) for ts in by_worker.values())
    end = min(max(t.datetime_complete for t in ts) for ts in by_worker.values())
    inside = [t for t in done if t.datetime_start >= start and t.datetime_complete <= end]
    if len(by_worker) < workers or len(inside) < 2 * workers:
        start = min(t.datetime_start for t in done)
        end = max(t.datetime_complete for t in done)
        inside = done
    return 60 * len(inside) / (end - start).total_seconds()


def storage_overhead_ms(storage: str, *, trials: int, epochs: int) -> float:
    """Median milliseconds of storage work per trial, training replaced by nothing."""
    spec = spec_for(storage, trials=trials, epochs=epochs)
    study = open_study(spec)
    base, space = spec.base, spec.space

    def objective(trial: optuna.Trial) -> float:
        within_budget(study, trial.number, spec.trials)
        suggest_config(trial, space, base)
        trial.set_user_attr("worker", "bench")
        for epoch in range(epochs):
            trial.report(-1.0 / (epoch + 1), epoch)
            trial.should_prune()
        for name in ("epochs", "kept_epoch", "stop_reason", "val_loss", "guard_epoch"):
            trial.set_user_attr(name, 0)
        return 0.5

    times = []
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for _ in range(trials):
        start = time.perf_counter()
        optuna.storages.fail_stale_trials(study)
        count_trials(study)
        study.optimize(objective, n_trials=1)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny run to check it works")
    parser.add_argument("--trials", type=int, default=60, help="trials per cell")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per trial")
    parser.add_argument("--postgres", help="PostgreSQL URL (default: a throwaway cluster)")
    args = parser.parse_args()
    counts = (1, 2) if args.quick else (1, 2, 4)
    trials = 6 if args.quick else args.trials
    import warnings

    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        postgres = args.postgres
        if postgres is None:
            from _postgres import postgres_cluster

            postgres = stack.enter_context(postgres_cluster())
        rows = []
        for name, make in (
            ("SQLite", lambda n: f"sqlite:///{folder / f'{n}.db'}"),
            ("PostgreSQL", lambda n: postgres),
        ):
            rates = [
                trials_per_minute(make(n), n, trials=trials, epochs=args.epochs) for n in counts
            ]
            overhead = storage_overhead_ms(make("overhead"), trials=trials, epochs=args.epochs)
            rows.append((name, rates, overhead))
    print(f"\nnooverfit tune scaling ({os.cpu_count()} CPUs; {trials} trials per cell,")
    print(f"digits, width 16, {args.epochs} epochs, 20 per class; 1 torch thread per worker)\n")
    head = " | ".join(f"{n} worker{'s' * (n > 1)}" for n in counts)
    print(f"| storage | {head} | speed-up at {counts[-1]} | storage ms/trial |")
    print("|" + " --- |" * (len(counts) + 3))
    for name, rates, overhead in rows:
        cells = " | ".join(f"{r:.0f}/min" for r in rates)
        print(f"| {name} | {cells} | {rates[-1] / rates[0]:.2f}x | {overhead:.1f} |")


if __name__ == "__main__":
    main()
