"""`compare`: a candidate configuration against its unregularized baseline on one split,
as a :class:`StudyResult`, so any chosen configuration (a tuned trial, say) gets the same
report as a study: verdicts, curves, validation scores, and one test score each. It is a
plan of one stage (:class:`~nooverfit.studies.plan.CompareStage`), run like a study's."""

from __future__ import annotations

import time
from typing import Any

from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.studies import plan
from nooverfit.studies.plan import unregularized
from nooverfit.studies.result import StudyResult
from nooverfit.studies.run import Asked, _card, run_plan
from nooverfit.studies.session import StudySession

__all__ = ["compare", "unregularized"]


def compare(data: SplitData, candidate: RunConfig, *, name: str = "") -> StudyResult:
    """Train ``candidate`` and its :func:`unregularized` baseline on ``data`` (the
    sequential engine), diagnose both, score both on validation and, once, on test.

    Args:
        data: the split (its seed is the runs' seed).
        candidate: the configuration to report on.
        name: how the report names the candidate (default: what it changes).
    """
    return compared(data, candidate, name=name)[0]


def compared(
    data: SplitData, candidate: RunConfig, *, name: str = ""
) -> tuple[StudyResult, StudySession]:
    """:func:`compare`, and the session that trained its runs (their weights)."""
    start = time.perf_counter()
    session = StudySession({candidate.seed: data}, engine="sequential")
    split = data.split
    asked = Asked(
        model=candidate.model, budget="compare", test=len(split.test), val=len(split.val)
    )
    return run_plan(plan.compare_stages(candidate, name), session, asked, start=start), session


def baseline_model(session: StudySession, result: StudyResult) -> dict[str, Any]:
    """The ``best_state`` and ``best_card`` of ``result``'s baseline (first seed), for a
    result that recommends the baseline after all (a tuned trial that did not beat it)."""
    first = session.seeds[0]
    return {
        "best_state": session.state(result.baseline.config.replace(seed=first)),
        "best_card": _card(session, result.baseline, None, first),
    }
