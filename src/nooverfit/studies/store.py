"""`RunStore`: finished runs on disk, so an interrupted study resumes where it stopped.

One JSON file per run (config, history, engine) and its weights beside it, keyed by
:attr:`RunConfig.key`. Files are written atomically: a killed study leaves whole files or
none, never a torn one. A file damaged afterwards (truncated, emptied, overwritten) is
reported in one warning and its run is trained again.

The run key holds only the run's :class:`RunConfig`; what else fixes its numbers (the
data, the split, the engine, the seeds...) is the study's identity, written once to
``identity.json`` (see :mod:`.identity`). :meth:`RunStore.claim` refuses a store made by
a study with another identity, so runs trained on another split are never reused.
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path
from typing import Any

import torch

from nooverfit._io import (
    UNREADABLE,
    atomic_save,
    atomic_write_json,
    remove_stale_tmp,
)
from nooverfit.config import RunConfig
from nooverfit.engine import RunResult
from nooverfit.errors import BadInput
from nooverfit.history import History
from nooverfit.studies.identity import differences

log = logging.getLogger(__name__)

IDENTITY = "identity.json"
#: each finished stage's wall time in the session that trained it
SECONDS = "seconds.json"
#: the classic models fitted on the study's splits (:func:`.classic.stored`)
CLASSIC = "classic.json"
#: the CPU thread counts torch trained the stored runs with (:meth:`RunStore.threads`)
THREADS = "threads.json"
#: the store's files that are not runs
NOT_RUNS = frozenset({IDENTITY, SECONDS, CLASSIC, THREADS})

#: What a damaged run file raises while it is read back.
_DAMAGED = (*UNREADABLE, pickle.UnpicklingError)


class RunStore:
    """A folder of finished runs.

    Args:
        root: the folder (created on first write).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _json(self, config: RunConfig) -> Path:
        return self.root / f"{config.key}.json"

    def _weights(self, config: RunConfig) -> Path:
        return self.root / f"{config.key}.pt"

    def claim(self, identity: dict[str, Any], *, out: str | Path | None = None) -> None:
        """Make this store the one of the study ``identity`` describes, before any run.

        A store of the same study is kept (it resumes). Runs whose study is unknown (the
        identity file is missing or damaged) are deleted with a warning: they may come from
        another split. Stale temporary files of a killed write are removed.

        Args:
            identity: the study's identity (:func:`.identity.study_identity`).
            out: the study folder, as the user named it (for the error).

        Raises:
            BadInput: the store holds a study with other settings; the message names them.
        """
        path = self.root / IDENTITY
        if self.root.exists() and not self.root.is_dir():
            raise BadInput(f"{self.root} is a file; expected the study's run folder")
        remove_stale_tmp(self.root)
        runs = self.records()
        stored: Any = None
        if path.exists():
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
        if isinstance(stored, dict):
            changed = differences(stored, identity)
            if changed:
                where = out if out is not None else self.root.parent
                raise BadInput(
                    f"{where} holds a study with other settings ({'; '.join(changed)}); "
                    "use another --out, the same settings, or delete its runs/ folder"
                )
            return
        if runs:
            log.warning(
                "%s: %s; its %d stored runs cannot be checked against this study's data and "
                "split, so they are trained again",
                self.root,
                "identity.json is damaged" if path.exists() else "no identity.json",
                len(runs),
            )
            for p in runs:
                p.unlink(missing_ok=True)
                p.with_suffix(".pt").unlink(missing_ok=True)
        for name in NOT_RUNS - {IDENTITY}:  # of an unknown study too
            (self.root / name).unlink(missing_ok=True)
        atomic_write_json(path, identity)

    def records(self) -> list[Path]:
        """The stored runs' record files, sorted (none when the folder does not exist)."""
        found = sorted(self.root.glob("*.json")) if self.root.is_dir() else []
        return [p for p in found if p.name not in NOT_RUNS]

    def get(self, config: RunConfig) -> RunResult | None:
        """The stored run of ``config``, or None.

        A damaged run (unreadable JSON or weights, weights missing though recorded) is
        reported in one warning, deleted and returned as None, so it is trained again.
        """
        path = self._json(config)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(record, dict) or not isinstance(record.get("history"), dict):
                raise ValueError("not a run record")
            history = History.from_dict(record["history"])
            if len(history) == 0:
                raise ValueError("no epochs")
            state: dict[str, torch.Tensor] = {}
            weights = self._weights(config)
            if weights.exists() or record.get("weights"):
                state = torch.load(weights, map_location="cpu", weights_only=True)
                if not isinstance(state, dict) or not all(
                    isinstance(v, torch.Tensor) for v in state.values()
                ):
                    raise ValueError("weights are not a state dict")
        except _DAMAGED as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            log.warning(
                "stored run %s (%s) is damaged (%s); training it again",
                config.key,
                config.label or "run",
                first[:120],
            )
            path.unlink(missing_ok=True)
            self._weights(config).unlink(missing_ok=True)
            return None
        return RunResult(config, history, state, record.get("engine", ""))

    def put(self, result: RunResult, *, weights: bool = True) -> None:
        """Save a finished run: weights first, then the JSON that marks it done."""
        saved = bool(weights and result.state)
        if saved:
            atomic_save(self._weights(result.config), result.state)
        atomic_write_json(
            self._json(result.config),
            {
                "config": result.config.to_dict(),
                "history": result.history.to_dict(),
                "engine": result.engine,
                "weights": saved,
            },
        )

    def seconds(self) -> dict[str, float]:
        """Stage -> its wall time, as :meth:`put_seconds` last wrote it ({} if none)."""
        try:
            found = json.loads((self.root / SECONDS).read_text(encoding="utf-8"))
            return {str(k): float(v) for k, v in found.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def put_seconds(self, seconds: dict[str, float]) -> None:
        """Record each finished stage's wall time, so that a resumed study reports the time
        its stages took rather than the time to read them back."""
        atomic_write_json(self.root / SECONDS, seconds)

    def threads(self) -> set[int]:
        """The CPU thread counts torch trained the stored runs with, as :meth:`add_threads`
        wrote them (empty where none was: runs stored before it was recorded)."""
        try:
            found = json.loads((self.root / THREADS).read_text(encoding="utf-8"))
            return {int(n) for n in found}
        except (OSError, ValueError, TypeError):
            return set()

    def add_threads(self, count: int) -> None:
        """Record that runs were trained here with ``count`` CPU threads (a float sum's
        order, hence a loss's last bits, follows the count)."""
        if count not in (known := self.threads()):
            atomic_write_json(self.root / THREADS, sorted(known | {count}))
