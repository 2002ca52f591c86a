"""Pins the results of small deterministic studies, bit for bit, so refactors of the study
(stages, options, typed results) provably change nothing.

The fixture ``fixtures/study_regression.json`` holds, per case, a digest of the whole
``results.json`` (timings removed), a digest of every run's history, the selected variant
and the test scores. It was computed before the study was reshaped (issue 19); regenerate
it only for an intended change of results, with ``python tests/test_study_regression.py``
(regenerated for issue 21, which added the ``following`` case: the other cases' values
were unchanged; and for issue 16, whose ``RunConfig.init`` every saved configuration now
holds: histories, selections and test scores were unchanged; and for the validation
curves' ``halved`` flags: only the results.json digests changed; and for the per-class
figures of review i36, ``extras.class_scores`` and the audit balance's ``pool`` and
``data_imbalance``: only the results.json digests changed; and for the removal of every
bias before batch norm: batch-norm runs' histories changed, and the transfer case now
recommends an ensemble, 37.9 % on its test split where transfer:io scored 28.6 %; and
for the scale-free divergence tests of issue 15: one 4-epoch run's diagnosis, only the
results.json digests changed; and on 2026-11-30 for a new kind of CPU (an AMD EPYC where it
had been pinned on an Intel Xeon: the code was the same, the last bits of the sums not),
when the CPU's model name joined the pinned environment; and by i72 for the majority-class
caption of tied training classes, ``extras.class_scores.majority.caption``: only the
results.json digests changed against main 72a1345 regenerated the same way; that main had
left the fixture stale: since i69's rule for short runs whose losses both still fall
(``_still.falling_steadily``, issue 15) the four digits cases' 6-epoch candidate reads
still_improving where the fixture pinned underfitting); and in session 18 for i75's
diagnosis texts (the underfit causes quote the training accuracy that decided them, the
still-improving cause of short runs says the loss fell at every evaluation): only the
results.json digests changed, the diff of results.json being those reasons alone; and by
i104 for results.json schema 2 (each history's ``kept_epoch``, and ``best_epoch`` as the
diagnosis's): only the digests changed, each matching the old one once the history is
written back in schema 1's layout; and in session 22 for the audit's ``repeats`` (identical
feature rows, :mod:`nooverfit.repeats`): only the results.json digests changed, each equal to
the old one with ``extras.audit.repeats`` left out; and then for the tie caption's unit
("20 images each" on digits, where it said rows): only the results.json digests changed,
each equal to the old one with the caption's words mapped back; and by i113 for the audit's
columns (``identifiers``, ``missing``, ``constant``, ``notes``, all empty on digits) and
``repeats.copies``: only the results.json digests changed, each equal to the old one with
those keys left out; and in session 24 for the audit pairs' CSV lines (``line``,
``match_line``, null on digits, i126): only the results.json digests changed, each equal to
the old one with those keys left out; and by i128 for the audit pairs' image files (``path``,
``match_path``, null on digits): only the results.json digests changed, each equal to the old
one with those keys left out; and by i139 for the audit's ``copies`` (feature columns that copy
the label, empty on digits): only the results.json digests changed, each equal to the old one
with that key left out; and by i143 for ``extras.transfer`` (what each transfer strategy
retrained and kept frozen, in words): only the transfer case's results.json digest changed,
equal to the old one with that key left out; and in session 30 for a machine whose CPU was
also named "AMD EPYC" but whose vector unit was AVX2 (every run's history digest differed,
the selections, verdicts and test scores did not), when torch's CPU capability joined the
pinned environment; and then for i163's still-improving texts (the fall over the last third
as a share of where that stretch began: "fell 12.2%" now reads "fell 11.5%"): only the
results.json digests changed, the diff of results.json being those reasons alone; and by
s31 i168 for ``extras.threads`` (torch's CPU threads, which the report's command now names):
only the results.json digests changed, each equal to the old one with that key left out;
and by s33 i176 for each remedy's ``knobs`` (its settings as values, which
:mod:`nooverfit.remedy_words` writes in a framework's words): only the results.json digests
changed, each equal to the old one with those keys left out.
Float results are exact for one torch build on one kind of CPU: elsewhere (another torch,
machine or CPU model) the exact comparison is skipped and only the study's structure is
compared.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import platform
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

FIXTURE = Path(__file__).parent / "fixtures" / "study_regression.json"


def _without_timing(results: dict[str, Any]) -> dict[str, Any]:
    results = dict(results)
    results["settings"] = {k: v for k, v in results["settings"].items() if k != "seconds"}
    results.pop("costs", None)  # the stages' wall times
    results["runs"] = {
        key: {**run, "history": _history_without_timing(run["history"])}
        for key, run in results["runs"].items()
    }
    return results


def _history_without_timing(history: dict[str, Any]) -> dict[str, Any]:
    extras = {k: v for k, v in history.get("extras", {}).items() if k != "seconds"}
    return {**history, "extras": extras}


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _summary(result: Any) -> dict[str, Any]:
    data = _without_timing(result.to_dict())
    return {
        "digest": _digest(data),
        "recommended": data["recommended"]["name"],
        "recommended_config": data["recommended"]["config"],
        "verdict": data["baseline_diagnosis"]["verdict"],
        "test": data["test"],
        "runs": {key: _digest(run["history"]) for key, run in sorted(data["runs"].items())},
        "labels": sorted(run["config"]["label"] for run in data["runs"].values()),
    }


def _cases() -> dict[str, Any]:
    """Each case's result, computed on the current code."""
    from conftest import TINY
    from nooverfit.config import RunConfig
    from nooverfit.data import load_dataset
    from nooverfit.data.split import make_split
    from nooverfit.data.tensors import prepare
    from nooverfit.studies import study
    from nooverfit.studies.compare import compare

    common = dict(width=16, train_per_class=10, budget=TINY, seeds=2)
    digits = load_dataset("digits")
    data = prepare(digits, make_split(digits.y, test=0.25, val=0.2, seed=3), device="cpu")
    candidate = RunConfig(width=16, epochs=6, train_per_class=10, l2=1e-3, dropout=0.3, seed=3)

    def transfer() -> Any:
        from nooverfit.transfer.pretrain import class_subset, pretrain

        source = pretrain(class_subset(digits, range(5)), RunConfig(width=16, epochs=3))
        return study(
            digits,
            classes="5-9",
            width=16,
            train_per_class=5,
            budget=TINY,
            seeds=1,
            epochs=5,
            source=source,
            learning_curves=False,
            device="cpu",
        )

    # issue 21's machinery: epochs by the data's size, runs following their curve (factor 1:
    # from the 4th epoch, at the first without a new best), halving of the grids
    following = dataclasses.replace(
        TINY, epochs=20, reference=100, follow=1.0, min_epochs=4, min_steps=0, halving=0.5
    )

    return {
        "sequential": lambda: study("digits", engine="sequential", device="cpu", **common),
        "fused": lambda: study("digits", engine="fused", device="cpu", **common),
        "following": lambda: study(
            "digits", engine="fused", device="cpu", **{**common, "budget": following}
        ),
        "compare": lambda: compare(data, candidate, name="tuned"),
        "transfer": transfer,
    }


def _cpu() -> str:
    """The CPU's model name: float sums in torch's kernels take a different order on
    another vector unit (an AMD EPYC and an Intel Xeon give different last bits)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor()


def _environment() -> dict[str, str]:
    """Where the exact values hold: torch's build, the machine, the CPU's model name and
    the vector unit torch's kernels use (``get_cpu_capability``: a virtual machine names
    every AMD EPYC alike, while one with AVX-512 and one with AVX2 alone sum in another
    order)."""
    return {
        "torch": torch.__version__,
        "machine": platform.machine(),
        "cpu": _cpu(),
        "capability": torch.backends.cpu.get_cpu_capability(),
    }


@pytest.fixture(scope="module")
def pinned() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("case", ["sequential", "fused", "following", "compare", "transfer"])
def test_study_results_match_the_pinned_ones(case, pinned):
    expected = pinned["cases"][case]
    torch.manual_seed(0)
    got = _summary(_cases()[case]())
    # The structure is the same everywhere: which runs, which variant won.
    assert got["labels"] == expected["labels"]
    assert sorted(got["runs"]) == sorted(expected["runs"])
    if pinned["environment"] != _environment():
        pytest.skip(f"exact values pinned on {pinned['environment']}, not {_environment()}")
    assert got["recommended"] == expected["recommended"]
    assert got["recommended_config"] == expected["recommended_config"]
    assert got["verdict"] == expected["verdict"]
    assert got["test"] == expected["test"]
    assert got["runs"] == expected["runs"]
    assert got["digest"] == expected["digest"]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    torch.set_num_threads(1)
    cases = {}
    for name, make in _cases().items():
        torch.manual_seed(0)
        cases[name] = _summary(make())
        print(name, cases[name]["recommended"], cases[name]["digest"][:12])
    FIXTURE.write_text(
        json.dumps({"environment": _environment(), "cases": cases}, indent=1, sort_keys=True)
        + "\n"
    )
