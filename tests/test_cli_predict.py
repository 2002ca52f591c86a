"""``nooverfit predict``: the CSV it writes holds the library's predictions, and bad input
is one line, exit code 2, with nothing already written lost."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from _saved_study import write_csv
from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.data.tensors import prepare
from nooverfit.history import History
from nooverfit.saved_model import CARD, load_study_model
from nooverfit.studies.compare import compare
from nooverfit.study_files import write_study

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A study's folder (a PLE-encoded candidate on a CSV with a text column) and the
    CSV."""
    root = tmp_path_factory.mktemp("predict")
    path = root / "t.csv"
    write_csv(path)
    dataset = load_dataset(f"csv:{path}", target="label")
    data = prepare(dataset, split_dataset(dataset, seed=0), device="cpu")
    write_study(compare(data, RunConfig(width=16, epochs=6, inputs="ple")), root / "study")
    return root / "study", path


def _one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    for word in words:
        assert word in lines[0], lines[0]


def test_predict_writes_the_librarys_predictions_and_probabilities(folder, tmp_path):
    study, path = folder
    out = tmp_path / "preds.csv"
    result = runner.invoke(app, ["predict", str(study), "--data", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    model = load_study_model(study)
    assert [r["prediction"] for r in rows] == model.predict(path).tolist()
    probs = np.array([[float(r["p_no"]), float(r["p_yes"])] for r in rows])
    np.testing.assert_allclose(probs, model.predict_proba(path), rtol=1e-5)
    # the study's test rows: the study's own test accuracy
    results = json.loads((study / "results.json").read_text())
    test = results["splits"][0]["test"]
    truth = [r["label"] for r in csv.DictReader(path.open())]
    accuracy = np.mean([rows[i]["prediction"] == truth[i] for i in test])
    assert accuracy == results["test"]["recommended"]["per_seed"][0]
    right = sum(r["prediction"] == t for r, t in zip(rows, truth, strict=True))
    assert f"accuracy on the 'label' column: {right / 150:.4f} ({right}/150)" in result.output


def test_predict_prints_csv_without_out(folder):
    study, path = folder
    result = runner.invoke(app, ["predict", str(study), "--data", f"csv:{path}"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "prediction,p_no,p_yes" and len(lines) == 1 + 150
    # the rows came labelled: the accuracy on stderr, beside the predictions (review i114)
    truth = [r["label"] for r in csv.DictReader(path.open())]
    right = sum(line.split(",")[0] == t for line, t in zip(lines[1:], truth, strict=True))
    assert result.stderr.splitlines() == [
        f"accuracy on the 'label' column: {right / 150:.4f} ({right}/150)"
    ]


def test_an_unseen_category_is_an_error_unless_ignored(folder, tmp_path):
    study, path = folder
    text = path.read_text().splitlines()
    first = text[1].split(",")
    first[1] = "purple"
    new = tmp_path / "new.csv"
    new.write_text("\n".join([text[0], ",".join(first), *text[2:5]]) + "\n")
    result = runner.invoke(app, ["predict", str(study), "--data", str(new)])
    _one_line_error(result, "'colour'", "'purple' (row 2)", "never saw")
    args = ["predict", str(study), "--data", str(new), "--unknown", "ignore"]
    ignored = runner.invoke(app, args)
    assert ignored.exit_code == 0 and len(ignored.stdout.splitlines()) == 5
    # ignored, but not silently: one note on stderr
    notes, scored = ignored.stderr.splitlines()[:-1], ignored.stderr.splitlines()[-1]
    assert notes == [
        "note: 1 cell held a category never seen in training, encoded as all zeros ('colour' 1)"
    ]
    assert scored.startswith("accuracy on the 'label' column: ") and scored.endswith("/4)")


def test_bad_input_is_one_line_and_loses_nothing(folder, tmp_path):
    study, path = folder
    before = path.read_bytes()
    text = tmp_path / "text.npy"
    text.write_text("not an array")  # numpy's message: pickled data, load it unsafely
    cases = [
        (["--data", str(path), "--out", str(path)], ["is the --data file"]),
        (["--data", str(path), "--out", str(study / "results.json")], ["model's folder"]),
        (["--data", str(tmp_path / "missing.csv")], ["does not exist"]),
        (["--data", str(tmp_path)], ["is a folder; expected a CSV or .npy file"]),
        (["--data", str(text)], ["is not a .npy array (no NumPy header)"]),
        (
            ["--data", str(path), "--unknown", "maybe"],
            ["--unknown must be one of error, ignore, got 'maybe'"],
        ),
    ]
    for args, words in cases:
        _one_line_error(runner.invoke(app, ["predict", str(study), *args]), *words)
    assert path.read_bytes() == before
    missing = tmp_path / "cols.csv"
    missing.write_text("weight,label\n1.0,yes\n")
    _one_line_error(
        runner.invoke(app, ["predict", str(study), "--data", str(missing)]),
        "no columns 'colour', 'height'",
        "expected the model's feature columns: weight, colour, height",
    )
    other = tmp_path / "other.csv"  # another data set's file: every missing column named
    other.write_text("x1,label\n1.0,yes\n")
    _one_line_error(
        runner.invoke(app, ["predict", str(study), "--data", str(other)]),
        "has no columns 'weight', 'colour', 'height'; expected the model's feature columns",
    )
    # the data file where the model's folder goes: a file, not "does not exist"
    _one_line_error(
        runner.invoke(app, ["predict", str(path), "--data", str(path)]),
        f"{path} is a file, not a folder; expected a nooverfit study's or train run's --out",
    )


def test_a_csv_with_only_its_header_is_one_wording_in_predict_and_audit(folder, tmp_path):
    """s29 i155: predict said "CSV file X's rows hold no data; expected at least one row",
    audit (and study, train) "CSV file X has a header but no data rows"."""
    study, path = folder
    header = tmp_path / "header.csv"
    header.write_text(path.read_text().splitlines()[0] + "\n")
    said = (
        f"error: CSV file {header} has a header but no data rows; expected one row per sample "
        "below the header"
    )
    for args in (
        ["predict", str(study), "--data", str(header)],
        ["audit", f"csv:{header}", "--target", "label"],
        ["train", "--data", f"csv:{header}", "--target", "label", "--out", str(tmp_path / "r")],
    ):
        result = runner.invoke(app, args)
        _one_line_error(result)
        assert " ".join(result.output.split()) == said
    assert not (tmp_path / "r").exists()


def test_predict_refuses_an_existing_out_unless_overwrite(folder, tmp_path):
    study, path = folder
    out = tmp_path / "notes.txt"
    out.write_text("an unrelated file\n")
    args = ["predict", str(study), "--data", str(path), "--out", str(out)]
    _one_line_error(runner.invoke(app, args), f"{out} already exists", "--overwrite")
    assert out.read_text() == "an unrelated file\n"
    result = runner.invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("prediction,p_no,p_yes\n")
    # --overwrite replaces an earlier output, never the input or the study's own files
    for target, words in ((path, "is the --data file"), (study / CARD, "model's folder")):
        before = target.read_bytes()
        again = ["predict", str(study), "--data", str(path), "--out", str(target)]
        _one_line_error(runner.invoke(app, [*again, "--overwrite"]), words)
        assert target.read_bytes() == before


def test_a_folder_without_the_card_or_the_model_is_refused(folder, tmp_path):
    study, path = folder
    old = tmp_path / "old"
    old.mkdir()
    for name in ("results.json", "best_model.pt"):
        (old / name).write_bytes((study / name).read_bytes())
    _one_line_error(
        runner.invoke(app, ["predict", str(old), "--data", str(path)]),
        f"no {CARD}",
        "run the study again",
    )
    _one_line_error(  # both layouts named: a study's and a train run's
        runner.invoke(app, ["predict", str(tmp_path), "--data", str(path)]),
        "no best_model.pt or model.pt",
        "nooverfit study (best_model.pt, best_model.json)",
        "nooverfit train (model.pt, model.json)",
    )
    _one_line_error(
        runner.invoke(app, ["predict", str(tmp_path / "nope"), "--data", str(path)]),
        "does not exist",
    )
    unfinished = tmp_path / "unfinished"  # a study interrupted before it wrote its results
    (unfinished / "runs").mkdir(parents=True)
    _one_line_error(
        runner.invoke(app, ["predict", str(unfinished), "--data", str(path)]),
        "holds an unfinished study",
        "run the same nooverfit study command again",
    )


def test_a_study_interrupted_before_its_model_is_said_unfinished(folder, tmp_path):
    """Review i148: a study stopped after results.json, before best_model.pt, was called
    "not the --out folder of nooverfit study"; it says unfinished, and how to finish it."""
    study, path = folder
    cut = tmp_path / "cut"
    shutil.copytree(study, cut)
    (cut / "best_model.pt").unlink()
    for runs in (False, True):  # with its run store, or without (a study of Python data)
        if runs:
            (cut / "runs").mkdir()
        result = runner.invoke(app, ["predict", str(cut), "--data", str(path)])
        _one_line_error(
            result,
            "holds an unfinished study (its results.json, no best_model.pt",
            "interrupted while writing its files",
            "run the same nooverfit study command again (same --out and options)",
        )


def test_a_tune_out_folder_names_its_models_folder(folder, tmp_path):
    """nooverfit tune writes best.json and its recommendation as a study in report/: its
    --out is named as such, with the folder predict takes (it said "no best_model.pt")."""
    study, path = folder
    tuned = tmp_path / "tune"
    shutil.copytree(study, tuned / "report")
    (tuned / "best.json").write_text("{}")
    result = runner.invoke(app, ["predict", str(tuned), "--data", str(path)])
    _one_line_error(
        result,
        f"{tuned} is nooverfit tune's --out folder; expected the folder of its model: "
        f"{tuned / 'report'}",
    )
    assert (
        runner.invoke(app, ["predict", str(tuned / "report"), "--data", str(path)]).exit_code == 0
    )


def _npy_accuracy(folder, rows, tmp_path):
    """``predict``'s accuracy on the digits images ``rows``, given as a .npy file; the
    predictions file's path."""
    dataset = load_dataset("digits")
    np.save(tmp_path / "x.npy", dataset.x[rows])
    out = tmp_path / "preds.csv"
    args = ["predict", str(folder), "--data", str(tmp_path / "x.npy"), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    predicted = [r["prediction"] for r in csv.DictReader(out.open())]
    truth = [dataset.classes[k] for k in dataset.y[rows]]
    return np.mean([p == t for p, t in zip(predicted, truth, strict=True)]), out


def test_predict_takes_a_npy_array_of_images(tiny_study, tmp_path):
    result, study = tiny_study
    accuracy, out = _npy_accuracy(study, result.splits[0].test, tmp_path)
    assert accuracy == result.test["recommended"].per_seed[0]
    _one_line_error(
        runner.invoke(app, ["predict", str(study), "--data", str(out)]),
        "not a .npy file",
        "expected a .npy file of shape (N, 1, 8, 8)",
    )


def test_predict_scores_labels_as_the_study_read_them(folder, tmp_path):
    """The target written ``yes``/``no`` scores by text; an empty label is not scored (it
    was counted wrong before)."""
    study, path = folder
    lines = path.read_text().splitlines()
    target = lines[0].split(",").index("label")
    blank = [lines[0]] + [
        ",".join("" if j == target else c for j, c in enumerate(line.split(",")))
        if i < 2
        else line
        for i, line in enumerate(lines[1:11])
    ]
    new = tmp_path / "new.csv"
    new.write_text("\n".join(blank) + "\n")
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(study), "--data", str(new), "--out", str(out)])
    assert result.exit_code == 0, result.output
    predicted = [r["prediction"] for r in csv.DictReader(out.open())]
    truth = [r["label"] for r in csv.DictReader(new.open())]
    right = sum(p == t for p, t in zip(predicted[2:], truth[2:], strict=True))
    assert f"({right}/8; 2 rows without a label not scored)" in result.output


def test_a_shape_error_names_each_accepted_form_once():
    import numpy as np

    from nooverfit.raw_input import raw_features

    with pytest.raises(ValueError, match=r"expected \(N, 2\), as") as flat:
        raw_features(np.zeros((3, 5)), columns=None, raw_shape=(2,), kind="tabular")
    assert "or (N, 2)" not in str(flat.value)
    with pytest.raises(ValueError, match=r"expected \(N, 1, 8, 8\), \(N, 8, 8\) or \(N, 64\), as"):
        raw_features(np.zeros((3, 5)), columns=None, raw_shape=(1, 8, 8), kind="image")


def test_predict_notes_filled_cells_and_ignored_columns_on_stderr(folder, tmp_path):
    """An empty numeric cell takes the training median and a column the model does not
    use is ignored, as before, but no longer silently: a note each, on stderr (stdout
    stays the predictions' CSV)."""
    study, path = folder
    lines = path.read_text().splitlines()  # weight,colour,height,label
    rows = [line.split(",") for line in lines[1:6]]
    rows[0][0] = ""  # weight
    rows[1][2], rows[3][2] = " ", "NA"  # height: blank, and NA (not empty: "missing")
    new = tmp_path / "new.csv"
    new.write_text(
        "id,weight,colour,height,label,note\n"
        + "".join(f"{i},{','.join(r)},x\n" for i, r in enumerate(rows))
    )
    result = runner.invoke(app, ["predict", str(study), "--data", str(new)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:-1] == [
        "note: 3 missing numeric cells took the training median ('weight' 1, 'height' 2)",
        "note: ignored 2 columns the model does not use: 'id', 'note'",
    ]
    assert result.stderr.splitlines()[-1].startswith("accuracy on the 'label' column: ")
    model = load_study_model(study)
    medians = {c.name: c.median for c in model.columns.features}
    assert medians["weight"] is not None and medians["height"] is not None
    filled = [dict(zip(["weight", "colour", "height"], r[:3], strict=True)) for r in rows]
    for row in filled:  # the same rows with the medians written in: the same predictions
        row.update({k: str(medians[k]) for k in ("weight", "height") if not row[k].strip()})
    out = result.stdout.splitlines()
    assert [line.split(",")[0] for line in out[1:]] == model.predict(filled).tolist()
    clean = runner.invoke(app, ["predict", str(study), "--data", str(path)]).stderr
    assert clean.startswith("accuracy on the 'label' column: ") and "note" not in clean


def test_new_rows_with_a_column_name_twice_are_read_by_position_or_refused(folder, tmp_path):
    """Rows for a model of array data are read by position, whatever their names: a name
    twice read the first column twice. Rows read by name refuse a study's column given
    twice, which was read as the first of the two."""
    from nooverfit.errors import BadInput
    from nooverfit.raw_input import raw_features

    flat = tmp_path / "flat.csv"
    flat.write_text("x,x\n1,2\n3,4\n")
    x = raw_features(flat, columns=None, raw_shape=(2,), kind="tabular")
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    study, path = folder
    lines = path.read_text().splitlines()  # weight,colour,height,label
    twice = tmp_path / "twice.csv"
    twice.write_text("weight,colour,height,weight\n" + "\n".join(lines[1:4]) + "\n")
    with pytest.raises(BadInput, match=r"two columns named 'weight' \(columns 1 and 4\)"):
        load_study_model(study).predict(twice)
    _one_line_error(
        runner.invoke(app, ["predict", str(study), "--data", str(twice)]),
        "two columns named 'weight'",
    )


def test_predict_reads_its_csv_once_for_features_notes_and_labels(folder, tmp_path, monkeypatch):
    """The features, the notes and the accuracy come from one read of the file (it was
    read three times, and the notes re-derived the encoder's rules for missing cells)."""
    import nooverfit.data.sources as sources

    study, path = folder
    lines = path.read_text().splitlines()  # weight,colour,height,label
    rows = [line.split(",") for line in lines[1:7]]
    rows[0][0] = rows[2][0] = "NA"  # weight
    new = tmp_path / "new.csv"
    new.write_text("weight,colour,height,label,id\n" + "".join(f"{','.join(r)},7\n" for r in rows))
    reads = []
    real = sources.read_numbered
    monkeypatch.setattr(sources, "read_numbered", lambda p: reads.append(p) or real(p))
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(study), "--data", str(new), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert reads == [new]
    assert result.stderr.splitlines() == [
        "note: 2 missing numeric cells took the training median ('weight' 2)",
        "note: ignored 1 column the model does not use: 'id'",
    ]
    predicted = [r["prediction"] for r in csv.DictReader(out.open())]
    right = sum(p == r[3] for p, r in zip(predicted, rows, strict=True))
    assert f"accuracy on the 'label' column: {right / 6:.4f} ({right}/6)" in result.stdout


def test_read_rows_notes_come_from_the_encoding_for_dict_rows_too(folder):
    """:meth:`StudyModel.read` of dict rows notes the cells the encoding filled in or
    zeroed, counted where it does so; its features are those :meth:`features` gives."""
    from nooverfit.raw_input import csv_notes

    study, path = folder
    model = load_study_model(study)
    first = next(csv.DictReader(path.open()))
    rows = [dict(first, weight=""), dict(first, colour="violet"), dict(first)]
    read = model.read(rows, unknown="ignore")
    assert read.notes == (
        "1 missing numeric cell took the training median ('weight' 1)",
        "1 cell held a category never seen in training, encoded as all zeros ('colour' 1)",
    )
    np.testing.assert_array_equal(read.x, model.features(rows, unknown="ignore"))
    colour = [c.name for c in model.columns.features].index("colour")
    start = sum(c.width for c in model.columns.features[:colour])
    assert read.x[1, start : start + model.columns.features[colour].width].sum() == 0
    assert read.labels is None and model.read(read) is read
    assert csv_notes(path, model.columns) == () == model.read(path).notes
    assert model.read(path).labels == tuple(r["label"] for r in csv.DictReader(path.open()))


@pytest.mark.parametrize("twice", ["weight", "label"])
def test_a_study_trained_on_a_column_name_twice_says_retrain_not_rename(folder, tmp_path, twice):
    """A study saved before a CSV file's repeated column name was refused holds the name
    twice in its card ('a,a,label' trained on both columns by position; 'label,x,label'
    on the label as a feature). Rows read by name cannot tell the two apart, and renaming a
    column of the new rows does not help: the error says to retrain, and how."""
    import shutil

    study, path = folder
    old = tmp_path / "old"
    shutil.copytree(study, old)
    card = json.loads((old / CARD).read_text())
    card["columns"]["features"][2]["name"] = twice  # weight,colour,height -> ...,<twice>
    (old / CARD).write_text(json.dumps(card))
    lines = path.read_text().splitlines()  # weight,colour,height,label
    header = "weight,colour,weight,label" if twice == "weight" else "weight,colour,label,label"
    new = tmp_path / "new.csv"
    new.write_text(header + "\n" + "\n".join(lines[1:4]) + "\n")
    expected = f"trained on a CSV file with two columns named {twice!r}"
    _one_line_error(
        runner.invoke(app, ["predict", str(old), "--data", str(new)]),
        expected,
        "run nooverfit study (or train) again",
    )
    from nooverfit.errors import BadInput

    model = load_study_model(old)
    with pytest.raises(BadInput, match=expected):
        model.predict([{"weight": "1", "colour": "red", "height": "2"}])
    from nooverfit.data.fitted import Column, Columns
    from nooverfit.raw_input import read_rows

    numeric = Columns((Column("a"), Column("a")), "label")  # 'a,a,label', numbers only
    with pytest.raises(BadInput, match=r"again \(or give its rows as a \.npy array, features in"):
        read_rows([{"a": "1"}], columns=numeric, raw_shape=(2,), kind="tabular")


def test_predict_says_which_labels_no_class_names(folder, tmp_path):
    """Rows labelled with no class of the model (a typo, a new class) can only be scored
    wrong: the accuracy line counted them without a word."""
    study, path = folder
    lines = path.read_text().splitlines()  # weight,colour,height,label
    rows = [line.rsplit(",", 1) for line in lines[1:11]]
    rows[2][1], rows[5][1], rows[7][1] = "Yes", "maybe", "Yes"
    new = tmp_path / "new.csv"
    new.write_text(lines[0] + "\n" + "".join(f"{a},{b}\n" for a, b in rows))
    out = tmp_path / "p.csv"
    result = runner.invoke(app, ["predict", str(study), "--data", str(new), "--out", str(out)])
    assert result.exit_code == 0, result.output
    predicted = [r["prediction"] for r in csv.DictReader(out.open())]
    right = sum(p == b for p, (_, b) in zip(predicted, rows, strict=True))
    assert (
        f"accuracy on the 'label' column: {right / 10:.4f} ({right}/10; 3 rows with a label "
        "the model never had ('Yes', 'maybe'), counted wrong)"
    ) in result.output


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("oops,red,1.0,yes", "column 'weight' of {new} holds 'oops' (row 5)"),
        ("1.0,violet,1.0,yes", "column 'colour' of {new} holds 'violet' (row 5)"),
        ("1.0,red,1.0,yes,extra", "{new} row 5 has 5 fields, expected 4"),
    ],
)
def test_errors_name_the_files_line_past_blank_lines(folder, tmp_path, bad, words):
    """Blank lines are skipped when the rows are read; errors counted rows from 2 on,
    naming row 3 for the bad cell on the file's line 5."""
    study, path = folder
    lines = path.read_text().splitlines()
    new = tmp_path / "new.csv"
    new.write_text(f"{lines[0]}\n{lines[1]}\n\n\n{bad}\n{lines[2]}\n")
    _one_line_error(
        runner.invoke(app, ["predict", str(study), "--data", str(new)]), words.format(new=new)
    )


def test_predict_takes_a_train_runs_folder(tmp_path):
    """``nooverfit train``'s folder predicts as a study's: raw rows with the column the run
    ignored, encoded as training encoded them; on the run's own validation rows, the kept
    epoch's validation accuracy. The run's files are never --out."""
    path = tmp_path / "t.csv"
    rows = write_csv(path)
    header, *lines = path.read_text().splitlines()  # a row id in front, which the run ignores
    ided = [f"id,{header}", *(f"{1000 + i},{line}" for i, line in enumerate(lines))]
    path.write_text("\n".join(ided) + "\n")
    run = tmp_path / "run"
    args = ["train", "--data", f"csv:{path}", "--target", "label", "--ignore", "id"]
    trained = runner.invoke(app, [*args, "--epochs", "8", "--width", "16", "--out", str(run)])
    assert trained.exit_code == 0, trained.output
    assert (run / "model.json").is_file() and "model.json" in trained.output
    out = tmp_path / "preds.csv"
    result = runner.invoke(app, ["predict", str(run), "--data", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "ignored 1 column the model does not use: 'id'" in result.output
    predicted = [r["prediction"] for r in csv.DictReader(out.open())]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["kept_epoch"] == metrics["best_epoch"]
    val = metrics["split"]["val"]
    accuracy = np.mean([predicted[i] == rows[i]["label"] for i in val])
    assert accuracy == pytest.approx(metrics["best"]["val_accuracy"])
    for name in ("model.pt", "model.json", "metrics.json"):
        again = ["predict", str(run), "--data", str(path), "--out", str(run / name)]
        _one_line_error(runner.invoke(app, [*again, "--overwrite"]), "model's folder")


def test_predict_takes_a_digits_train_folder_and_a_npy_of_images(tmp_path):
    run = tmp_path / "run"
    args = ["train", "--train-per-class", "10", "--epochs", "4", "--width", "16"]
    assert runner.invoke(app, [*args, "--out", str(run)]).exit_code == 0
    metrics = json.loads((run / "metrics.json").read_text())
    accuracy, _ = _npy_accuracy(run, metrics["split"]["val"], tmp_path)
    kept = metrics["kept_epoch"]
    assert accuracy == pytest.approx(History.load(run / "history.csv").val_accuracy[kept])


def test_predict_adds_the_channel_of_a_one_channel_models_images(tmp_path):
    """(N, 8, 8) digits were refused for a network of (1, 8, 8) inputs, though they can
    only mean one channel each: read as (N, 1, 8, 8), with a note; other shapes still not."""
    run = tmp_path / "run"
    args = ["train", "--train-per-class", "5", "--epochs", "2", "--width", "8"]
    assert runner.invoke(app, [*args, "--out", str(run)]).exit_code == 0
    x = load_dataset("digits").x[:6]  # (6, 1, 8, 8)
    np.save(tmp_path / "nchw.npy", x)
    np.save(tmp_path / "nhw.npy", x[:, 0])
    said = {}
    for name in ("nchw", "nhw"):
        result = runner.invoke(app, ["predict", str(run), "--data", str(tmp_path / f"{name}.npy")])
        assert result.exit_code == 0, result.output
        said[name] = result
    assert said["nhw"].stdout == said["nchw"].stdout  # the same predictions, to the digit
    assert said["nchw"].stderr == ""
    assert said["nhw"].stderr.splitlines() == [
        f"note: {tmp_path / 'nhw.npy'}: samples of shape (6, 8, 8) read as (6, 1, 8, 8): the "
        "network's one channel added"
    ]
    np.save(tmp_path / "wide.npy", x[:, 0, :, :4])  # (6, 8, 4): not the network's images
    _one_line_error(
        runner.invoke(app, ["predict", str(run), "--data", str(tmp_path / "wide.npy")]),
        "samples have shape (6, 8, 4); expected (N, 1, 8, 8), (N, 8, 8) or (N, 64)",
    )


def test_predict_writes_the_id_column_beside_each_prediction(folder, tmp_path):
    """--id COLUMN copies a column of the input (an identifier the model never read)
    first into the predictions, row for row; without it the rows could only be matched by
    their order."""
    study, path = folder
    header, *lines = path.read_text().splitlines()
    new = tmp_path / "new.csv"
    new.write_text(
        f"customer,{header}\n" + "".join(f"c{i:03d},{x}\n" for i, x in enumerate(lines[:6]))
    )
    out = tmp_path / "p.csv"
    args = ["predict", str(study), "--data", str(new), "--out", str(out), "--id", "customer"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["customer", "prediction", "p_no", "p_yes"]
    assert [r["customer"] for r in rows] == [f"c{i:03d}" for i in range(6)]
    assert [r["prediction"] for r in rows] == load_study_model(study).predict(new).tolist()
    assert "ignored" not in result.output  # the id column is used: copied, not ignored
    # a feature column may be the id too (its cells as written)
    args = ["predict", str(study), "--data", str(path), "--id", "weight"]
    shown = runner.invoke(app, args).stdout.splitlines()
    assert shown[0] == "weight,prediction,p_no,p_yes"
    assert [s.split(",")[0] for s in shown[1:4]] == [x.split(",")[0] for x in lines[:3]]


def test_predict_refuses_an_id_column_it_cannot_write(folder, tiny_study, tmp_path):
    study, path = folder
    base = ["predict", str(study), "--data", str(path)]
    _one_line_error(
        runner.invoke(app, [*base, "--id", "customer"]),
        f"CSV file {path} has no column 'customer' to write beside the predictions (--id)",
        "expected one of its columns: weight, colour, height, label",
    )
    _one_line_error(
        runner.invoke(app, [*base, "--id", "prediction"]),
        "--id prediction is a column predict writes (prediction, p_no, p_yes)",
    )
    _, digits = tiny_study
    npy = tmp_path / "x.npy"
    np.save(npy, load_dataset("digits").x[:3])
    _one_line_error(
        runner.invoke(app, ["predict", str(digits), "--data", str(npy), "--id", "name"]),
        f".npy array {npy} has no column 'name' to write beside the predictions (--id)",
    )


def test_read_rows_keeps_the_id_column_of_dict_rows_and_of_a_csv_read_by_position(tmp_path):
    from nooverfit.data.fitted import Column, Columns
    from nooverfit.raw_input import read_rows

    columns = Columns((Column("a"), Column("b")), "y")
    rows = [{"a": 1, "b": 2, "key": "k1"}, {"a": 3, "b": 4, "key": "k2"}]
    read = read_rows(rows, columns=columns, raw_shape=(2,), kind="tabular", id_column="key")
    assert read.ids == ("k1", "k2")
    with pytest.raises(ValueError, match=r"^rows\[1\] has no column 'key' to write beside"):
        read_rows([rows[0], {"a": 1, "b": 2}], columns=columns, raw_shape=(2,), kind="tabular",
                  id_column="key")  # fmt: skip
    plain = tmp_path / "p.csv"  # data from arrays: its features by position, the id aside
    plain.write_text("f0,id,f1\n1,x,2\n3,y,4\n")
    read = read_rows(plain, columns=None, raw_shape=(2,), kind="tabular", id_column="id")
    assert read.ids == ("x", "y") and read.x.tolist() == [[1, 2], [3, 4]]
