"""Re-rendering a results.json written before the audit left the class-balance warnings
to the class scores: each warning shows once, not in both sections."""

from __future__ import annotations

import dataclasses

from nooverfit.audit import unrepeated_warnings
from nooverfit.report import render

WARNING = "the training set is imbalanced: class '1' has 3.0x the rows of class '7'"


def test_an_old_results_json_shows_each_balance_warning_once(tiny_study):
    result, _ = tiny_study
    audit, scores = result.extras.get("audit"), result.extras.get("class_scores")
    assert isinstance(audit, dict) and isinstance(scores, dict)
    old = {
        **result.extras,
        "audit": {**audit, "warnings": [*audit.get("warnings", []), WARNING, "other"]},
        "class_scores": {**scores, "warnings": [*scores.get("warnings", []), WARNING]},
    }
    html = render(dataclasses.replace(result, extras=old), {})
    assert html.count("class &#39;1&#39; has 3.0x") == 1
    assert "<li><b>other</b></li>" in html  # the audit's own warnings stay
    assert unrepeated_warnings(old) == [*audit.get("warnings", []), "other"]
    assert unrepeated_warnings(result.extras) is None  # a new results.json: nothing repeats
