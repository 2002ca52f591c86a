"""A one-seed study's summary and captions say the selection's one-seed rule (any
validation gain counts: no standard error), as the report's remedies section does; the
digits study at --seeds 1 printed "at a seed-paired validation gain of 2 standard errors
(SE)" and "(means over 1 seed)"."""

from __future__ import annotations

import pytest

from conftest import TINY
from nooverfit.cli._app import console
from nooverfit.cli.study_summary import print_summary
from nooverfit.studies.evidence import evidence


@pytest.fixture(scope="module")
def one_seed():
    from nooverfit.studies import study

    return study(
        "digits",
        width=16,
        train_per_class=10,
        budget=TINY,
        seeds=1,
        engine="sequential",
        learning_curves=False,
        classic=False,
    )


def _printed(result) -> str:
    with console.capture() as captured:
        print_summary(result)
    return " ".join(captured.get().split())


def test_the_one_seed_summary_says_any_gain_is_selected(one_seed):
    ev = evidence(one_seed)
    assert len(ev.seeds) == 1
    assert any(d.selected for d in (*ev.remedies, *ev.ensembles))
    flat = _printed(one_seed)
    assert "2 standard errors" not in flat
    assert (
        "selected: the study counts a remedy as helping at any validation gain: one seed has "
        "no standard error." in flat
    )
    assert "(one seed)" in flat and "means over 1 seed" not in flat


def test_a_several_seed_summary_keeps_the_standard_error_rule(tiny_study):
    flat = _printed(tiny_study[0])
    assert "means over 2 seeds" in flat
    if "selected:" in flat:
        assert "at a seed-paired validation gain of 2 standard errors (SE)" in flat
