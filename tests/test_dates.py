"""Text columns of dates (:mod:`nooverfit.data.dates`): said as the file loads, not
silently one-hot encoded, and named in the refusal of a column of many dates."""

from __future__ import annotations

import pytest

from nooverfit.data import load_dataset
from nooverfit.data.columns import MAX_LEVELS, encode_columns
from nooverfit.data.dates import first_date, is_date
from nooverfit.errors import BadInput


@pytest.mark.parametrize(
    "text",
    [
        "2023-01-10",
        " 2023-1-9 ",
        "2023/12/31",
        "2023.01.10",
        "10/01/2023",
        "01/10/2023",  # US or European: a date either way
        "31.12.2023",
        "2023-01",
        "2023-01-10T10:30:00Z",
        "2023-01-10 10:30",
        "2023-01-10T10:30:15.5+02:00",
        "1/2/2023 10:30 PM",
        "10 Jan 2023",
        "10-Jan-2023",
        "Jan 10, 2023",
        "September 3rd, 2023",
    ],
)
def test_is_date_reads_the_common_forms(text):
    assert is_date(text)


@pytest.mark.parametrize(
    "text",
    ["2023", "2023-13-01", "2023-01-32", "13/13/2023", "1/2/23", "3/4", "1.5", "red", "2023-1",
     "Jan 2023 sale", "12:30", "v1.2.2", "2023-01-10 lunch"],
)  # fmt: skip
def test_is_date_leaves_numbers_and_words_alone(text):
    assert not is_date(text)


def test_first_date_needs_every_present_cell_a_date():
    assert first_date(["2023-01-10", "2023-02-01"]) == "2023-01-10"
    assert first_date(["2023-01-10", "soon"]) is None
    assert first_date([]) is None


def test_a_column_of_dates_is_said_not_silently_categories(tmp_path, caplog):
    """A 'visit' column of 5 dates was one-hot encoded, 5 unordered categories (and a new
    date an unseen one at predict time), without a word."""
    days = ["2023-01-10", "2023-01-11", "2023-02-01", "", "2023-03-15"]
    rows = "".join(f"{days[k % 5]},{k % 7},{k % 2}\n" for k in range(20))
    path = tmp_path / "v.csv"
    path.write_text("visit,k,label\n" + rows, encoding="utf-8")
    with caplog.at_level("WARNING", logger="nooverfit"):
        data = load_dataset(f"csv:{path}", target="label")
    assert data.x.shape == (20, 5 + 1)  # as before (the empty cell a category): now said
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning == (
        f"column 'visit' of {path} looks like dates ('2023-01-10'): read as text categories, "
        "4 one-hot columns with no order, and a new date is a category the model never saw; "
        "expected numbers to read them in order (days since a start date, or a year and a "
        "month column), or --ignore visit leaves it out"
    )
    caplog.clear()
    one = tmp_path / "one.csv"  # one date: a constant column, which the audit notes
    one.write_text("visit,k,label\n" + "".join(f"2023-01-10,{k},{k % 2}\n" for k in range(20)))
    with caplog.at_level("WARNING", logger="nooverfit"):
        load_dataset(f"csv:{one}", target="label")
    assert not caplog.records


def test_a_column_of_many_dates_is_refused_saying_they_look_like_dates():
    days = [f"2023-{m:02d}-{d:02d}" for m in (1, 2, 3) for d in range(1, 29)][: MAX_LEVELS + 1]
    with pytest.raises(BadInput) as caught:
        encode_columns(["day"], [["NA", *days]], where=" of d.csv")
    message = str(caught.value)
    assert message.startswith("column 'day' of d.csv is not numeric (row 3: '2023-01-01')")
    assert message.endswith(
        "; its values look like dates ('2023-01-01'): expected numbers to read them in order "
        "(days since a start date, or a year and a month column)"
    )
