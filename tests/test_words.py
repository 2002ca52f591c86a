"""The count-with-noun wording helper."""

import pytest

from nooverfit._words import counted


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0 epochs"), (1, "1 epoch"), (2, "2 epochs"), (60, "60 epochs")]
)
def test_counted_is_singular_for_exactly_one(n, expected):
    assert counted(n, "epoch") == expected


def test_counted_takes_an_irregular_plural():
    assert counted(1, "class", "classes") == "1 class"
    assert counted(3, "class", "classes") == "3 classes"
