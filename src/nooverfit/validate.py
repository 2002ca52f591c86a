"""The rules every option follows, declared once and applied before any work.

Every command's options pass through :func:`check_options` (the CLI's guard calls it with
the parsed options), and the library's entry points call it with their arguments, so
``--epochs 0`` or ``--seeds 100000`` is refused the same way everywhere, in one line,
before data is loaded or a network trained. Output paths are checked here too.

The upper bounds are sanity limits, not tuning advice: a value past one is almost surely
a typo and would exhaust memory or time before it failed on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nooverfit._io import check_output, read_checkpoint
from nooverfit.errors import BadInput

MAX_SEEDS = 100  # a mean over 100 seeds is already as precise as studies need
MAX_SEED = 2**32 - 1  # numpy's and torch's seeds


@dataclass(frozen=True)
class Rule:
    """A number option's allowed range: ``low <= value <= high`` (``low`` excluded when
    ``open_low``, ``high`` when ``open_high``), an integer when ``integer``; ``note``
    explains a special value."""

    low: float
    high: float
    integer: bool = True
    open_low: bool = False
    open_high: bool = False
    note: str = ""

    def check(self, name: str, value: Any) -> None:
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = is_number and math.isfinite(value)
        if ok and self.integer:
            ok = float(value).is_integer()
        if ok:
            above = value > self.low if self.open_low else value >= self.low
            below = value < self.high if self.open_high else value <= self.high
            ok = above and below
        if not ok:
            kind = "an integer" if self.integer else "a number"
            low = ("(" if self.open_low else "[") + _number(self.low)
            high = _number(self.high) + (")" if self.open_high else "]")
            raise BadInput(f"{name} must be {kind} in {low}, {high}{self.note}, got {value!r}")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


#: Every number option of every command (and the library's study/train arguments).
RULES: dict[str, Rule] = {
    "epochs": Rule(1, 100_000),
    "width": Rule(1, 65_536),
    "depth": Rule(1, 64),
    "seeds": Rule(1, MAX_SEEDS),
    "seed": Rule(0, MAX_SEED),
    "train_per_class": Rule(0, 10_000_000, note=" (0: the whole training pool)"),
    "train_size": Rule(1, 100_000_000),
    "batch_size": Rule(1, 1_000_000),
    "lr": Rule(0, 1e9, integer=False, open_low=True),
    "l2": Rule(0, 1e3, integer=False),
    "weight_decay": Rule(0, 1e3, integer=False),
    "dropout": Rule(0, 1, integer=False, open_high=True),
    "augment": Rule(0, 1, integer=False),
    "temperature": Rule(0, 1e3, integer=False, open_low=True),
    "trials": Rule(1, 1_000_000),
    "workers": Rule(1, 256),
    "timeout": Rule(0, 1e9, integer=False, open_low=True),
    "heartbeat": Rule(1, 86_400),
    "max_width": Rule(1, 65_536),
    "max_depth": Rule(1, 64),
    "per_clip": Rule(1, 100_000),
    "rate": Rule(1, 1_000_000),
    "threads": Rule(0, 4096, note=" (0: torch's default)"),
    "idle": Rule(0, 1e9, integer=False, open_low=True),
    "near": Rule(0, 1e6, integer=False),
    "quantile": Rule(0, 1, integer=False, open_low=True, open_high=True),
    "interval": Rule(0, 1e6, integer=False, open_low=True),
}

#: Output options that name a file; every other ``out`` is a folder.
FILE_OUTPUTS = {("pretrain", "out"), ("diagnose", "plot"), ("predict", "out")}


def check_split_size(name: str, value: Any) -> None:
    """``--test``/``--val``: a fraction in (0, 1) or a whole count >= 1."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and value >= 1:
        ok = float(value).is_integer()
    if not ok or value <= 0:
        raise BadInput(f"{name} must be a fraction in (0, 1) or a whole count >= 1, got {value!r}")


def check_snr(spec: str, shown: str = "snr") -> None:
    """``--snr LOW:HIGH`` or ``N`` in dB: finite numbers in [-100, 100], LOW <= HIGH
    (``shown``: the option as the user typed it, ``--snr`` on the command line)."""
    parts = spec.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(parts) > 2 or not values or not all(math.isfinite(v) for v in values):
        raise BadInput(f"{shown} must be LOW:HIGH or a number in dB, got {spec!r}")
    if not all(-100 <= v <= 100 for v in values) or values[0] > values[-1]:
        raise BadInput(f"{shown} must be in [-100, 100] dB with LOW <= HIGH, got {spec!r}")


def check_device(device: Any) -> None:
    """A torch device this machine has: ``cpu``, ``cuda``, ``cuda:N``, ``mps`` (None: any).

    Raises:
        BadInput: an unknown device string, or a GPU this machine does not have.
    """
    if device is None:
        return
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise BadInput(
            f"device {device!r} is not a torch device; expected cpu, cuda, cuda:N or mps"
        ) from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise BadInput(f"device {device!r} asked for, but no CUDA GPU is available; use cpu")
        if parsed.index is not None and parsed.index >= count:
            raise BadInput(f"device {device!r} asked for, but this machine has {count} GPU(s)")
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise BadInput(f"device {device!r} asked for, but MPS is not available; use cpu")
    elif parsed.type not in ("cpu", "cuda", "mps"):
        raise BadInput(f"device {device!r} is not supported; expected cpu, cuda or mps")


def check_options(command: str = "", **options: Any) -> None:
    """Check every option that has a rule; None means "the default" and passes.

    Args:
        command: the command's name, when the options come from the command line: errors
            then name ``--train-per-class`` rather than ``train_per_class``, and output
            options are checked (``pretrain``'s ``--out`` is a file, others folders).
        **options: option values by parameter name (``seeds`` may be a list of seeds).

    Raises:
        BadInput: the first option that breaks its rule, named with the rule and value.
    """
    for name, value in options.items():
        shown = "--" + name.replace("_", "-") if command else name
        if value is None:
            continue
        if name == "seeds" and isinstance(value, (list, tuple)):
            RULES["seeds"].check(f"{shown} (their number)", len(value))
            for s in value:
                RULES["seed"].check("each seed", s)
        elif name in RULES:
            RULES[name].check(shown, value)
        elif name in ("test", "val"):
            check_split_size(shown, value)
        elif name == "snr":
            check_snr(str(value), shown)
        elif name == "device":
            check_device(value)
        elif name in ("source", "pretrained") and isinstance(value, (str, Path)):
            if not str(value).startswith(
                "torchvision:"
            ):  # read again later: checkpoints are small
                read_checkpoint(value, what=f"{shown} file")
        elif name in ("out", "plot") and isinstance(value, (str, Path)) and command:
            folder = (command, name) not in FILE_OUTPUTS
            check_output(value, folder=folder, option=f"--{name}")
