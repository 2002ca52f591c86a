"""``split_by_group`` / ``--split-by-group``: the groups a loader only describes (a CSV's
group column) kept whole by the split, as ``speech:`` data's are."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.errors import BadInput

runner = CliRunner()


def _patients(path, patients=30, visits=4, seed=0):
    """A CSV of ``patients`` x ``visits`` rows: a patient's rows share a label and lie near
    each other (the dependence a per-sample split leaks)."""
    rng = np.random.default_rng(seed)
    lines = ["patient,a,b,label"]
    for p in range(patients):
        centre, label = rng.normal(size=2), p % 2
        for _ in range(visits):
            a, b = centre + 0.1 * rng.normal(size=2)
            lines.append(f"p{p},{a:.3f},{b:.3f},{'yes' if label else 'no'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _straddling(groups, split):
    """Groups with rows in more than one of pool, validation and test."""
    where = [set(groups[split.pool]), set(groups[split.val]), set(groups[split.test])]
    return {g for g in set(groups) if sum(g in part for part in where) > 1}


def test_a_per_sample_split_straddles_patients_and_split_by_group_keeps_them_whole(tmp_path):
    path = _patients(tmp_path / "p.csv")
    plain = load_dataset(f"csv:{path}", target="label", group="patient")
    assert plain.groups is not None and not plain.whole_groups
    assert _straddling(plain.groups, split_dataset(plain, seed=0))  # the leak fixed below
    whole = load_dataset(f"csv:{path}", target="label", group="patient", split_by_group=True)
    assert whole.whole_groups and whole.x.shape == plain.x.shape  # the group is no feature
    for seed in (0, 1, 2):
        split = split_dataset(whole, seed=seed)
        assert split.whole_groups and not _straddling(whole.groups, split)
        assert len(split.pool) + len(split.val) + len(split.test) == len(whole.y)


def test_split_by_group_without_groups_is_one_line_error(tmp_path):
    path = _patients(tmp_path / "p.csv")
    with pytest.raises(BadInput, match="has no groups to keep whole; expected csv:PATH with"):
        load_dataset(f"csv:{path}", target="label", split_by_group=True)


def test_cli_train_split_by_group_records_a_whole_group_split(tmp_path):
    path = _patients(tmp_path / "p.csv")
    out = tmp_path / "run"
    args = ["train", "--data", f"csv:{path}", "--target", "label", "--groups", "patient"]
    fast = ["--epochs", "2", "--width", "8", "--out", str(out)]
    result = runner.invoke(app, [*args, "--split-by-group", *fast])
    assert result.exit_code == 0, result.output
    split = json.loads((out / "metrics.json").read_text())["split"]
    assert split["whole_groups"] is True
    groups = np.array([line.split(",")[0] for line in path.read_text().split()[1:]])
    parts = [set(groups[split[k]]) for k in ("pool", "val", "test")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    again = ["--epochs", "2", "--out", str(tmp_path / "other")]
    bad = runner.invoke(app, ["train", "--data", "digits", "--split-by-group", *again])
    assert bad.exit_code == 2 and "has no groups to keep whole" in bad.output
    assert "Traceback" not in bad.output


def _three_patients(path):
    """A CSV of 3 patients with 20 rows each, both labels in each patient's rows."""
    rng = np.random.default_rng(0)
    lines = ["patient,a,b,label"]
    for i in range(60):
        a, b = rng.normal(size=2)
        lines.append(f"p{i % 3},{a:.3f},{b:.3f},{'yes' if (i // 3) % 2 else 'no'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_few_groups_names_each_splits_groups_and_what_is_expected():
    from nooverfit.data.group_split import POOL, TEST, VAL, few_groups

    groups = np.array(["a", "b", "c", "a", "b", "c"])
    where = np.array([POOL, VAL, TEST, POOL, VAL, TEST])
    assert few_groups(where, groups) == (
        "the split that keeps groups whole puts 1 group(s) in training, 1 in validation and "
        "1 in test (3 in all): scores on so few groups speak for those groups, not new ones; "
        "expected at least 3 in each (add recordings, speakers or patients, or split by sample)"
    )
    nine = np.array([f"g{i}" for i in range(9)])
    assert few_groups(np.repeat([POOL, VAL, TEST], 3), nine) == ""


def test_split_by_group_with_three_groups_warns_once_and_thirty_do_not(tmp_path, caplog):
    """3 patients: training, validation and test hold one patient each; the run goes on
    (no split is empty) with one warning, also over three seeds' splits in one block."""
    from nooverfit.data.group_split import one_warning_each

    few = load_dataset(
        f"csv:{_three_patients(tmp_path / 'p.csv')}",
        target="label",
        group="patient",
        split_by_group=True,
    )
    with caplog.at_level("WARNING", logger="nooverfit"), one_warning_each():
        splits = [split_dataset(few, seed=s) for s in (0, 1, 2)]
    assert all(len(set(few.groups[s.val])) == 1 for s in splits)
    warned = [r.getMessage() for r in caplog.records if "keeps groups whole" in r.getMessage()]
    assert (
        len(warned) == 1 and "1 group(s) in training, 1 in validation and 1 in test" in warned[0]
    )
    caplog.clear()
    path = _patients(tmp_path / "thirty.csv")
    many = load_dataset(f"csv:{path}", target="label", group="patient", split_by_group=True)
    with caplog.at_level("WARNING", logger="nooverfit"):
        split_dataset(many, seed=0)  # 18, 4 and 8 patients
    assert not [r for r in caplog.records if "keeps groups whole" in r.getMessage()]


def test_make_group_split_warns_like_split_by_group_on_few_held_out_groups(caplog):
    """A loader's ``train_groups`` split (``spoken:speakers=5``) shares the check of
    ``--split-by-group``: 2 validation and 1 test group warn; its 2 training groups, a
    number asked for, do not on their own (10 groups: 2, 4 and 4)."""
    from nooverfit.data.group_split import one_warning_each
    from nooverfit.data.split import make_group_split

    y = np.tile(np.arange(3), 10)
    with caplog.at_level("WARNING", logger="nooverfit"), one_warning_each():
        for seed in (0, 1):
            make_group_split(y, np.repeat(list("abcde"), 6), train_groups=2, seed=seed)
    warned = [r.getMessage() for r in caplog.records if "keeps groups whole" in r.getMessage()]
    assert len(warned) == 1
    assert "2 group(s) in training, 2 in validation and 1 in test (5 in all)" in warned[0]
    caplog.clear()
    with caplog.at_level("WARNING", logger="nooverfit"):
        make_group_split(
            np.tile(np.arange(3), 20), np.repeat(list("abcdefghij"), 6), train_groups=2
        )
    assert not [r for r in caplog.records if "keeps groups whole" in r.getMessage()]


class _Stop(Exception):
    """Raised where a study would start training: its splits are made by then."""


def test_each_study_in_one_python_session_warns_of_few_groups_once(tmp_path, caplog, monkeypatch):
    """Two studies of the same 3-patient data in one process (a notebook): each warns
    once over its two seeds' splits; the second is not silenced by the first (it was, while
    the warning was remembered for the whole process)."""
    import nooverfit.studies.run as study_run

    def stop(*args, **kwargs):
        raise _Stop

    monkeypatch.setattr(study_run, "StudySession", stop)
    spec = f"csv:{_three_patients(tmp_path / 'p.csv')}"
    warned = []
    for _ in range(2):
        caplog.clear()
        with caplog.at_level("WARNING", logger="nooverfit"), pytest.raises(_Stop):
            study_run.study(spec, target="label", group="patient", split_by_group=True, seeds=2)
        warned.append([r for r in caplog.records if "keeps groups whole" in r.getMessage()])
    assert [len(w) for w in warned] == [1, 1]
    caplog.clear()
    with caplog.at_level("WARNING", logger="nooverfit"):
        few = load_dataset(spec, target="label", group="patient", split_by_group=True)
        split_dataset(few, seed=0), split_dataset(few, seed=0)  # two calls, outside a study
    assert len([r for r in caplog.records if "keeps groups whole" in r.getMessage()]) == 2


@pytest.mark.parametrize(("test", "val"), [(250, 0.2), (0.5, 100)])
def test_split_by_group_names_test_and_val_that_leave_no_training_pool(test, val):
    from nooverfit.data.split import make_stratified_group_split

    y, groups = np.tile([0, 1], 100), np.repeat([f"p{i}" for i in range(20)], 10)
    with pytest.raises(BadInput, match=rf"^test={test}, val={val} leave no sample of 200 for"):
        make_stratified_group_split(y, groups, test=test, val=val)


def test_a_study_of_three_patients_carries_its_few_groups_warning_to_the_report(tmp_path):
    """The few-groups warning was logged on the command line only: results.json and the
    report now carry it (once for both seeds), as :func:`few_groups` words each split."""
    from nooverfit.data.group_split import POOL, TEST, VAL, few_groups

    path = _three_patients(tmp_path / "p.csv")
    out = tmp_path / "study"
    args = ["study", "--data", f"csv:{path}", "--target", "label", "--groups", "patient"]
    fast = ["--seeds", "2", "--epochs", "2", "--no-classic", "--train-per-class", "0"]
    result = runner.invoke(app, [*args, "--split-by-group", *fast, "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads((out / "results.json").read_text())
    groups = np.array([line.split(",")[0] for line in path.read_text().split()[1:]])
    expected = []
    for split in saved["splits"]:
        where = np.full(len(groups), -1)
        for part, name in ((POOL, "pool"), (VAL, "val"), (TEST, "test")):
            where[split[name]] = part
        assert (where >= 0).all()
        expected.append(few_groups(where, groups))
    assert expected[0] and len(set(expected)) == 1  # 1 patient each: both seeds warn alike
    assert saved["extras"]["split_warnings"] == [expected[0]]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f'id="split-warning-1">Warning: {expected[0]}.</p>' in report
    assert 'id="split-warning-2"' not in report
    assert "Some splits held few groups" in report
