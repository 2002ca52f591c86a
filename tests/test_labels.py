"""Class labels read from text: numbers written two ways are one class, and the class
order (hence every label's integer) is the same in every process."""

from __future__ import annotations

import os
import subprocess
import sys

from nooverfit.data import load_dataset
from nooverfit.data.labels import merge_spellings, natural, same_label


def test_a_number_spelled_two_ways_is_one_class_named_by_its_shortest_spelling():
    assert merge_spellings(["2", "2.0", "1.0", "a", "02", "1.0"]) == [
        "2", "2", "1.0", "a", "2", "1.0"
    ]  # fmt: skip
    assert sorted({"10", "9", "b", "2.0", "2", "a"}, key=natural) == [
        "2", "2.0", "9", "10", "a", "b"
    ]  # fmt: skip
    assert same_label("2", "2.0") and same_label("a", "a") and not same_label("2", "a")
    assert not same_label("nan", "NaN")  # not numbers: compared as text


def test_csv_labels_2_and_2_0_are_one_class(tmp_path):
    path = tmp_path / "g.csv"
    grades = ["0", "0.0", "1", "1.0", "2.0", "2"] * 3
    rows = ["x,grade"] + [f"{i},{g}" for i, g in enumerate(grades)]
    path.write_text("\n".join(rows) + "\n")
    dataset = load_dataset(f"csv:{path}", target="grade")
    assert dataset.classes == ("0", "1", "2")
    assert dataset.y.tolist() == [0, 0, 1, 1, 2, 2] * 3


def test_class_order_does_not_depend_on_the_hash_seed(tmp_path):
    path = tmp_path / "m.csv"
    rows = ["x,c"] + [f"{i},{c}" for i, c in enumerate(["b", "a", "2.0", "x", "2", "1e0", "1"])]
    path.write_text("\n".join(rows) + "\n")
    code = (
        "from nooverfit.data import load_dataset; "
        f"d = load_dataset('csv:{path}', target='c'); print(d.classes, d.y.tolist())"
    )
    seen = set()
    for seed in ("1", "3"):  # these two orders differed before the fix
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        seen.add(out.stdout)
    assert len(seen) == 1, seen


def test_classes_of_a_csv_with_number_labels_are_its_labels(tmp_path):
    """``--classes 3-7`` on labels 3, 5, 7, 11, 13 keeps 3, 5 and 7 (it kept the 4th to
    8th sorted labels, 11 and up, and the title said 3-7); text labels stay positions."""
    from nooverfit.transfer.pretrain import class_subset, parse_classes

    path = tmp_path / "n.csv"
    labels = ["3", "5", "7", "11", "13"] * 4
    path.write_text("x,label\n" + "".join(f"{i},{c}\n" for i, c in enumerate(labels)))
    dataset = load_dataset(f"csv:{path}", target="label")
    subset = class_subset(dataset, parse_classes("3-7"))
    assert subset.classes == ("3", "5", "7") and subset.name.endswith("[3,5,7]")
    assert sorted(set(dataset.x[:, 0].tolist()) - set(subset.x[:, 0].tolist())) == [
        i for i, c in enumerate(labels) if c in ("11", "13")
    ]
    digits = class_subset(load_dataset("digits"), parse_classes("5-9"))
    assert digits.classes == ("5", "6", "7", "8", "9") and digits.name == "digits[5,6,7,8,9]"


def test_a_misspelled_option_is_refused_not_ignored():
    import pytest

    import nooverfit

    with pytest.raises(ValueError, match=r"unknown data set option seedz; expected .*target"):
        nooverfit.study("digits", seedz=1)
    # options common to the command line pass every loader
    assert load_dataset("digits", target=None, data_dir="data", download=False).name == "digits"


def test_a_column_option_for_data_without_columns_is_refused():
    """Review i40 #11: ``--target y`` on digits was ignored, and entered the study's identity."""
    import pytest
    from typer.testing import CliRunner

    from nooverfit.cli import app

    with pytest.raises(ValueError, match="target names a CSV column, but this data set"):
        load_dataset("digits", target="y")
    result = CliRunner().invoke(app, ["study", "--ignore", "a", "--out", "unused"])
    assert result.exit_code == 2 and "expected it only with csv:PATH data" in result.output


def test_missing_label_is_a_marker_but_none_names_a_class():
    from nooverfit.data.labels import missing_label

    assert all(missing_label(t) for t in ["", " ", "NA", "n/a", "NaN", "null", " ? "])
    assert not any(missing_label(t) for t in ["None", "none", "0", "a", "NAN1"])


def test_csv_label_written_na_or_question_mark_is_refused_not_a_class(tmp_path):
    """``NA`` and ``?`` in the target column were a class of their own: learned, scored
    and predicted. They are missing labels, refused as an empty one is, naming the rows."""
    import pytest

    from nooverfit.errors import BadInput

    path = tmp_path / "m.csv"
    labels = ["a", "b", "NA", "a", "b", "?", "a", "b", "NA"]
    path.write_text("x,y\n" + "".join(f"{i},{t}\n" for i, t in enumerate(labels)))
    with pytest.raises(
        BadInput, match=r"^3 rows of .* have a missing 'y' \('\?', 'NA'; rows 4, 7, 10\); exp"
    ):
        load_dataset(f"csv:{path}", target="y")
    path.write_text("x,y\n" + "".join(f"{i},{t}\n" for i, t in enumerate(["none", "a"] * 3)))
    assert load_dataset(f"csv:{path}", target="y").classes == ("a", "none")


def test_predict_does_not_score_a_row_whose_label_is_na():
    """New rows' ``NA`` label is no label, as in training: not scored (it was counted
    wrong, as 'a label the model never had')."""
    from types import SimpleNamespace

    from nooverfit.cli.predict import _scored

    model = SimpleNamespace(classes=("a", "b"), columns=SimpleNamespace(target="y"))
    line = _scored(model, [0, 1, 0, 1], ["a", "NA", "b", "?"])  # type: ignore[arg-type]
    assert line == "accuracy on the 'y' column: 0.5000 (1/2; 2 rows without a label not scored)"


def test_spelling_variants_differ_only_in_case_or_inner_spacing():
    from nooverfit.data.labels import spelling_variants

    labels = ["yes", "Yes", "no", "yes", "YES", "not  sure", "not sure", "No", "2", "2"]
    # the most common spelling first, ties in text order; classes in natural order
    assert spelling_variants(labels) == [
        {"No": 1, "no": 1},
        {"not  sure": 1, "not sure": 1},
        {"yes": 2, "YES": 1, "Yes": 1},
    ]
    assert [list(g) for g in spelling_variants(labels)][2] == ["yes", "YES", "Yes"]
    assert spelling_variants(["a", "b", "a", "2", "2.0"]) == []  # numbers: merge_spellings'


def test_labels_that_differ_only_in_case_are_said_not_silently_two_classes(tmp_path, caplog):
    """'Yes' and 'yes' (and ' yes', read stripped: 'yes') were two classes without a word:
    a class of a few rows the network is scored on telling from its twin."""
    labels = ["yes", "Yes", " yes", "no"] * 10
    path = tmp_path / "l.csv"
    path.write_text("x,label\n" + "".join(f"{i},{t}\n" for i, t in enumerate(labels)))
    with caplog.at_level("WARNING", logger="nooverfit"):
        dataset = load_dataset(f"csv:{path}", target="label")
    assert dataset.classes == ("Yes", "no", "yes")  # read as before: said, not merged
    [warning] = [r.getMessage() for r in caplog.records]
    assert warning == (
        f"column 'label' of {path} writes a label in ways that differ only in case or "
        "spacing: 'yes' (20 rows) and 'Yes' (10 rows); read as 2 separate classes that are "
        "likely 1; expected one spelling per class (make them one in the file)"
    )
    caplog.clear()
    one = "".join(f"{i},{t.strip().lower()}\n" for i, t in enumerate(labels))
    path.write_text("x,label\n" + one)  # one spelling: nothing said
    with caplog.at_level("WARNING", logger="nooverfit"):
        assert load_dataset(f"csv:{path}", target="label").classes == ("no", "yes")
    assert not caplog.records


def test_feature_categories_that_differ_only_in_case_are_said(tmp_path, caplog):
    """'Red' and 'red' in a text feature column were two one-hot columns without a word."""
    from nooverfit.data.labels import category_warning

    assert category_warning([" red", "Red", "blue", "red"], name="colour") == (
        "column 'colour' writes a category in ways that differ only in case or spacing: "
        "'red' (2 rows) and 'Red' (1 row); read as 2 separate one-hot columns that are "
        "likely 1; expected one spelling per category (make them one in the file)"
    )
    assert category_warning(["red", "blue"], name="colour") == ""
    rows = ["x,colour,size,label"] + [
        f"{i},{['Red', 'red', 'blue'][i % 3]},{['1', 'NaN', 'nan'][i % 3]},{'ab'[i % 2]}"
        for i in range(12)
    ]
    path = tmp_path / "c.csv"
    path.write_text("\n".join(rows) + "\n")
    with caplog.at_level("WARNING", logger="nooverfit"):
        dataset = load_dataset(f"csv:{path}", target="label")
    assert dataset.columns.features[1].levels == ("Red", "blue", "red")  # read as before
    # the numeric column's 'NaN' and 'nan' are missing cells, not categories: not said
    assert [r.getMessage() for r in caplog.records] == [
        f"column 'colour' of {path} writes a category in ways that differ only in case or "
        "spacing: 'Red' (4 rows) and 'red' (4 rows); read as 2 separate one-hot columns that "
        "are likely 1; expected one spelling per category (make them one in the file)"
    ]


def test_a_measured_target_is_said_to_be_read_as_classes(tmp_path, caplog):
    """s29 i155: a target of 31 decimal numbers (a measurement rounded to 0.1), every one
    with 3 samples or more, trained as 31 classes without a word."""
    import pytest

    from nooverfit.data.labels import looks_measured
    from nooverfit.data.split import split_dataset
    from nooverfit.errors import BadInput

    assert looks_measured([f"{k / 10:.1f}" for k in range(11)])
    assert not looks_measured([f"{k / 10:.1f}" for k in range(10)])  # 10: few enough
    assert not looks_measured([str(k) for k in range(40)])  # whole numbers: class ids
    assert not looks_measured([*(f"{k}.5" for k in range(20)), "x"])  # not all numbers
    rows = "".join(f"{i % 7},{i % 11 / 10 + 1:.1f}\n" for i in range(66))
    path = tmp_path / "m.csv"
    path.write_text("a,y\n" + rows)
    data = load_dataset(f"csv:{path}", target="y")
    assert len(data.classes) == 11
    assert (
        f"column 'y' of {path} holds 11 distinct numbers with decimals (1.0, 1.1, 1.2, ...), "
        "each read as a class (nooverfit classifies); expected class labels: to classify a "
        "measurement, bin it into a few classes first"
    ) in caplog.text
    # too few samples of a class: the refusal says why too (it did past half the samples)
    path.write_text("a,y\n" + rows + "3,9.9\n")
    with pytest.raises(BadInput, match="a measured target is not classes"):
        split_dataset(load_dataset(f"csv:{path}", target="y"), seed=0)
    # whole numbers as labels: no warning
    caplog.clear()
    path.write_text("a,y\n" + "".join(f"{i % 7},{i % 12}\n" for i in range(72)))
    load_dataset(f"csv:{path}", target="y")
    assert "distinct numbers" not in caplog.text
