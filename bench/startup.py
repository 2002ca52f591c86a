"""Start-up time of the command line: ``--help``, ``--version`` and ``diagnose LOG.csv``.

Each command runs as a fresh subprocess (``python -m nooverfit ...``), five times; the
fastest run counts (the others measure the machine's other load). Targets (issue 18):
``--help`` and ``--version`` <= 0.5 s, ``diagnose LOG.csv`` <= 1.5 s on a 2-core CPU.

    python bench/startup.py                       # this checkout's src/
    python bench/startup.py --against /work/main/src   # and another tree, side by side

The log is a Keras-CSVLogger-style file of 60 epochs of an overfitting run, written to a
temporary folder.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"--help": 0.5, "--version": 0.5, "diagnose LOG.csv": 1.5}


def write_log(path: Path, epochs: int = 60) -> Path:
    """An overfitting curve: training loss falls, validation loss turns up at epoch 20."""
    lines = ["epoch,accuracy,loss,val_accuracy,val_loss"]
    for e in range(epochs):
        loss = 2.0 * math.exp(-e / 8) + 0.01
        val = 1.0 + 1.2 * math.exp(-e / 6) + 0.0015 * (e - 20) ** 2 * (e > 20)
        lines.append(f"{e},{1 - loss / 2.1:.4f},{loss:.4f},{0.9 - val / 20:.4f},{val:.4f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fastest(args: list[str], src: Path, repeats: int) -> float:
    """The fastest wall time of ``repeats`` runs of ``python -m nooverfit ARGS``."""
    env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "100"}
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "nooverfit", *args], env=env, capture_output=True
        )
        best = min(best, time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"nooverfit {' '.join(args)} failed:\n{done.stderr.decode()}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="tree measured")
    parser.add_argument("--against", type=Path, help="another src/ tree, timed alongside")
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = write_log(Path(tmp) / "LOG.csv")
        commands = {
            "--help": ["--help"],
            "--version": ["--version"],
            "diagnose LOG.csv": ["diagnose", str(log)],
        }
        head = f"{'command':<18} {'target':>7} {'this':>7}"
        if opts.against:
            head += f" {'against':>8} {'ratio':>6}"
        print(f"{head}  (seconds, fastest of {opts.repeats})")
        for name, args in commands.items():
            if name == "--version" and opts.against and not _has_version(opts.against):
                other = math.nan
            else:
                other = fastest(args, opts.against, opts.repeats) if opts.against else math.nan
            this = fastest(args, opts.src, opts.repeats)
            ok = "ok" if this <= TARGETS[name] else "MISSED"
            row = f"{name:<18} {TARGETS[name]:>7.1f} {this:>7.2f}"
            if opts.against:
                row += f" {other:>8.2f} {other / this:>5.1f}x"
            print(f"{row}  {ok}")


def _has_version(src: Path) -> bool:
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(
        [sys.executable, "-m", "nooverfit", "--version"], env=env, capture_output=True
    )
    return done.returncode == 0


if __name__ == "__main__":
    main()
