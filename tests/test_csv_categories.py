"""Text columns of a csv: data set are one-hot encoded like scikit-learn's OneHotEncoder."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.preprocessing import OneHotEncoder
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.data.columns import MAX_LEVELS, encode_columns
from nooverfit.errors import BadInput


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_text_columns_match_scikit_learns_one_hot_encoder(tmp_path):
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], 40)
    size = rng.choice(["10", "2", "small", ""], 40)  # numbers mixed with text: categories
    height = rng.normal(size=40).round(3)
    label = rng.choice(["a", "b"], 40)
    lines = [f"{c},{h},{s},{y}" for c, h, s, y in zip(colour, height, size, label, strict=True)]
    path = _write(tmp_path / "t.csv", "colour,height,size,label\n" + "\n".join(lines) + "\n")
    data = load_dataset(f"csv:{path}", target="label")

    def onehot(values, order):
        return OneHotEncoder(categories=[order]).fit_transform(values[:, None]).toarray()

    # in place of each text column, its categories in natural order ("2" before "10")
    expected = np.concatenate(
        [
            onehot(colour, ["blue", "green", "red"]),
            height[:, None],
            onehot(size, ["2", "10", "", "small"]),
        ],
        axis=1,
    )
    np.testing.assert_allclose(data.x, expected, rtol=1e-6)
    assert data.x.dtype == np.float32 and data.x.shape == (40, 3 + 1 + 4)
    np.testing.assert_array_equal(data.y, (label == "b").astype(int))


def test_names_of_the_encoded_columns():
    x, names = encode_columns(["n", "c"], [["1", "2", "3"], ["x", " y", "x"]])
    assert names == ["n", "c=x", "c=y"]
    np.testing.assert_array_equal(x, [[1, 1, 0], [2, 0, 1], [3, 1, 0]])


def test_a_numeric_column_stays_numeric_and_non_finite_numbers_are_refused():
    x, names = encode_columns(["n"], [["1.5", "-2", "3e3"]])
    assert names == ["n"]
    np.testing.assert_array_equal(x[:, 0], [1.5, -2, 3000])
    with pytest.raises(BadInput, match=r"column 'n' holds 'inf' \(row 3\)"):
        encode_columns(["n"], [["1", "inf"]])
    with pytest.raises(BadInput, match=r"column 'n' holds '-inf' \(row 4\)"):
        encode_columns(["n"], [["1", "", "-inf"]])  # with missing cells too


def test_missing_numbers_are_imputed_as_scikit_learns_median_imputer_with_indicator():
    from sklearn.impute import SimpleImputer

    rng = np.random.default_rng(2)
    values = rng.normal(size=30).round(3)
    gone = rng.random(30) < 0.3
    tokens = np.array(["", "NA", "nan", " NaN ", "?", "null"])
    cells = [
        str(t) if g else f"{v}"
        for v, g, t in zip(values, gone, np.resize(tokens, 30), strict=True)
    ]
    x, names = encode_columns(["v", "k"], [cells, ["a"] * 30])
    assert names == ["v", "v (missing)", "k=a"]
    imputer = SimpleImputer(strategy="median", add_indicator=True)
    expected = imputer.fit_transform(np.where(gone, np.nan, values)[:, None])
    np.testing.assert_allclose(x[:, :2], expected, rtol=1e-6)


def test_a_saved_model_encodes_new_rows_with_the_training_fill():
    from nooverfit.data.fitted import Column, Columns, encode_rows, record_columns

    cells = [["1", "", "3", "10"], ["x", "y", "x", "x"]]
    x, names = encode_columns(["n", "c"], cells)
    columns = record_columns(["n", "c"], cells, names, x, "label")
    assert columns is not None and columns.features[0].fill == 3.0
    assert Columns.from_dict(columns.to_dict()) == columns
    new = encode_rows(columns, [["NA", "5"], ["y", "x"]])
    np.testing.assert_array_equal(new, [[3, 1, 0, 1], [5, 0, 1, 0]])
    # a column without missing cells in training still refuses them
    with pytest.raises(BadInput, match="expected a finite number"):
        encode_rows(Columns((Column("n"),), "label"), [[""]])
    assert encode_columns(["t"], [["", "NA"]])[1] == ["t=", "t=NA"]  # nothing present: text


def test_an_empty_cell_is_named_an_empty_cell_not_quotes():
    """s29 i155: a blank cell was named as the category '' ("holds '' (row 2), a category
    the model never saw"), and a blank category of training as '' among the expected."""
    from nooverfit.data.fitted import Column, Columns, encode_rows

    text = Columns((Column("c", levels=("x", "y")),), "label")
    with pytest.raises(BadInput) as err:
        encode_rows(text, [["x", " "]])
    assert str(err.value) == (
        "column 'c' holds an empty cell (row 3), a category the model never saw in training; "
        "expected one of 'x', 'y' (or --unknown ignore: all zeros)"
    )
    blank = Columns((Column("c", levels=("", "x")),), "label")
    with pytest.raises(
        BadInput, match=r"holds 'z' \(row 2\), .*expected one of an empty cell, 'x' "
    ):
        encode_rows(blank, [["z"]])
    with pytest.raises(BadInput, match=r"^column 'n' holds an empty cell \(row 2\); expected a"):
        encode_rows(Columns((Column("n"),), "label"), [[""]])


def test_a_new_rows_decimal_comma_is_named_in_the_refusal():
    """s29 i155: predict on a European export ("0,1" in a column trained on numbers)
    said only "holds '0,1' (row 2); expected a finite number, as in training"."""
    from nooverfit.data.fitted import AS_TRAINED, Column, Columns, encode_rows

    numbers = Columns((Column("n"),), "label")
    with pytest.raises(BadInput) as err:
        encode_rows(numbers, [["1.5", "0,1"]])
    assert str(err.value) == (
        f"column 'n' holds '0,1' (row 3); expected {AS_TRAINED} (a number with a decimal "
        "point, 2.5, not a comma)"
    )
    with pytest.raises(BadInput, match=r"holds 'tall' \(row 2\); expected [^(]*$"):
        encode_rows(numbers, [["tall"]])  # no comma: no hint


def test_a_text_column_with_too_many_values_is_refused_with_one_line():
    cells = [f"id{i}" for i in range(MAX_LEVELS + 1)]
    with pytest.raises(BadInput, match=rf"column 'name' of f.csv is not numeric.*{MAX_LEVELS}"):
        encode_columns(["name"], [cells], where=" of f.csv")


def test_a_study_reads_a_csv_with_text_columns(tmp_path):
    rng = np.random.default_rng(1)
    rows = [
        f"{rng.normal():.3f},{c},{'yes' if c == 'red' else 'no'}"
        for c in rng.choice(["red", "blue", "green"], 90)
    ]
    path = _write(tmp_path / "t.csv", "h,colour,y\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["train", "--data", f"csv:{path}", "--target", "y", "--epochs", "3", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output


def test_ignored_columns_are_left_out_and_an_unknown_one_is_named(tmp_path):
    lines = [f"{i},car{i},{i % 7 * 0.5},{'ab'[i % 2]}" for i in range(60)]
    path = _write(tmp_path / "ids.csv", "id,name,x,label\n" + "\n".join(lines) + "\n")
    with pytest.raises(BadInput, match=r"column 'name' .* --ignore name leaves it out"):
        load_dataset(f"csv:{path}", target="label")
    data = load_dataset(f"csv:{path}", target="label", ignore="id, name")
    assert data.x.shape == (60, 1) and data.columns.features[0].name == "x"
    assert load_dataset(f"csv:{path}", target="label", ignore=["id", "name"]).x.shape == (60, 1)
    with pytest.raises(BadInput, match="no feature column 'label' to ignore"):
        load_dataset(f"csv:{path}", target="label", ignore="name,label")


def test_ignore_names_a_column_whose_name_holds_a_comma(tmp_path):
    """Review i117: --ignore "date,height, cm" was refused ("no feature column 'height' to
    ignore ... expected --ignore with some of: height, cm, ...") though the header, as
    pandas writes it, names the column "height, cm"; a comma in --ignore now splits only
    where the pieces are not one of the file's column names."""
    lines = [f"d{i},{i % 7 * 0.5},{i % 3},{'ab'[i % 2]}" for i in range(60)]
    path = _write(tmp_path / "c.csv", '"day, id","height, cm",x,label\n' + "\n".join(lines))
    data = load_dataset(f"csv:{path}", target="label", ignore="day, id,height, cm")
    assert [f.name for f in data.columns.features] == ["x"]
    data = load_dataset(f"csv:{path}", target="label", ignore="x,day, id")
    assert [f.name for f in data.columns.features] == ["height, cm"]
    with pytest.raises(BadInput, match="no feature column 'height' to ignore"):
        load_dataset(f"csv:{path}", target="label", ignore="day, id,height")


@pytest.mark.parametrize("nan", ["NaN", "nan", ""])
def test_a_column_of_nothing_but_missing_cells_loads_as_any_spelling_does(tmp_path, nan):
    """Review i117: a numeric column empty on every row, written as pandas' na_rep="NaN"
    or numpy's "nan", was refused ("holds 'NaN' (row 2); expected finite numbers"), where
    the same column written empty or "NA" loads as one constant category (the audit's
    constant-column note names it; --ignore leaves it out)."""
    lines = [f"{i % 7 * 0.5},{nan},{'ab'[i % 2]}" for i in range(30)]
    path = _write(tmp_path / "n.csv", "x,empty,label\n" + "\n".join(lines) + "\n")
    data = load_dataset(f"csv:{path}", target="label")
    assert [f.name for f in data.columns.features] == ["x", "empty"]
    assert data.columns.features[1].levels == (nan,)
    np.testing.assert_array_equal(data.x[:, 1], np.ones(30, dtype=np.float32))


def test_the_cli_takes_ignore_and_refuses_an_unknown_column(tmp_path):
    from typer.testing import CliRunner

    from nooverfit.cli import app

    lines = [f"{i},car{i},{i % 3 + 0.1 * (i % 5)},{'abc'[i % 3]}" for i in range(90)]
    path = _write(tmp_path / "ids.csv", "id,name,x,label\n" + "\n".join(lines) + "\n")
    out = tmp_path / "out"
    args = ["train", "--data", f"csv:{path}", "--target", "label", "--epochs", "2"]
    bad = CliRunner().invoke(app, [*args, "--ignore", "nme", "--out", str(out)])
    assert bad.exit_code == 2 and "no feature column 'nme' to ignore" in bad.output
    assert not out.exists()
    good = CliRunner().invoke(app, [*args, "--ignore", "id,name", "--out", str(out)])
    assert good.exit_code == 0, good.output


def test_a_csv_without_a_feature_column_is_one_line_exit_2(tmp_path):
    # only the label (or the label and ignored columns): a study crashed with an
    # IndexError and audit with scikit-learn's "0 feature(s)" message
    labels = "".join(f"{'ab'[i % 2]},{i}\n" for i in range(12))
    path = _write(tmp_path / "labels.csv", "label,id\n" + labels)
    with pytest.raises(BadInput, match=r"no feature column \(only 'label', 'id',"):
        load_dataset(f"csv:{path}", target="label", ignore="id")
    for command in (["audit", f"csv:{path}"], ["study", "--data", f"csv:{path}"]):
        result = CliRunner().invoke(app, [*command, "--target", "label", "--ignore", "id"])
        assert result.exit_code == 2, result.output
        assert "no feature column" in result.output and "Traceback" not in result.output


def test_numbers_written_with_a_decimal_comma_are_said_not_silently_categories(tmp_path, caplog):
    """A ';' file from a spreadsheet in many locales writes 2,5 for 2.5: a column of few
    such values was one-hot encoded without a word (its order lost), one of many was
    refused without saying why it was not numeric."""
    from nooverfit.data.columns import decimal_comma

    assert decimal_comma(["2,5", "1", " -0,75 ", "NA", ""]) == "2,5"
    assert decimal_comma(["2.5", "1"]) is None  # numbers already
    assert decimal_comma(["2,5", "red"]) is None  # text
    assert decimal_comma(["1,2,3", "4"]) is None
    few = tmp_path / "few.csv"
    rows = [f"{d};{k};{'a' if k % 2 else 'b'}" for k, d in enumerate(["0,5", "1,5", "2,5"] * 4)]
    few.write_text("dose;k;label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="nooverfit"):
        data = load_dataset(f"csv:{few}", target="label")
    assert data.x.shape == (12, 4)  # dose one-hot (3), k numeric: as before, now said
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning == (
        f"column 'dose' of {few} holds numbers written with a comma ('0,5'), read as text "
        "categories (one-hot, no order); expected plain numbers with a decimal point "
        "(2.5, 1500) to read them as numbers"
    )
    many = [f"{k},{k % 10}" for k in range(MAX_LEVELS + 1)]
    with pytest.raises(BadInput, match=r"its numbers are written with a comma \('0,0'\): exp"):
        encode_columns(["w"], [many])


def test_a_column_of_numbers_with_a_stray_word_is_said_not_silently_categories(tmp_path, caplog):
    """An age column with one 'unknown' (row 9) was one-hot encoded, dozens of columns,
    without a word. It still is (as pandas reads it as text), but the loader names the
    column, the word, its row, and the fix; the fix it names (empty the cell) reads the
    column as numbers with a missing-value indicator."""
    from nooverfit.data.columns import stray_words

    rng = np.random.default_rng(0)
    ages = [str(a) for a in rng.integers(18, 60, 40)]
    ages[7] = "unknown"  # data row 8: row 9 counting the header
    rows = "".join(f"{a},{k % 2}\n" for k, a in enumerate(ages))
    path = _write(tmp_path / "ages.csv", "age,label\n" + rows)
    with caplog.at_level("WARNING", logger="nooverfit"):
        data = load_dataset(f"csv:{path}", target="label")
    levels = len(set(ages))
    assert data.x.shape == (40, levels)  # one-hot, as before: now said
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning == (
        f"column 'age' of {path} holds numbers but also 'unknown' (row 9): read as text "
        f"categories, {levels} one-hot columns with no order; to read it as numbers, "
        "correct that cell or empty it (a missing value: filled with the median, marked in "
        "a 'age (missing)' column)"
    )
    fixed = _write(tmp_path / "fixed.csv", "age,label\n" + rows.replace("unknown", ""))
    caplog.clear()
    with caplog.at_level("WARNING", logger="nooverfit"):
        numeric = load_dataset(f"csv:{fixed}", target="label")
    assert numeric.x.shape == (40, 2) and not caplog.records  # the ages and the indicator
    rows_at = list(range(2, 42))
    assert stray_words(ages, rows_at) == (["unknown"], [9])
    assert stray_words(["1", "x", "2", "y", "3", "4"], list(range(6))) == ([], [])  # 2 of 6
    assert stray_words(["red", "green"] * 20, rows_at) == ([], [])  # no number: categories
    commas = ["2,5"] + [str(k) for k in range(11)]  # decimal_comma's warning says it
    assert stray_words(commas, list(range(12))) == ([], [])
    assert stray_words([*commas[1:], "?", "unknown"], list(range(13))) == (["unknown"], [12])


def test_a_column_of_many_numbers_with_a_stray_word_is_refused_naming_the_word():
    """An age column of 60 distinct numbers, one missing cell and one 'unknown': refused
    (too many values to one-hot), as "not numeric (row 2: '')", the missing cell, which
    is no fault; the message now names the stray word, its row, and what to do."""
    ages = [f"{20 + i}" for i in range(MAX_LEVELS + 10)]
    ages[0], ages[7] = "", "unknown"  # rows 2 and 9 of the file
    with pytest.raises(BadInput) as caught:
        encode_columns(["age"], [ages], where=" of f.csv")
    assert str(caught.value) == (
        f"column 'age' of f.csv holds numbers but also 'unknown' (row 9), and as text it "
        f"would have {MAX_LEVELS + 10} distinct values, more than the {MAX_LEVELS} one-hot "
        "encoded; expected numbers: correct or empty that cell (an empty cell is a missing "
        "value, filled with the median), or --ignore age leaves the column out"
    )
    # many words, not a few stray ones: the first cell that is no number and not missing
    names = ["", *[f"id{i}" for i in range(MAX_LEVELS + 1)]]
    with pytest.raises(BadInput, match=r"^column 'n' is not numeric \(row 3: 'id0'\)"):
        encode_columns(["n"], [names])


def test_numbers_written_with_a_unit_are_said_not_silently_categories(tmp_path, caplog):
    """A weight column written '3 kg' was one-hot encoded, its order lost, without a word
    (and refused, with many values, as 'not numeric' without saying why). The loader now
    names the unit and what to write."""
    from nooverfit.data.columns import Units, units

    assert units(["3 kg", " 12.5kg", "NA", ""]) == Units("3 kg", "3", ("kg",))
    assert units(["45%", "7 %"]) == Units("45%", "45", ("%",))
    assert units(["$12", "$3.50"]) == Units("$12", "12", ("$",))
    assert units(["300 g", "3 kg"]) == Units("300 g", "300", ("g", "kg"))
    assert units(["3 kg", "4"]) is None  # a plain number: stray_words' case
    for other in (["red", "blue"], ["2023-01-10"], ["1", "2"], ["$3 kg"], ["NA", ""]):
        assert units(other) is None, other
    rows = "".join(f"{k % 4 + 1} kg,{k % 2}\n" for k in range(12))
    path = _write(tmp_path / "w.csv", "weight,label\n" + rows)
    with caplog.at_level("WARNING", logger="nooverfit"):
        data = load_dataset(f"csv:{path}", target="label")
    assert data.x.shape == (12, 4)  # one-hot, as before: now said
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning == (
        f"column 'weight' of {path} holds numbers with a unit ('kg', as in '1 kg'): read as "
        "text categories, 4 one-hot columns with no order; expected plain numbers (1 for "
        "'1 kg') to read them as numbers"
    )
    many = [f"{k} kg" for k in range(MAX_LEVELS + 1)]
    with pytest.raises(BadInput, match=r"written with a unit \('0 kg'\): expected plain numbers"):
        encode_columns(["w"], [many])


def test_numbers_with_thousands_separators_are_said_not_silently_categories(tmp_path, caplog):
    """A population column written '1,234,567' (two commas) or '1,234.5' (a comma and a
    point) was one-hot encoded without a word: only a single comma between digits was
    recognized. Every thousands-grouped number is now said, as '1,500' was."""
    from nooverfit.data.columns import decimal_comma

    assert decimal_comma(["950", "1,234,567", "12,000"]) == "1,234,567"
    assert decimal_comma(["1,234.50", "950.25", "NA"]) == "1,234.50"
    assert decimal_comma(["1,2,3"]) is None  # not grouped by thousands
    assert decimal_comma(["12,34,567"]) is None
    rows = "".join(f'{k},"{k % 3 + 1},100,000",{k % 2}\n' for k in range(9))
    path = _write(tmp_path / "p.csv", "k,population,label\n" + rows)
    with caplog.at_level("WARNING", logger="nooverfit"):
        data = load_dataset(f"csv:{path}", target="label")
    assert data.x.shape == (9, 4)  # k numeric, population one-hot (3): as before, now said
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning.startswith(
        f"column 'population' of {path} holds numbers written with a comma ('1,100,000')"
    )
