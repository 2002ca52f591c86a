"""What ``nooverfit tune`` writes and says besides the search: an --out of another study
(or of a newer nooverfit) refused, a study resumed by other nooverfit code refused with
nothing lost, the split's few-groups warning logged once and carried into the report, and
a summary that agrees with the report on what to train."""

import dataclasses
import json

import optuna
import pytest
from typer.testing import CliRunner

from _tune import tiny_spec, trials_of
from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.tune import open_study, tune


def test_tune_out_of_another_study_is_refused_unless_overwrite_and_resumes(tmp_path):
    """tune --out replaced another study's best.json silently; its own study's is updated
    when it resumes."""
    from nooverfit.errors import OutputExists

    out = tmp_path / "out"
    spec = tiny_spec(f"sqlite:///{out}/tune.db", trials=2)
    tune(spec, out=out)
    before = (out / "best.json").read_bytes()
    other = dataclasses.replace(spec, study_name="other")
    with pytest.raises(OutputExists, match=r"best\.json holds another study's results"):
        tune(other, out=out)
    assert (out / "best.json").read_bytes() == before  # nothing lost
    assert "other" not in optuna.get_all_study_names(spec.storage)  # no trial run either
    tune(dataclasses.replace(spec, trials=3), out=out)  # a resume is no overwrite
    counts = json.loads((out / "best.json").read_text())["counts"]
    assert counts["COMPLETE"] + counts["PRUNED"] == 3
    tune(other, out=out, overwrite=True)
    assert json.loads((out / "best.json").read_text())["study_name"] == "other"


def test_cli_tune_out_of_another_study_is_one_line_exit_2(tmp_path):
    (tmp_path / "best.json").write_text('{"study_name": "old", "storage": "sqlite:///x.db"}')
    result = CliRunner().invoke(app, ["tune", "--trials", "1", "--out", str(tmp_path)])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "another study's results" in lines[0] and "--overwrite" in lines[0]
    assert "old" in (tmp_path / "best.json").read_text()


def test_tune_resume_refuses_a_newer_nooverfits_best_json_unless_overwrite(tmp_path):
    """best.json records its format: a resume (the same study and storage) replaced a newer
    nooverfit's file; it is refused in one line, as every reader of nooverfit's own files
    refuses a newer format, before any trial."""
    from nooverfit.errors import NewerFile
    from nooverfit.tune.result import BEST_FORMAT

    out = tmp_path / "out"
    spec = tiny_spec(f"sqlite:///{out}/tune.db", trials=1)
    tune(spec, out=out)
    saved = json.loads((out / "best.json").read_text())
    assert (saved["format"], BEST_FORMAT) == (2, 2) and saved["nooverfit"]
    newer = json.dumps({**saved, "format": 3, "nooverfit": "9.0"})
    (out / "best.json").write_text(newer)
    expected = (
        r"best\.json was made by a newer nooverfit \(9\.0, format 3\); this one \(.+\) reads "
        r"format up to 2: install the nooverfit that wrote it, or a later one, to load it; or "
        r"choose another --out or pass --overwrite$"
    )
    with pytest.raises(NewerFile, match=expected):
        tune(dataclasses.replace(spec, trials=2), out=out)
    assert (out / "best.json").read_text() == newer
    assert len(trials_of(spec)) == 1  # no trial run either
    tune(dataclasses.replace(spec, trials=2), out=out, overwrite=True)
    assert json.loads((out / "best.json").read_text())["format"] == 2


def test_tune_best_json_format_2_names_the_kept_and_the_best_epoch(tmp_path):
    """Format 2: ``kept_epoch`` is the epoch whose weights the retrained run kept,
    ``best_epoch`` its lowest finite val_loss's; a format 1 file of the same study (whose
    ``best_epoch`` meant the kept one, no ``kept_epoch``) is still resumed, rewritten as 2."""
    from nooverfit.history import best_index

    out = tmp_path / "out"
    spec = tiny_spec(f"sqlite:///{out}/tune.db", trials=1)
    result = tune(spec, out=out)
    saved = json.loads((out / "best.json").read_text())
    history = result.history
    lowest = best_index(history.val_loss)
    assert lowest is not None and saved["best_epoch"] == history.epoch[lowest]
    assert history.val_loss[lowest] == min(history.val_loss)
    assert saved["kept_epoch"] == history.kept_epoch is not None
    assert saved["epochs_run"] == len(history)
    old = {k: v for k, v in saved.items() if k not in ("format", "kept_epoch")}
    (out / "best.json").write_text(json.dumps({**old, "best_epoch": saved["kept_epoch"]}))
    tune(dataclasses.replace(spec, trials=2), out=out)  # a resume, not refused
    again = json.loads((out / "best.json").read_text())
    assert again["format"] == 2 and "kept_epoch" in again
    assert again["counts"]["COMPLETE"] + again["counts"]["PRUNED"] == 2


def _identity(spec):
    return optuna.load_study(study_name=spec.study_name, storage=spec.storage).user_attrs[
        "identity"
    ]


def test_tune_resumed_by_other_code_of_the_same_version_is_refused(tmp_path, monkeypatch):
    """The version stays 0.1.0 between releases: trials scored by other code (an upgrade
    from source, an edited checkout) are not mixed into this code's study, as a study's
    stored runs are not (``nooverfit code`` in both identities); nothing is lost."""
    import nooverfit._version
    from nooverfit.errors import BadInput

    out = tmp_path / "out"
    spec = tiny_spec(f"sqlite:///{out}/tune.db", trials=1)
    tune(spec, out=out)
    code = nooverfit._version.code_digest()
    assert _identity(spec)["nooverfit code"] == code
    written = {
        p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "tune.db" not in p.name
    }
    monkeypatch.setattr(nooverfit._version, "code_digest", lambda: "0123456789ab")
    expected = (
        rf"study 'nooverfit' was made with other settings \(nooverfit code: {code} there, "
        r"0123456789ab now\); to resume it, use the same options and the nooverfit that "
        r"scored its trials; to start a new study, use another --study-name and --out$"
    )
    with pytest.raises(BadInput, match=expected):
        tune(dataclasses.replace(spec, trials=2), out=out)
    assert {p: p.read_bytes() for p in written} == written  # nothing lost
    assert len(trials_of(spec)) == 1  # no trial run either
    assert _identity(spec)["nooverfit code"] == code
    monkeypatch.undo()
    open_study(dataclasses.replace(spec, trials=2))  # the code that made it joins it


def test_tune_study_from_before_the_code_was_recorded_is_refused(tmp_path):
    """A study whose identity has no ``nooverfit code`` was scored by older code."""
    from nooverfit.errors import BadInput

    spec = tiny_spec(f"sqlite:///{tmp_path}/t.db")
    study = open_study(spec)
    older = {k: v for k, v in _identity(spec).items() if k != "nooverfit code"}
    study.set_user_attr("identity", older)
    with pytest.raises(BadInput, match=r"\(nooverfit code: None there, [0-9a-f]{12} now\)"):
        open_study(spec)
    assert _identity(spec) == older


def test_cli_tune_resumed_by_other_code_is_one_line_exit_2(tmp_path, monkeypatch):
    """A study another nooverfit's code started in the storage (its first worker stopped
    before a trial) is refused by this code's ``nooverfit tune``: one line, exit 2."""
    import typer

    import nooverfit._version
    import nooverfit.tune

    def start_only(spec, **_):
        open_study(spec)
        raise typer.Exit(0)

    args = ["tune", "--trials", "1", "--epochs", "2", "--max-width", "16", "--out", str(tmp_path)]
    with monkeypatch.context() as other:
        other.setattr(nooverfit._version, "code_digest", lambda: "0123456789ab")
        other.setattr(nooverfit.tune, "tune", start_only)
        assert CliRunner().invoke(app, args).exit_code == 0
    result = CliRunner().invoke(app, args)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "nooverfit code: 0123456789ab there" in lines[0]
    assert "the nooverfit that scored its trials" in lines[0]
    storage = f"sqlite:///{tmp_path.resolve() / 'tune.db'}"
    study = optuna.load_study(study_name="nooverfit", storage=storage)
    assert study.user_attrs["identity"]["nooverfit code"] == "0123456789ab"
    assert not study.get_trials() and not (tmp_path / "best.json").exists()


def _few_groups_spec(tmp_path):
    """A one-trial tune of a CSV of 3 patients kept whole (1 each in training, validation
    and test), and the CSV's lines."""
    lines = ["patient,a,b,label"]
    lines += [f"p{i % 3},{i % 7 / 7:.3f},{i % 5 / 5:.3f},{(i // 3) % 2}" for i in range(60)]
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    options = {"target": "label", "group": "patient", "split_by_group": True}
    spec = tiny_spec(
        f"sqlite:///{tmp_path}/s.db",
        trials=1,
        data=f"csv:{tmp_path / 'p.csv'}",
        data_options=options,
        base=RunConfig(epochs=2),
    )
    return spec, lines


def test_tune_in_one_process_warns_of_few_groups_once(tmp_path, caplog):
    """Review i88 finding 6: ``tune`` loads the data, then its one worker (this process)
    loads it again; the few-groups warning was logged by both. Once per tune run."""
    spec, _ = _few_groups_spec(tmp_path)
    with caplog.at_level("WARNING", logger="nooverfit"):
        tune(spec)
    warned = [r.getMessage() for r in caplog.records if "keeps groups whole" in r.getMessage()]
    assert len(warned) == 1 and "1 group(s) in training" in warned[0]


def test_tune_report_carries_the_few_groups_warning_as_a_study_report_does(tmp_path):
    """The few-groups warning reached the log only: the tuning report and its
    results.json now carry it, as a study's do (``extras.split_warnings``)."""
    import numpy as np

    from nooverfit.data.group_split import POOL, TEST, VAL, few_groups

    spec, lines = _few_groups_spec(tmp_path)
    tune(spec, out=tmp_path / "out")
    saved = json.loads((tmp_path / "out" / "report" / "results.json").read_text())
    split = saved["splits"][0]
    groups = np.array([line.split(",")[0] for line in lines[1:]])
    where = np.full(len(groups), -1)
    for part, name in ((POOL, "pool"), (VAL, "val"), (TEST, "test")):
        where[split[name]] = part
    expected = few_groups(where, groups)
    assert expected and saved["extras"]["split_warnings"] == [expected]
    report = (tmp_path / "out" / "report" / "report.html").read_text(encoding="utf-8")
    assert f'id="split-warning-1">Warning: {expected}.</p>' in report


def test_cli_tune_summary_says_when_the_report_keeps_the_baseline(tmp_path):
    """The summary gave the tuned configuration's scores only, while its report, where the
    retrained baseline scored at least as well on validation, recommended the baseline:
    the terminal and the report disagreed on the answer. The summary now says so, with the
    report's numbers."""
    from nooverfit.cli._app import console
    from nooverfit.cli.tune import _summary

    out = tmp_path / "out"
    result = tune(tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=1), out=out)
    path = out / "report" / "results.json"
    saved = json.loads(path.read_text())
    for beat in (False, True):
        saved["extras"]["tuning"]["beat_baseline"] = beat
        path.write_text(json.dumps(saved))
        with console.capture() as captured:
            _summary(result, out)
        text = " ".join(captured.get().split())
        assert ("recommends keeping it" in text) == (not beat), text
        if not beat:
            val = 100 * saved["baseline"]["score"]["val_accuracy"]
            test = 100 * saved["test"]["baseline"]["accuracy"]
            assert (
                f"the baseline (no regularization), retrained on the same split, scored "
                f"{val:.1f}% validation accuracy, which the tuned configuration did not beat: "
                f"the report ({out}/report/report.html) recommends keeping it (test accuracy "
                f"{test:.1f}%)"
            ) in text


def test_tune_resumed_on_an_edited_csv_is_refused(tmp_path):
    """The same command over a CSV whose rows changed between two runs is other data: its
    trials would have been mixed with those scored on the old rows under one best.json.
    Refused in one line naming the data's content; nothing is lost, no trial runs."""
    from nooverfit.errors import BadInput

    rows = ["a,b,label"] + [f"{i % 7},{(i * 3) % 5},{'xy'[i % 2]}" for i in range(80)]
    data = tmp_path / "rows.csv"
    data.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    spec = tiny_spec(
        f"sqlite:///{out}/tune.db",
        trials=1,
        data=f"csv:{data}",
        data_options={"target": "label"},
        base=RunConfig(epochs=3),
    )
    tune(spec, out=out)
    content = _identity(spec)["data content"]
    assert _identity(spec)["torch"]
    best = (out / "best.json").read_bytes()
    data.write_text("\n".join([*rows[:-1], "6,4,x"]) + "\n")  # one label edited
    refused = (
        r"other settings \(data content: [0-9a-f]{16} there, .+ the same options on the same "
        r"rows; to start a new study, use another --study-name and --out$"
    )
    with pytest.raises(BadInput, match=refused):
        tune(dataclasses.replace(spec, trials=2), out=out)
    assert (out / "best.json").read_bytes() == best
    assert len(trials_of(spec)) == 1 and _identity(spec)["data content"] == content


def test_cli_tune_rerun_with_no_trials_left_says_why_none_ran(tmp_path):
    """Review i134: a study with 2 finished trials re-run with --trials 1 ran nothing and
    printed the summary alone ("2 complete") with no word of why."""
    from typer.testing import CliRunner

    from nooverfit.cli import app

    out = tmp_path / "tune"
    args = ["tune", "--epochs", "2", "--train-per-class", "5", "--max-width", "16"]
    args += ["--max-depth", "1", "--out", str(out)]
    first = CliRunner().invoke(app, [*args, "--trials", "2"])
    assert first.exit_code == 0, first.output
    assert "none were run" not in first.output
    for trials in (1, 2):
        again = CliRunner().invoke(app, [*args, "--trials", str(trials)])
        assert again.exit_code == 0, again.output
        text = " ".join(again.output.split())
        assert (
            f"tune: study 'nooverfit' already holds 2 finished trials (--trials {trials}), so "
            "none were run; --trials counts the study's total, not this run's: pass --trials 3 "
            "or more to run more"
        ) in text
        assert "tune: trial" not in text  # no trial ran


def test_cli_tune_help_names_every_file_tune_writes(tmp_path):
    """The help named best.json and the two plots; tune also writes best_history.csv and
    report/ (the README's list of them was as short)."""
    out = tmp_path / "out"
    tune(tiny_spec(f"sqlite:///{tmp_path}/t.db", trials=1), out=out)
    written = [p.relative_to(out).as_posix() for p in out.iterdir() if p.is_file()]
    written += [f"{p.relative_to(out).as_posix()}/" for p in out.iterdir() if p.is_dir()]
    written += [p.relative_to(out).as_posix() for p in (out / "plots").iterdir()]
    result = CliRunner().invoke(app, ["tune", "--help"], env={"COLUMNS": "200"})
    shown = " ".join(result.output.split())
    assert sorted(w for w in written if w not in shown and w != "plots/") == []
