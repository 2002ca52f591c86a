"""How many labelled runs each open question of the labelling audit (bench/README.md,
"Corpus labelling principles audited") touches, per part: read from the manifests' test
and clean curves alone (no diagnosis is run).

    PYTHONPATH=src python bench/_corpus_questions.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from _corpus_labels import (
    FLAT,
    MEMORIZED,
    SIGNIFICANT,
    STILL,
    moving_average,
    tail_fall,
)

from nooverfit._curves import tail_significance

DEFAULT_CORPUS = Path.home() / ".cache" / "nooverfit" / "log-corpus"


def floats(values: list) -> np.ndarray:
    return np.asarray([math.nan if v is None else v for v in values], dtype=float)


def questions(r: dict) -> list[str]:
    """The open questions this run's curves touch."""
    t = floats(r["test"])
    out = []
    if r["label"] is not None and r["label"] != r["regime"]:
        out.append("relabelled from its regime")
    if len(t) < 3 or not np.isfinite(t).all():
        return out
    smooth = moving_average(t)
    low = int(np.argmin(smooth))
    n = len(t)
    improving = tail_fall(t) > STILL and low >= n - 2 and tail_significance(t) >= SIGNIFICANT
    flat = not smooth[-1] > (1 + FLAT) * smooth[low] or low > n - 3
    clean = r.get("clean", {})
    if r["spec"]["loss"] == "ce" and clean.get("train_acc"):
        train_acc, test_acc = floats(clean["train_acc"])[-1], floats(clean["test_acc"])[-1]
        gap = train_acc - test_acc > 0.1
        if gap and train_acc <= 0.97 and flat and not improving:
            out.append("gap over 10 points, training under 97 %, flat test loss")
        if gap and train_acc > 0.97 and improving and r["regime"] != "overfitting":
            out.append("gap with a still-falling test loss")
    train = floats(clean.get("train_eval", []))
    if r["spec"]["loss"] != "ce" and len(train) == n and np.isfinite(train).all():
        rise = smooth[-1] / smooth[low] - 1
        if train[-1] < MEMORIZED * t[-1] and rise <= 0.03 and not improving:
            out.append("regression gap (training under 0.3 of test) with a flat test loss")
    if "above a constant predictor" in r.get("why", "") and r["label"] == "diverging":
        level = max(r["constant"], r.get("uninformed", 0.0))
        if smooth.min() < 2 * level:
            out.append("failed by the steady check, under 2x the chance level")
    if r.get("why") == "test and clean training loss rose together":
        out.append("test and training loss rose together: diverging")

    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    counts: dict[str, Counter] = defaultdict(Counter)
    for file in sorted(args.corpus.glob("manifest*.jsonl")):
        for line in file.read_text().splitlines():
            r = json.loads(line)
            if r["label"] is None and not any("gap" in q for q in questions(r)):
                continue
            for q in questions(r):
                counts[q][r["part"]] += 1
    for q, parts in counts.items():
        print(f"{q}: " + ", ".join(f"{p} {k}" for p, k in sorted(parts.items())))


if __name__ == "__main__":
    main()
