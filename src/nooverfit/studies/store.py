"""`RunStore`: finished runs on disk, so an interrupted study resumes where it stopped.

One JSON file per run (config, history, engine) and its weights beside it, keyed by
:attr:`RunConfig.key`. Files are written atomically: a killed study leaves whole files or
none, never a torn one.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from nooverfit._io import atomic_write, atomic_write_json
from nooverfit.config import RunConfig
from nooverfit.engine import RunResult
from nooverfit.history import History


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

    def get(self, config: RunConfig) -> RunResult | None:
        """The stored run of ``config``, or None (also for an unreadable file)."""
        path = self._json(config)
        if not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            history = History.from_dict(record["history"])
        except (OSError, ValueError, KeyError):
            return None
        state: dict[str, torch.Tensor] = {}
        if self._weights(config).exists():
            state = torch.load(self._weights(config), weights_only=True)
        return RunResult(config, history, state, record.get("engine", ""))

    def put(self, result: RunResult, *, weights: bool = True) -> None:
        """Save a finished run: weights first, then the JSON that marks it done."""
        if weights and result.state:
            atomic_write(self._weights(result.config), lambda tmp: torch.save(result.state, tmp))
        atomic_write_json(
            self._json(result.config),
            {
                "config": result.config.to_dict(),
                "history": result.history.to_dict(),
                "engine": result.engine,
            },
        )
