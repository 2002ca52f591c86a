"""Which wrong verdicts rest on a regression's target scale, which no log carries.

A classifier's log carries its level of guessing (``ln K`` from the class count, read off
the accuracy); a regression's does not: its loss is in the squared (MSE) or plain (MAE)
units of targets whose variance the log never states (a house price in dollars, a
standardized target). Two of the corpus's labels read a regression's test loss against
that level (``bench/_corpus_labels.py``):

- **diverging** for a level: the test loss stayed 10x above the constant predictor's, or
  above it, or swung without getting clearly below it (principle 1; the label's ``why``
  names "a constant predictor"). A non-finite test loss, or one that ended far above its
  own minimum, is a ratio of the curve to itself and stays readable;
- **underfitting** against **good_fit**: the test loss ended above, or below, half-way
  from the best loss any run of the corpus reached on that data set up to the constant
  predictor's (principle 4): two levels, neither in the log.

The ceiling's validation label (``validation_label``) is given both levels, from the
validation targets and the whole corpus, so a miss there can count as "knowable" while a
reader of the log alone cannot know it. A network's first outputs sit near zero, so a
sound run's first MSE is about the mean squared target, ``1 + (mean / sd) ** 2`` times
the constant predictor's: 101 times for targets whose mean lies ten standard deviations
from zero. An MSE falling a hundredfold toward a level it cannot name is then a sound run
on unstandardized targets or one blown up by a step too large on standardized ones (the
corpus's are standardized). :func:`scale_bound` marks those misses so that the score can
be read with and without them (s32 i172).
"""

from __future__ import annotations

from typing import Any

#: The verdicts that principle 4 tells apart by a regression's level alone.
_LEVEL_PAIR = frozenset({"underfitting", "good_fit"})


def scale_bound(record: dict[str, Any], verdict: str) -> bool:
    """Whether the verdict ``verdict`` on the run of ``record`` (a manifest record: its
    ``kind``, ``label`` and the label's ``why``) misses a label that rests on the
    regression's target scale: a diverging label read from the level of the constant
    predictor, or an underfit read as a good fit (or back). False for classifiers, right
    verdicts and every other miss."""
    label = record.get("label")
    if record.get("kind") != "reg" or label is None or verdict == label:
        return False
    if label == "diverging":
        return "constant predictor" in str(record.get("why", ""))
    return {label, verdict} <= _LEVEL_PAIR
