"""Verdict accuracy of ``diagnose`` on the labelled curve suite, per regime, and onset error.

The suite (``tests/fixtures/curves``, made by ``bench/make_curve_suite.py``) holds real
runs of nooverfit's ``fit`` on ``digits`` and ``synthetic`` in known regimes. The onset
reference is the minimum of the validation loss smoothed by a centered 5-epoch moving
average (computed here independently of ``diagnose``'s own smoothing).

    python bench/diagnose_accuracy.py [--suite tests/fixtures/curves]

Floor: >= 95 % correct verdicts; onset within 3 epochs of the reference.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from nooverfit._rules import diagnose
from nooverfit.history import History


def reference_onset(history: History, width: int = 5) -> int:
    """Epoch of the minimum of the centered ``width``-epoch moving average of val loss."""
    val = np.asarray(history.val_loss, dtype=float)
    half = width // 2
    smooth = np.array([np.nanmean(val[max(0, i - half) : i + half + 1]) for i in range(len(val))])
    return history.epoch[int(np.nanargmin(smooth))]


def ema_onset(history: History, weight: float = 0.6) -> int:
    """Epoch of the minimum of TensorBoard-style debiased exponential smoothing."""
    out, last, norm = [], 0.0, 0.0
    for v in history.val_loss:
        last, norm = weight * last + (1 - weight) * v, weight * norm + (1 - weight)
        out.append(last / norm)
    return history.epoch[int(np.nanargmin(out))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=Path("tests/fixtures/curves"))
    args = parser.parse_args()
    manifest = json.loads((args.suite / "manifest.json").read_text())
    right: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    onset_errors: list[int] = []
    other_errors: dict[str, list[int]] = {"ema 0.6": [], "raw minimum": []}
    wrong: list[str] = []
    seconds = 0.0
    for run in manifest:
        history = History.load(args.suite / run["file"])
        start = time.perf_counter()
        result = diagnose(history)
        seconds += time.perf_counter() - start
        regime = run["regime"]
        total[regime] += 1
        if result.verdict.value == regime:
            right[regime] += 1
        else:
            wrong.append(f"{run['file']}: {result.verdict.value}")
        if regime == "overfitting" and result.onset_epoch is not None:
            onset_errors.append(abs(result.onset_epoch - reference_onset(history)))
            other_errors["ema 0.6"].append(abs(result.onset_epoch - ema_onset(history)))
            raw = history.epoch[int(np.nanargmin(history.val_loss))]
            other_errors["raw minimum"].append(abs(result.onset_epoch - raw))
    print(f"{'regime':<17}{'runs':>6}{'correct':>9}{'accuracy':>10}")
    for regime in total:
        print(
            f"{regime:<17}{total[regime]:>6}{right[regime]:>9}"
            f"{100 * right[regime] / total[regime]:>9.1f}%"
        )
    n, ok = sum(total.values()), sum(right.values())
    print(f"{'all':<17}{n:>6}{ok:>9}{100 * ok / n:>9.1f}%")
    if onset_errors:
        errors = np.asarray(onset_errors)
        print(
            f"onset error (overfitting runs, epochs): mean {errors.mean():.2f}, "
            f"max {errors.max()}, within 3: {100 * np.mean(errors <= 3):.0f}%"
        )
        for name, values in other_errors.items():
            e = np.asarray(values)
            print(
                f"  vs {name} (sensitivity only): mean {e.mean():.2f}, max {e.max()}, "
                f"within 3: {100 * np.mean(e <= 3):.0f}%"
            )
    print(f"diagnose: {1e3 * seconds / n:.3f} ms per run")
    for line in wrong:
        print("wrong:", line)


if __name__ == "__main__":
    main()
