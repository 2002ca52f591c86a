"""Tuning workers: each asks the shared study for trials until the budget is spent.

Every worker runs the same loop against the same storage and study name, on one machine
or many. ``--trials`` is the study's total, not each worker's: a worker stops when that
many trials finished (complete or pruned), waits while the last ones are still running
(their worker may have died: the heartbeat then fails them and a live worker retries
them), and trial numbers settle the race between workers asking at the same moment.
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import time
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData, load_split
from nooverfit.errors import BAD_INPUT, BadInput, Reported
from nooverfit.tune.objective import Objective, out_of_memory, too_large
from nooverfit.tune.space import Space
from nooverfit.tune.storage import (
    count_trials,
    fail_unstarted_trials,
    open_storage,
    within_budget,
)
from nooverfit.tune.trial_log import OverBudget, QuietTrialLog

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    import optuna

log = logging.getLogger(__name__)

PRUNERS = ("median", "halving", "none")


@dataclass(frozen=True)
class TuneSpec:
    """Everything a worker needs to join a study (picklable, sent to worker processes).

    Args:
        storage: database URL shared by all workers (``sqlite:///...`` or
            ``postgresql://...``).
        study_name: the study all workers share (default ``"nooverfit"``).
        trials: finished trials the study aims for, over all workers (default 20).
        timeout: seconds after which a worker asks for no new trial (default None: none).
        data: data set spec (default ``"digits"``); ``data_options`` go to its loader.
        test: test fraction or count of the split (default 0.25).
        val: validation fraction or count (default 0.2).
        seed: seed of the split; configs take theirs from ``base`` (default 0).
        device: torch device (default: CUDA if available, else CPU).
        base: fixed fields of every config: model family, epochs, batch size, data size.
        space: the ranges searched.
        pruner: ``"median"``, ``"halving"`` (successive halving) or ``"none"``.
        guard: :class:`~nooverfit.tune.objective.OverfitGuard` alpha in percent, or None.
        heartbeat_interval: seconds between heartbeats of a running trial (default 10).
        grace_period: seconds without heartbeat before a trial counts as dead
            (default ``2 * heartbeat_interval``).
        max_retry: re-runs of a dead worker's trial (default 3).
        threads: torch threads per worker (default 1, so N workers use N cores).
        poll: seconds between checks while waiting for other workers (default 1).
    """

    storage: str
    study_name: str = "nooverfit"
    trials: int = 20
    timeout: float | None = None
    data: str = "digits"
    data_options: dict[str, object] = field(default_factory=dict)
    test: float | int = 0.25
    val: float | int = 0.2
    seed: int = 0
    device: str | None = None
    base: RunConfig = field(default_factory=lambda: RunConfig(epochs=100))
    space: Space = field(default_factory=Space)
    pruner: str = "median"
    guard: float | None = 10.0
    heartbeat_interval: int = 10
    grace_period: int | None = None
    max_retry: int = 3
    threads: int = 1
    poll: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.trials, int) or self.trials < 1:
            raise ValueError(f"trials must be an integer >= 1, got {self.trials!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout!r}")
        if self.pruner not in PRUNERS:
            raise ValueError(f"pruner must be one of {PRUNERS}, got {self.pruner!r}")
        if not self.study_name:
            raise ValueError("study_name must not be empty")

    def load_data(self) -> SplitData:
        """Load and split the data set (every worker and the final test use this split)."""
        return load_split(
            self.data,
            test=self.test,
            val=self.val,
            seed=self.seed,
            device=self.device,
            **self.data_options,
        )


def _pruner(name: str) -> optuna.pruners.BasePruner:
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=3)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=2)
    return optuna.pruners.NopPruner()


def sampler_seed(seed: int, worker: int) -> int:
    """Distinct per host and local worker index, so parallel samplers do not collide."""
    return (seed * 1_000_003 + zlib.crc32(f"{socket.gethostname()}:{worker}".encode())) % 2**32


def open_study(spec: TuneSpec, *, worker: int = 0, data: SplitData | None = None) -> optuna.Study:
    """Create or join the study; refuse to join one made for different data or configs, or
    by other nooverfit code (:func:`nooverfit._version.code_digest`: the version stays the
    same between releases while the code that scores trials changes) or another torch.
    The data's content counts, not its name: a CSV edited between two runs of the same
    command is other data (``data``: the split already loaded, else loaded here).

    Raises:
        ValueError: if the study exists with another direction.
        BadInput: if it exists with another data set, split, base config, search space or
            nooverfit code (the message names them; nothing in the study is changed).
    """
    import optuna
    import torch

    from nooverfit._version import code_digest
    from nooverfit.studies.identity import fingerprint

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" INFO lines
    storage = open_storage(
        spec.storage,
        heartbeat_interval=spec.heartbeat_interval,
        grace_period=spec.grace_period,
        max_retry=spec.max_retry,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=sampler_seed(spec.seed, worker), constant_liar=True
        )
    study = optuna.create_study(
        storage=storage,
        study_name=spec.study_name,
        direction="maximize",
        sampler=sampler,
        pruner=_pruner(spec.pruner),
        load_if_exists=True,
    )
    # Everything that defines a trial's data and fixed fields: a resumed study never mixes
    # trials scored on another split, or by other code of the same version.
    identity = {
        "data": spec.data,
        "data options": {
            k: v for k, v in sorted(spec.data_options.items()) if k not in ("data_dir", "download")
        },
        "test": spec.test,
        "val": spec.val,
        "seed": spec.seed,
        "base": spec.base.to_dict(),
        # the ranges searched: a trial outside today's space must not be eligible as best
        "space": asdict(spec.space),
        # as a study's (:func:`nooverfit.studies.identity.study_identity`)
        "data content": fingerprint((spec.load_data() if data is None else data).dataset),
        "nooverfit code": code_digest(),
        "torch": torch.__version__,
    }
    known = study.user_attrs
    if study.direction is not optuna.study.StudyDirection.MAXIMIZE:
        raise ValueError(f"study {spec.study_name!r} does not maximize; use another --study-name")
    if "identity" not in known:
        study.set_user_attr("identity", identity)
    else:
        from nooverfit.studies.identity import differences

        stored = dict(known["identity"])
        adopt = "space" not in stored  # a study from before the space was recorded
        stored.setdefault("space", identity["space"])
        changed = [_option_named(c) for c in differences(stored, identity)]
        if changed:
            other_code = any(c.startswith("nooverfit code:") for c in changed)
            other_rows = any(c.startswith("data content:") for c in changed)
            raise BadInput(
                f"study {spec.study_name!r} was made with other settings ({'; '.join(changed)}); "
                "to resume it, use the same options"
                + (" on the same rows" if other_rows else "")
                + (" and the nooverfit that scored its trials" if other_code else "")
                # another --study-name alone is refused by --out, which holds this one's
                + "; to start a new study, use another --study-name and --out"
            )
        if adopt:  # only once joined: a refused study is left as it was
            study.set_user_attr("identity", stored)
    return study


#: the CLI option behind each searched range (the others are set from Python only)
_SPACE_OPTIONS = {"width": "--max-width", "depth": "--max-depth"}


def _option_named(difference: str) -> str:
    """``"space width: [32, 64] there, ..."`` -> ``"--max-width (space width): ..."``."""
    for name, option in _SPACE_OPTIONS.items():
        if difference.startswith(f"space {name}:"):
            return f"{option} (searched {name}){difference[len('space ' + name) :]}"
    return difference


def work(spec: TuneSpec, *, worker: int = 0, data: SplitData | None = None) -> int:
    """Run trials of the shared study until it has ``spec.trials`` finished ones.

    Args:
        spec: the study and how to train.
        worker: index of this worker on this machine (seeds its sampler).
        data: the split already loaded in this process (default: loaded here).

    Returns:
        The number of trials this worker finished.
    """
    import optuna
    import torch
    from optuna.trial import TrialState

    threads = torch.get_num_threads()
    torch.set_num_threads(spec.threads)
    quiet = QuietTrialLog()
    optuna_log = logging.getLogger("optuna.study._optimize")
    optuna_log.addFilter(quiet)
    try:
        data = spec.load_data() if data is None else data
        study = open_study(spec, worker=worker, data=data)
        objective = Objective(data, spec.space, spec.base, guard=spec.guard)
        finished: list[int] = []
        started: list[optuna.Trial] = []  # this worker's, the last one last

        def count(_: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
                finished.append(trial.number)

        def budgeted(trial: optuna.Trial) -> float:
            if not within_budget(study, trial.number, spec.trials):
                quiet.numbers.add(trial.number)
                log.debug("trial %d is past the budget; marked failed", trial.number)
                trial.set_user_attr("over_budget", True)
                raise OverBudget(f"trial {trial.number} is past the budget of {spec.trials}")
            started.append(trial)
            return objective(trial)

        deadline = time.monotonic() + spec.timeout if spec.timeout else None
        while deadline is None or time.monotonic() < deadline:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            grace = spec.grace_period or 2 * spec.heartbeat_interval  # as open_storage's
            fail_unstarted_trials(study, grace_period=grace)
            budget = count_trials(study)
            if budget.finished >= spec.trials:
                break
            if budget.claimed >= spec.trials and budget.waiting == 0:
                time.sleep(spec.poll)  # the last trials run elsewhere: wait, they may die
                continue
            try:
                study.optimize(budgeted, n_trials=1, catch=(OverBudget,), callbacks=[count])
            except RuntimeError as err:
                if not (out_of_memory(err) and started):
                    raise
                raise too_large(started[-1], err) from None
        return len(finished)
    finally:
        optuna_log.removeFilter(quiet)
        torch.set_num_threads(threads)


#: a worker process's exit code after bad input it told in one line (as the command's)
BAD_INPUT_EXIT = 2


def _worker_main(spec: TuneSpec, worker: int) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    _exit_with_parent()
    try:
        work(spec, worker=worker)
    except BAD_INPUT as err:  # one line, as the command tells it, no traceback
        log.error("tune worker %d: %s", worker, err)
        raise SystemExit(BAD_INPUT_EXIT) from None


def _exit_with_parent() -> None:
    """Stop this worker process when its parent dies, even by SIGKILL.

    The parent's sentinel (a pipe multiprocessing keeps open in the parent) becomes
    readable when the parent exits; a daemon thread waits on it and ends the process. The
    trial it was running then stops heartbeating and is failed and re-queued (see
    :mod:`.storage`), as for any killed worker.
    """
    import os
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        log.warning("tune worker %d: the parent process died; stopping", os.getpid())
        os._exit(3)

    threading.Thread(target=watch, name="nooverfit-parent-watch", daemon=True).start()


def start_workers(
    spec: TuneSpec, workers: int, *, data: SplitData | None = None
) -> list[BaseProcess]:
    """Start ``workers`` local worker processes (spawned, so CUDA and torch stay sane).

    The study is created here first, so the workers only join it (``data``: the split
    already loaded in this process, for the study's identity; default: loaded here).
    """
    if workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    open_study(spec, data=data)
    ctx = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = [
        ctx.Process(target=_worker_main, args=(spec, i), name=f"nooverfit-tune-{i}")
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    return processes


def run_workers(spec: TuneSpec, *, workers: int = 1, data: SplitData | None = None) -> None:
    """Run the study with ``workers`` local processes (1: in this process) until done;
    ``data``: the split already loaded in this process, not loaded again here.

    Raises:
        BadInput: if every worker process failed on bad input (each told it in one line).
        Reported: if every worker process failed, one at least of another error (each
            printed its own).
    """
    if workers == 1:
        work(spec, data=data)
        return
    processes = start_workers(spec, workers, data=data)
    try:
        for process in processes:
            process.join()
    except BaseException:
        for process in processes:
            process.terminate()
        raise
    codes = [p.exitcode for p in processes]
    if all(code != 0 for code in codes):
        # each worker printed its error above: one line here, not a second traceback
        failed = (
            f"all {workers} tuning workers failed (exit codes {codes}; each one's error is "
            "above); the study's finished trials are kept in its storage"
        )
        raise BadInput(failed) if set(codes) == {BAD_INPUT_EXIT} else Reported(failed)
    if any(code != 0 for code in codes):
        log.warning("tuning workers exited with codes %s; the others finished the study", codes)
