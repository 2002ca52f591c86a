"""The report's sentence on twice the training data: the change the learning curve measured,
with its sign, whichever way it went."""

import dataclasses
import functools
import re

from _page import Page
from nooverfit.report import render
from test_report_agreement_tables import _at


def _with_baseline_curve(result, values):
    """``result`` with the baseline's learning curve at ``values`` (one per size)."""
    curve = result.learning
    std = curve.series["baseline"][1]
    series = {**curve.series, "baseline": (tuple(values), std)}
    return dataclasses.replace(result, learning=dataclasses.replace(curve, series=series))


def _shown_change(sizes, values, size):
    """The change from ``size`` to twice it per class, by hand: each accuracy read off the
    curve (linear in log size between the measured sizes around it, the agreement tests'
    reading) and rounded as shown."""
    at = functools.partial(_at, sizes, values)
    return f"{round(100 * at(2 * size), 1) - round(100 * at(size), 1):+.1f}"


def test_a_drop_on_twice_the_data_is_said_as_a_change_not_a_gain(tiny_study):
    """The breast-cancer CSV study's recommendation lost 0.6 points on twice its rows, and
    the report read "gained, read between measured points, -0.6 points"."""
    result, _ = tiny_study
    sizes, size = result.learning.sizes, result.settings.train_per_class
    values = [0.95 - 0.02 * i for i in range(len(sizes))]  # lower at every larger size
    change = _shown_change(sizes, values, size)
    assert change.startswith("-")  # the premise
    text = Page(render(_with_baseline_curve(result, values), {})).text("doubling")
    assert (
        f"({2 * size} per class instead of {size}) changed the validation accuracy of the "
        f"recommended configuration by {change} points on the learning curve, "
    ) in text
    assert "gained" not in text
    # the two accuracies follow in parentheses, a space apart from the words
    assert re.search(r"learning curve, (measured|read between measured points) \(\d", text)


def test_a_rise_on_twice_the_data_reads_with_its_plus_sign(tiny_study):
    result, _ = tiny_study
    sizes, size = result.learning.sizes, result.settings.train_per_class
    values = [0.50 + 0.05 * i for i in range(len(sizes))]
    change = _shown_change(sizes, values, size)
    assert change.startswith("+")
    text = Page(render(_with_baseline_curve(result, values), {})).text("doubling")
    assert f"recommended configuration by {change} points on the learning curve, " in text
