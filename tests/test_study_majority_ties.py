"""The majority-class sentence where the training rows' largest classes tie (train per
class 20/20/20): it says so, and which class the study's constant answer is and why."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import numpy as np
import pytest
from jinja2 import Environment, PackageLoader, select_autoescape

from nooverfit.report import pct
from nooverfit.studies.class_scores import majority_subject, summarize, summary_line

# rows 0-9: the training pool, classes a a a b b b b b c c (a 3, b 5, c 2);
# rows 10-13 validation (b a c b), 14-17 test (b b a c)
Y = np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 1, 0, 2, 1, 1, 1, 0, 2])
VAL, TEST = np.arange(10, 14), np.arange(14, 18)
CLASSES = ["a", "b", "c"]


def _summary(pool, train):
    rows = {0: {"val": VAL, "test": TEST, "pool": np.asarray(pool)}}
    training = {"train": np.asarray(train), "pool": np.asarray(pool)}
    return summarize(Y, rows, {}, CLASSES, training=training)


def test_tied_training_classes_and_the_pools_largest_answered():
    # training rows 0 1 | 3 4 | 8 9: 2 of each class; the pool's largest is b (5 rows)
    out = _summary(np.arange(10), [0, 1, 3, 4, 8, 9])
    assert out["majority"]["test"]["class"] == ["b"]  # b is 2 of the 4 test rows
    assert summary_line(out) == (
        "The training classes are tied (2 rows each): a constant answer fits them equally "
        "well whichever class it is, and the study's is the training pool's largest ('b'), "
        "the rows they were drawn from. Always answering 'b' scores 50.0% on the same test "
        "rows (validation 50.0%)"
    )


def test_tied_training_rows_that_are_the_whole_pool_answer_the_first_class():
    rows = [0, 1, 3, 4, 8, 9]  # the pool itself: 2 of each, argmax takes the lowest index
    out = _summary(rows, rows)
    assert out["majority"]["test"]["class"] == ["a"]
    assert summary_line(out) == (
        "The training classes are tied (2 rows each): a constant answer fits them equally "
        "well whichever class it is, and the study's is the first of them in the classes' "
        "order ('a'). Always answering 'a' scores 25.0% on the same test rows (validation "
        "25.0%)"
    )


def test_two_tied_of_three_and_a_tied_pool():
    # pool rows 0-5, 8, 9: a 3, b 3, c 2 (the largest tie too)
    pool = [0, 1, 2, 3, 4, 5, 8, 9]
    out = _summary(pool, [0, 1, 3, 4, 8])  # a 2, b 2, c 1
    assert out["majority"]["caption"] == (
        "The training classes are tied (2 rows each of 'a', 'b'): a constant answer fits "
        "them equally well whichever class it is, and the study's is the first of the "
        "training pool's largest in the classes' order ('a'). Always answering 'a'"
    )


def test_no_tie_keeps_the_largest_class_sentence():
    out = _summary(np.arange(10), [0, 1, 2, 3, 4, 8])  # a 3, b 2, c 1
    assert "caption" not in out["majority"]
    assert summary_line(out).startswith(
        "Always answering the training data's largest class ('b') scores 50.0%"
    )


def test_the_report_says_the_tie():
    out = _summary(np.arange(10), [0, 1, 3, 4, 8, 9])
    page = _render(out, seeds=1, classes=3)
    assert "The training classes are tied (2 rows each)" in page
    assert "Always answering &#39;b&#39; scores" in page
    assert "the training data&#39;s largest class" not in page


def test_the_caption_names_the_samples_of_image_data():
    """Digits' default study said "(20 rows each)" of its images."""
    rows = {0: {"val": VAL, "test": TEST, "pool": np.arange(10)}}
    training = {"train": np.asarray([0, 1, 3, 4, 8, 9]), "pool": np.arange(10)}
    out = summarize(Y, rows, {}, CLASSES, training=training, unit="images")
    assert out["majority"]["caption"].startswith(
        "The training classes are tied (2 images each): a constant answer fits them equally "
        "well whichever class it is, and the study's is the training pool's largest ('b'), "
        "the images they were drawn from."
    )


# Two seeds whose training pools' largest classes differ: seed 0's pool (rows 0-3) is
# a a a b, seed 1's (rows 4-7) a b b b; validation rows 8-11 a b a b, test rows 12-15 a a a b
Y2 = np.array([0, 0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1])
ROWS2 = {
    seed: {
        "pool": np.arange(4 * seed, 4 * seed + 4),
        "val": np.arange(8, 12),
        "test": np.arange(12, 16),
    }
    for seed in (0, 1)
}


def test_seeds_that_answer_different_classes_are_named_seed_by_seed():
    """The sentence said "the training data's largest class ('a', 'b')": one class cannot be
    two; each seed answers its own pool's largest, and the share is their mean."""
    out = summarize(Y2, ROWS2, {}, ["a", "b"])
    assert out["majority"]["test"] == {"class": ["a", "b"], "per_seed": [0.75, 0.25], "share": 0.5}
    assert summary_line(out) == (
        "Always answering each seed's largest training class (seed by seed: 'a', 'b') scores "
        "50.0% on the same test rows (validation 50.0%)"
    )


def test_a_tie_of_the_first_seed_is_said_of_it_when_the_seeds_answer_differently():
    """It said "the study's is the first of them in the classes' order ('a', 'b')", where 'b'
    is neither first nor of the tied seed: seed 1 answers its own pool's largest."""
    y = Y2.copy()
    y[:4] = [0, 0, 1, 1]  # seed 0's pool, trained on whole: a a b b, tied; 'a' comes first
    training = {"train": np.arange(4), "pool": np.arange(4)}
    out = summarize(y, ROWS2, {}, ["a", "b"], training=training)
    assert out["majority"]["caption"] == (
        "The first seed's training classes are tied (2 rows each): a constant answer fits "
        "them equally well whichever class it is, and the first seed's is the first of them "
        "in the classes' order ('a'). Always answering each seed's own (seed by seed: 'a', 'b')"
    )


def test_the_report_names_each_seeds_answer():
    out = summarize(Y2, ROWS2, {}, ["a", "b"])
    page = _render(out, seeds=2, classes=2, unit="rows")
    page = " ".join(page.split())
    assert (
        "Always answering each seed&#39;s largest training class (seed by seed: &#39;a&#39;, "
        "&#39;b&#39;) scores <b>50.0%</b> on the same test rows (per seed 75.0, 25.0)"
    ) in page


def _majority_rate(page: str) -> str:
    """The text of the report's majority-class paragraph, as a reader sees it."""
    found = re.search(r'<p id="majority-rate">(.*?)</p>', page, re.S)
    assert found is not None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


@pytest.mark.parametrize(
    "out",
    [
        _summary(np.arange(10), [0, 1, 3, 4, 8, 9]),  # tied: the caption
        _summary(np.arange(10), [0, 1, 2, 3, 4, 8]),  # one class answered
        summarize(Y2, ROWS2, {}, ["a", "b"]),  # each seed its own
        summarize(Y, {0: {"val": VAL, "test": np.arange(0)}}, {}, CLASSES),  # none answered
    ],
    ids=["tied", "one", "seed by seed", "no test rows"],
)
def test_majority_subject_is_the_reports_and_the_clis(out):
    """The report's sentence was the template's own copy of summary_line's logic (where no
    test row answered a class, it said "largest class ()")."""
    subject = majority_subject(out)
    seeds = len(out["majority"]["test"]["per_seed"])
    page = _render(out, seeds=seeds, classes=len(out["classes"]), unit="rows")
    test = f"{100 * out['majority']['test']['share']:.1f}%"
    said = f"{subject} scores {test} on the same test rows"
    assert _majority_rate(page).startswith(said)
    assert summary_line(out).startswith(said)
    assert "()" not in subject


def _render(out: dict, *, seeds: int, classes: int, **context: str) -> str:
    """The class-scores partial of a report whose recommended and baseline networks both
    score 0.5 (balanced and plain), rendered over ``out``."""
    for role in ("recommended", "baseline"):
        out[role] = {
            "balanced_accuracy": 0.5,
            "balanced_per_seed": [0.5] * seeds,
            "recall": [0.5] * classes,
        }
    env = Environment(
        loader=PackageLoader("nooverfit", "templates"), autoescape=select_autoescape()
    )
    result = SimpleNamespace(
        extras={"class_scores": out},
        test={role: SimpleNamespace(accuracy=0.5) for role in ("recommended", "baseline")},
    )
    return env.get_template("_class_scores.html").render(
        r=result, pct=pct, majority_subject=majority_subject, **context
    )
