"""``nooverfit.tune``: Optuna search over the regularization space, on many workers.

One study lives in a database (SQLite by default, PostgreSQL for many machines); any
number of workers on any number of machines run the same command against it. At the end
the best trial's configuration is retrained on the same split and tested once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nooverfit.data.group_split import one_warning_each
from nooverfit.models import network_for
from nooverfit.tune.objective import Objective, OverfitGuard, TrialRun, train_config
from nooverfit.tune.result import (
    TrialSummary,
    TuneResult,
    check_out,
    finalize,
    write_best_report,
    write_outputs,
)
from nooverfit.tune.space import CRITERIA, Space, suggest_config
from nooverfit.tune.storage import Budget, count_trials, default_storage, open_storage
from nooverfit.tune.workers import TuneSpec, open_study, run_workers, start_workers, work


def tune(
    spec: TuneSpec,
    *,
    workers: int = 1,
    out: str | Path | None = None,
    overwrite: bool = False,
) -> TuneResult:
    """Run (or resume) the study with ``workers`` local processes, then test the best once.

    Args:
        spec: storage, study, data, search space and budget.
        workers: local worker processes (default 1: this process).
        out: folder for ``best.json``, ``plots/`` and the report (default: nothing written).
        overwrite: replace another study's results in ``out`` (default False; the same
            study's are its own to update when it resumes).

    Returns:
        The study's best configuration with its single test score.

    Raises:
        OutputExists: ``out`` holds another study's results and not ``overwrite``
            (checked before any trial: nothing lost).
        ValueError: data, a training subset or a model the data cannot feed (checked
            before the study is made).
    """
    if out is not None:
        check_out(Path(out), spec, overwrite=overwrite)
    # the split is loaded once here and shared with the worker in this process (spawned
    # workers load their own): a few-groups warning once
    with one_warning_each() as few_groups:
        data = spec.load_data()  # bad data specs fail here, before any worker starts
        base = spec.base  # and a training subset the split cannot give (not each trial's)
        data.train_index(train_size=base.train_size, train_per_class=base.train_per_class)
        # and a model the data cannot feed (a cnn on tabular rows): every trial would fail,
        # and the study, made with it, would refuse the corrected command
        smallest = dataclasses.replace(base, width=spec.space.width[0], depth=spec.space.depth[0])
        network_for(smallest, data)
        run_workers(spec, workers=workers, data=data)
    study = open_study(spec, data=data)
    result = finalize(spec, study, data)
    if out is not None:
        write_outputs(result, study, data, Path(out), split_warnings=few_groups)
    return result


__all__ = [
    "CRITERIA",
    "Budget",
    "Objective",
    "OverfitGuard",
    "Space",
    "TrialRun",
    "TrialSummary",
    "TuneResult",
    "TuneSpec",
    "count_trials",
    "default_storage",
    "finalize",
    "open_storage",
    "open_study",
    "run_workers",
    "start_workers",
    "suggest_config",
    "train_config",
    "tune",
    "work",
    "write_best_report",
    "write_outputs",
]
