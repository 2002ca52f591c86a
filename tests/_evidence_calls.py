"""Counting the evaluations of a study's evidence (:func:`nooverfit.studies.evidence.evidence`):
shared by the report's and the CLI's tests that a render, and a ``nooverfit study`` run,
compute it once and pass it down."""

from __future__ import annotations

import sys

import pytest

from nooverfit.studies import evidence as module


def count_evidence(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Wrap ``evidence`` wherever a loaded nooverfit module holds it (imported at the top
    of a module, or looked up in :mod:`nooverfit.studies.evidence` inside a function);
    the returned list grows by one per call."""
    original = module.evidence
    calls: list[object] = []

    def counted(result, **kwargs):
        calls.append(result)
        return original(result, **kwargs)

    for name, loaded in list(sys.modules.items()):
        if name.startswith("nooverfit") and getattr(loaded, "evidence", None) is original:
            monkeypatch.setattr(loaded, "evidence", counted)
    return calls
