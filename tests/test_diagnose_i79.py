"""i79: a count of one reads in the singular in the diagnosis texts ("1 epoch", not
"1 epochs"), and an underfit of one epoch asks for two."""

import math

import numpy as np

from nooverfit import diagnose
from nooverfit._underfit_advice import underfitting_causes
from nooverfit.diagnosis import Evidence, Verdict
from nooverfit.history import History


def test_diagnose_one_epoch_says_epoch_in_the_singular():
    d = diagnose(History.from_columns({"loss": [1.0]}))
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert "from 1 evaluation:" in d.explanation  # (i83: rows counted as evaluations)
    assert "1 evaluations" not in d.explanation


def test_diagnose_two_epochs_keeps_the_plural():
    d = diagnose(History.from_columns({"loss": [1.0, 0.9]}))
    assert "from 2 evaluations:" in d.explanation


def test_underfitting_remedy_of_one_epoch_is_singular():
    ev = Evidence(
        epochs=(0,),
        train=np.array([1.0]),
        val=np.array([1.0]),
        onset=0,
        best=0,
        rise=0.0,
        learned=0.0,
        signal="",
        tail_drop=0.0,
        early_stopped=False,
        metric_gap=math.nan,
    )
    reasons = [r.reason for _, _, rs in underfitting_causes(ev, 1) for r in rs]
    longer = [r for r in reasons if "reach a minimum" in r]
    assert longer == ["1 epoch may not have been enough to reach a minimum."]
