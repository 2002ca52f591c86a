"""Helpers shared by the diagnosis regression tests (``tests/test_diagnose_*.py``): where
their logs lie, a column's finite values, the JSON written beside a log (its test curve,
which ``diagnose`` never sees) and two synthetic runs that more than one file reads."""

import json
from pathlib import Path

import numpy as np

from nooverfit.history import History

DATA = Path(__file__).parent / "data"


def finite(h: History, name: str) -> np.ndarray:
    """Column ``name`` of ``h`` without its missing (non-finite) values."""
    x = np.asarray(h.column(name), dtype=float)
    return x[np.isfinite(x)]


def read_side(name: str) -> dict:
    """The JSON file ``tests/data/<name>`` beside a log (its test curve, references)."""
    side: dict = json.loads((DATA / name).read_text())
    return side


def flat_run(train_level: float, val_level: float, acc: float, n: int = 30) -> History:
    """A flat run with a fixed accuracy and deterministic noise on both losses."""
    rng = np.random.default_rng(64)
    wobble = rng.normal(0, 0.003, (2, n))
    return History.from_columns(
        {
            "loss": list(train_level * (1 + wobble[0])),
            "val_loss": list(val_level * (1 + wobble[1])),
            "val_accuracy": list(acc + 0.01 * np.sin(np.arange(n))),
        }
    )


def accuracy_only() -> History:
    """i88's ``acc_only.csv``: epoch, accuracy, val_accuracy, no loss. Validation
    accuracy peaks at 0.90 (epoch 9) where training has 0.95, then falls."""
    n = 30
    acc = [min(0.999, 0.5 + 0.05 * i) for i in range(n)]
    val = [min(0.90, 0.45 + 0.05 * i) - 0.004 * max(0, i - 12) for i in range(n)]
    return History.from_columns({"accuracy": acc, "val_accuracy": val}, epoch=list(range(n)))
