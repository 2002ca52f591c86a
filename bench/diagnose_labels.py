"""Why the validation curve's label and the test curve's label disagree (the *ceiling* of
``diagnose_accuracy.py``), per corpus part: noise or knife-edge thresholds?

For every labelled run, three readings of its stored test curve (no retraining):

- **knife edge**: the label changes when one threshold of ``_corpus_labels`` moves by 20 %
  either way (``TEST_RISE``, ``FLAT``, ``STILL``, ``SIGNIFICANT``, ``UNDERFIT``);
- **jitter**: the share of 40 curves, the test curve's 5-point moving average plus its own
  residuals resampled with replacement, that keep the label (under 80 %: the label is
  within the curve's evaluation-to-evaluation noise). Parts built since 2026-11-30 carry
  the real thing instead (a bootstrap of the test samples, ``label_confidence``), which
  also sees the noise shared by all evaluations (which samples the test set holds);
- the test set's size.

Printed apart for runs whose validation label agrees with the test label and runs whose
does not, with ``diagnose``'s accuracy on steady and on jittery labels. Old labels are
never changed here.

    python bench/diagnose_labels.py [--corpus DIR] [--parts design,design2]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import _corpus_labels as labels
import numpy as np
from _corpus_data import load_data
from diagnose_accuracy import log_clean

from nooverfit._rules import diagnose
from nooverfit.logs import read_log

DEFAULT_CORPUS = Path.home() / ".cache" / "nooverfit" / "log-corpus"
THRESHOLDS = ("TEST_RISE", "FLAT", "STILL", "SIGNIFICANT", "UNDERFIT")


def _label(r: dict[str, Any], test: list[float], reference: float) -> str | None:
    clean = {**r["clean"], "loss": r["spec"]["loss"]} if "clean" in r else None
    blank = r.get("uninformed", 0.0)
    return labels.label(
        r["regime"], test, test, r["val_epochs"], r["constant"], clean, reference, blank
    )[0]


def knife_edge(r: dict[str, Any], reference: float) -> bool:
    """Whether moving one labelling threshold by 20 % either way changes the label."""
    base = _label(r, r["test"], reference)
    for name in THRESHOLDS:
        kept = getattr(labels, name)
        try:
            for factor in (0.8, 1.2):
                setattr(labels, name, kept * factor)
                if _label(r, r["test"], reference) != base:
                    return True
        finally:
            setattr(labels, name, kept)
    return False


def jitter_share(r: dict[str, Any], reference: float, draws: int = 40) -> float:
    """Share of residual-resampled test curves that keep the run's label."""
    t = np.asarray([math.nan if v is None else v for v in r["test"]], dtype=float)
    if not np.isfinite(t).all() or len(t) < 5:
        return 1.0
    smooth = labels.moving_average(t)
    residual = t - smooth
    rng = np.random.default_rng(len(t))
    base = _label(r, r["test"], reference)
    same = sum(
        _label(r, list(smooth + rng.choice(residual, size=len(t))), reference) == base
        for _ in range(draws)
    )
    return same / draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--parts", default="design,design2")
    args = parser.parse_args()
    records = [
        json.loads(line)
        for file in sorted(args.corpus.glob("manifest*.jsonl"))
        for line in file.read_text().splitlines()
    ]
    best = labels.references(records)
    for part in args.parts.split(","):
        rows: dict[bool, Counter[str]] = {True: Counter(), False: Counter()}
        pairs: Counter[tuple[str, str]] = Counter()
        sure = {True: [0, 0], False: [0, 0]}  # verdicts right / runs, by jitter-shaky label
        for r in records:
            if r["part"] != part or r["label"] is None:
                continue
            data = load_data(r["data"], 0)
            reference = best.get((r["data"], r["spec"]["loss"]), 0.0)
            own = labels.constant_loss(data["y_val"], r["spec"]["loss"])
            history = read_log(args.corpus / r["log"])
            seen = labels.validation_label(
                r, history.val_loss, reference, own, log_clean(history, r)
            )
            agree = seen == r["label"]
            row = rows[agree]
            row["runs"] += 1
            row["knife edge"] += knife_edge(r, reference)
            shaky = jitter_share(r, reference) < 0.8
            row["jitter < 80 %"] += shaky
            row["either"] += shaky or knife_edge(r, reference)
            row["test set < 200"] += len(data["y_test"]) < 200
            if "ambiguous" in r:
                row["bootstrap-ambiguous"] += r["ambiguous"]
            right = diagnose(history).verdict.value == r["label"]
            sure[shaky][0] += right
            sure[shaky][1] += 1
            if not agree:
                pairs[(r["label"], str(seen))] += 1
        print(f"\npart {part}")
        for agree, row in ((True, rows[True]), (False, rows[False])):
            n = max(row["runs"], 1)
            cells = ", ".join(
                f"{k} {v} ({100 * v / n:.0f} %)" for k, v in row.items() if k != "runs"
            )
            print(
                f"  validation {'agrees' if agree else 'disagrees'}: {row['runs']} runs; {cells}"
            )
        (a, b), (c, d) = sure[False], sure[True]
        print(
            f"  verdicts right on labels steady under jitter: {a}/{b} = {100 * a / max(b, 1):.1f}"
            f" %; on labels within the jitter: {c}/{d} = {100 * c / max(d, 1):.1f} %"
        )
        print(
            "  disagreements (test label -> validation label): "
            + ", ".join(f"{a} -> {b} {c}" for (a, b), c in pairs.most_common())
        )


if __name__ == "__main__":
    main()
