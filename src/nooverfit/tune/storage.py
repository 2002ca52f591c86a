"""Optuna storage: SQLite by default, PostgreSQL for many machines, with heartbeats.

Every worker, on every machine, opens the same storage URL and study name. A worker
records a heartbeat for its running trial every ``heartbeat_interval`` seconds; a trial
whose heartbeat is older than ``grace_period`` belongs to a dead worker: the next worker
to start a trial marks it failed and re-queues its parameters as a new waiting trial
(Optuna's retry callback), which a live worker then runs.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nooverfit.errors import BadInput, MissingExtra, redact

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)

_SCHEMES = ("sqlite:///", "postgresql://", "postgresql+", "postgres://", "mysql")
_EXPECTED = "expected sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE"


def default_storage(out: str | Path) -> str:
    """``sqlite:///OUT/tune.db``: the embedded default, nothing to start. A ``%`` or ``?``
    in the path is escaped: a URL reads ``?`` as the start of a query and ``%`` as an
    escape (``--out "runs?b"`` put the study in a file ``runs``, shared with every
    ``--out "runs?..."``; ``--out "a%20b"`` could not be opened)."""
    path = str(Path(out).resolve() / "tune.db")
    return "sqlite:///" + path.replace("%", "%25").replace("?", "%3F")


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL as SQLAlchemy reads it (None for another database,
    or SQLite in memory)."""
    if not url.startswith("sqlite:///"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def storage_url(url: str) -> str:
    """Validate ``url`` and pick the installed PostgreSQL driver for ``postgresql://``.

    Raises:
        ValueError: if the URL is not a SQLite, PostgreSQL or MySQL database URL.
        ImportError: for PostgreSQL without a driver, with the install hint.
    """
    if not url.startswith(_SCHEMES):
        raise BadInput(f"--storage {redact(url)!r} not understood; {_EXPECTED}")
    if url.startswith("sqlite:///"):
        if (path := sqlite_file(url)) is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        return url
    if url.startswith(("postgresql://", "postgres://")):
        rest = url.split("://", 1)[1]
        try:
            import psycopg  # noqa: F401

            return f"postgresql+psycopg://{rest}"
        except ImportError:
            pass
        try:
            import psycopg2  # noqa: F401

            return f"postgresql+psycopg2://{rest}"
        except ImportError:
            raise MissingExtra(
                'PostgreSQL storage needs a driver: pip install "nooverfit[postgres]"'
            ) from None
    return url


def open_storage(
    url: str, *, heartbeat_interval: int = 10, grace_period: int | None = None, max_retry: int = 3
) -> optuna.storages.RDBStorage:
    """Open the study database with heartbeats and retry of dead workers' trials.

    Args:
        url: database URL (see :func:`storage_url`).
        heartbeat_interval: seconds between a running trial's heartbeats (default 10).
        grace_period: seconds without a heartbeat before a trial counts as dead
            (default ``2 * heartbeat_interval``).
        max_retry: how many times one trial's parameters are re-run after its worker
            died (default 3).
    """
    import optuna

    try:
        retry_cls = optuna.storages.RetryHeartbeatStaleTrialCallback
        callback_kw = "heartbeat_stale_trial_callback"
    except AttributeError:  # Optuna < 4.9 names it RetryFailedTrialCallback
        retry_cls = optuna.storages.RetryFailedTrialCallback
        callback_kw = "failed_trial_callback"
    if heartbeat_interval < 1:
        raise ValueError(f"heartbeat_interval must be an integer >= 1, got {heartbeat_interval}")
    full = storage_url(url)
    engine_kwargs: dict[str, object] = (
        {"connect_args": {"timeout": 60}} if full.startswith("sqlite") else {"pool_pre_ping": True}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry: dict[str, Any] = {callback_kw: retry_cls(max_retry=max_retry)}
        # Two machines starting at once may both try to create the schema: retry briefly.
        for attempt in range(5):
            try:
                storage = optuna.storages.RDBStorage(
                    full,
                    engine_kwargs=engine_kwargs,
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    **retry,
                )
                if full.startswith("sqlite"):
                    _fast_sqlite(storage)
                return storage
            except Exception as err:  # sqlalchemy errors while another worker migrates
                if isinstance(err, ImportError):
                    raise
                refused = not full.startswith("sqlite") and "connect" in str(err).lower()
                if attempt == 4 or refused:  # a server that refuses will not start meanwhile
                    raise _unreachable(url, err) from None
                log.info("storage not ready (%s); retrying", redact(str(err).splitlines()[0]))
                time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _unreachable(url: str, err: Exception) -> Exception:
    """A database that cannot be opened, in one line without its password; an error that
    is not the database's (a bug) is returned unchanged."""
    from sqlalchemy.exc import SQLAlchemyError

    if not isinstance(err, SQLAlchemyError):
        return err
    lines = [line.strip() for line in str(getattr(err, "orig", None) or err).splitlines()]
    reason = next((line for line in lines if line), type(err).__name__)
    return BadInput(
        f"cannot open --storage {redact(url)}: {redact(reason)}; expected a reachable, "
        "writable Optuna database"
    )


def _fast_sqlite(storage: optuna.storages.RDBStorage) -> None:
    """Write-ahead log and normal sync: one fsync per checkpoint, not per commit.

    Safe against a killed worker (the log is replayed); a power cut may lose the last
    commits but never corrupts the file. Readers no longer block the writer either.
    """
    from sqlalchemy import event

    def on_connect(connection: object, _: object) -> None:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(storage.engine, "connect", on_connect)
    storage.engine.dispose()  # connections opened while creating the schema lack the pragmas


@dataclass(frozen=True)
class Budget:
    """Trials of a study, counted for the budget of ``--trials``.

    Attributes:
        finished: complete or pruned trials (they count against the budget).
        running: trials a worker is running (or a dead worker was running).
        waiting: queued trials, such as the retry of a dead worker's trial.
        failed: failed trials (a dead worker's trial, or one asked past the budget).
    """

    finished: int
    running: int
    waiting: int
    failed: int

    @property
    def claimed(self) -> int:
        """Trials that finished or are on their way to finishing."""
        return self.finished + self.running + self.waiting


def count_trials(study: optuna.Study) -> Budget:
    """Count the study's trials by state (one storage query)."""
    from optuna.trial import TrialState

    states = [t.state for t in study.get_trials(deepcopy=False)]
    return Budget(
        finished=sum(s in (TrialState.COMPLETE, TrialState.PRUNED) for s in states),
        running=sum(s is TrialState.RUNNING for s in states),
        waiting=sum(s is TrialState.WAITING for s in states),
        failed=sum(s is TrialState.FAIL for s in states),
    )


def within_budget(study: optuna.Study, number: int, trials: int) -> bool:
    """Whether trial ``number`` is one of the first ``trials`` that did not fail.

    Trial numbers are handed out in order by the storage, so this settles a race between
    workers that asked for a trial at the same moment: at most ``trials`` trials pass.
    """
    from optuna.trial import TrialState

    before = [
        t
        for t in study.get_trials(deepcopy=False)
        if t.number < number and t.state is not TrialState.FAIL
    ]
    return len(before) < trials


def fail_unstarted_trials(study: optuna.Study, *, grace_period: float) -> list[int]:
    """Fail the running trials whose worker stopped before it started them.

    Optuna fails a running trial once its last heartbeat is older than the grace period
    (:func:`optuna.storages.fail_stale_trials`), but a trial with no heartbeat at all is
    never stale: one whose worker was stopped between creating it and starting its
    heartbeat (Ctrl-C, or the terminated local workers of an interrupted ``tune``) stayed
    running forever, and the study's resume waited for it forever. The objective records
    the trial's ``worker`` first thing, so a running trial without one, created more than
    ``grace_period`` seconds ago (by this machine's clock), never started: it is failed
    (its parameters were not all sampled; nothing is retried) and a new trial takes its
    place in the budget.

    Returns:
        The numbers of the trials failed here.
    """
    from optuna.trial import TrialState

    now = datetime.now()  # Optuna stamps datetime_start with the local naive time
    ghosts = [
        t.number
        for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if "worker" not in t.user_attrs
        and t.datetime_start is not None
        and (now - t.datetime_start).total_seconds() > grace_period
    ]
    for number in ghosts:
        log.warning("trial %d was never started (its worker stopped); marked failed", number)
        study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
    return ghosts
