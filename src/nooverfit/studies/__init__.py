"""The study: plan, train, select on validation, test once, explain."""

from nooverfit.studies.options import StudyOptions
from nooverfit.studies.result import (
    RemedyOutcome,
    RunRecord,
    StudyResult,
    StudySettings,
    TestScore,
    Variant,
)
from nooverfit.studies.run import study

__all__ = [
    "RemedyOutcome",
    "RunRecord",
    "StudyOptions",
    "StudyResult",
    "StudySettings",
    "TestScore",
    "Variant",
    "study",
]
