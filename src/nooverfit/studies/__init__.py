"""The study: plan, train, select on validation, test once, explain."""

from nooverfit.studies.result import RemedyOutcome, RunRecord, StudyResult, TestScore, Variant
from nooverfit.studies.run import study

__all__ = ["RemedyOutcome", "RunRecord", "StudyResult", "TestScore", "Variant", "study"]
