"""Relabelling of an existing log corpus (``make_log_corpus.py --relabel``) and where each
run's log lies, apart from the generator that trains and writes the runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

from _corpus_confidence import confidence_fields
from _corpus_data import load_data
from _corpus_labels import constant_loss, label, references, uninformed_loss


def relabel(root: Path) -> None:
    """Label every run of ``root``'s manifests again by ``_corpus_labels``'s principles
    (the generator's clean training curves are not stored: only the test curve, the
    validation curve as ``diagnose`` reads it, and the constant predictor's loss count).
    Runs that fit no label keep their record with ``label`` null and are not scored."""
    from nooverfit.logs import read_log

    changed: dict[tuple[str, str], int] = {}
    files = sorted(root.glob("manifest*.jsonl"))
    best = references([json.loads(line) for f in files for line in f.read_text().splitlines()])
    for file in files:
        records = [json.loads(line) for line in file.read_text().splitlines()]
        for r in records:
            data = load_data(r["data"], 0)
            constant = constant_loss(data["y_test"], r["spec"]["loss"])
            history = read_log(root / r["log"])
            val = [v for v in history.val_loss if math.isfinite(v)]
            reference = best.get((r["data"], r["spec"]["loss"]), 0.0)
            clean = {**r["clean"], "loss": r["spec"]["loss"]} if "clean" in r else None
            blank = uninformed_loss(data["y_test"], r["spec"]["loss"], data["classes"])
            lab, onset, why = label(
                r["regime"], r["test"], val, r["val_epochs"], constant, clean, reference, blank
            )
            key = (r["regime"], str(lab))
            changed[key] = changed.get(key, 0) + 1
            r.update(label=lab, onset=onset, constant=constant, uninformed=blank, why=why)
            r.update(confidence_fields(r.get("label_votes", {}), lab))
        file.write_text("".join(json.dumps(r) + "\n" for r in records))
    for (regime, lab), count in sorted(changed.items()):
        print(f"{regime:>16} -> {lab:<16} {count}")


def log_path(out: Path, framework: str) -> Path:
    """What a user would pass to ``nooverfit diagnose`` for this run."""
    if framework == "keras":
        return out / "training.log"
    if framework == "hf":
        found = sorted(out.rglob("trainer_state.json"))
        return found[0] if found and found[0].parent == out else out
    return out
