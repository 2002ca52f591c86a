"""Relabelling of an existing log corpus (``make_log_corpus.py --relabel``) and where each
run's log lies, apart from the generator that trains and writes the runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from _corpus_confidence import confidence_fields
from _corpus_data import load_data
from _corpus_labels import PRINCIPLES, constant_loss, label, references, uninformed_loss


def relabel(root: Path, principles: int = PRINCIPLES) -> None:
    """Label every run of ``root``'s manifests again by ``_corpus_labels``'s principles
    (``principles``: 2, or 1 as before i68's audit) from what the manifest stores: the test
    curve, the generator's clean training curves and test accuracy (``clean``), the
    validation curve as ``diagnose`` reads it (for the onset) and the constant
    predictor's loss. Nothing is trained again. Runs that fit no label keep their record
    with ``label`` null and are not scored.

    The first relabelling by other principles than the stored labels' keeps them in
    ``label_v<k>`` (never overwritten), so that ``diagnose_accuracy.py`` can print old and
    new labels side by side. The bootstrap votes (``label_votes``, from per-sample test
    losses that are not stored) were cast by the principles in ``votes_principles`` (1
    where absent): a run whose label these principles changed has no confidence then
    (``ambiguous`` and ``label_confidence`` dropped, ``confidence_unknown`` set), as
    the old votes say nothing about the new label."""
    from nooverfit.logs import read_log

    changed: dict[tuple[str, str], int] = {}
    files = sorted(root.glob("manifest*.jsonl"))
    best = references([json.loads(line) for f in files for line in f.read_text().splitlines()])
    cache: dict[str, dict] = {}
    for file in files:
        records = [json.loads(line) for line in file.read_text().splitlines()]
        for r in records:
            data = cache.setdefault(r["data"], load_data(r["data"], 0))
            constant = constant_loss(data["y_test"], r["spec"]["loss"])
            history = read_log(root / r["log"])
            val = [v for v in history.val_loss if math.isfinite(v)]
            reference = best.get((r["data"], r["spec"]["loss"]), 0.0)
            clean = {**r["clean"], "loss": r["spec"]["loss"]} if "clean" in r else None
            blank = uninformed_loss(data["y_test"], r["spec"]["loss"], data["classes"])
            lab, onset, why = label(
                r["regime"],
                r["test"],
                val,
                r["val_epochs"],
                constant,
                clean,
                reference,
                blank,
                principles=principles,
            )
            stored, cast = r.get("principles", 1), r.get("votes_principles", 1)
            if stored != principles:
                r.setdefault(f"label_v{stored}", r["label"])
            voted = r.get(f"label_v{cast}", r["label"] if stored == cast else "?")
            key = (str(r.get(f"label_v{stored}", r["label"])), str(lab))
            changed[key] = changed.get(key, 0) + 1
            r.update(label=lab, onset=onset, constant=constant, uninformed=blank, why=why)
            r["principles"] = principles
            for k in ("ambiguous", "label_confidence", "confidence_unknown"):
                r.pop(k, None)
            votes = r.get("label_votes", {})
            if cast == principles or lab == voted:
                r.update(confidence_fields(votes, lab))
            elif votes and lab is not None:
                r["confidence_unknown"] = True
        file.write_text("".join(json.dumps(r) + "\n" for r in records))
    print("stored label -> new label: runs")
    for (old, lab), count in sorted(changed.items()):
        print(f"{old:>16} -> {lab:<16} {count}")


def log_path(out: Path, framework: str) -> Path:
    """What a user would pass to ``nooverfit diagnose`` for this run."""
    if framework == "keras":
        return out / "training.log"
    if framework == "hf":
        found = sorted(out.rglob("trainer_state.json"))
        return found[0] if found and found[0].parent == out else out
    return out
