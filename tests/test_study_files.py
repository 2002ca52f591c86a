"""``write_study`` writes several files; an interruption between two of them never leaves
report.html describing other numbers than results.json without saying so (review i148:
a rerun with ``--no-classic``, interrupted after results.json, kept the earlier report).

Each test interrupts a rerun of the tiny study (its stored runs kept, the classic models
left out) before one file lands, by a KeyboardInterrupt from ``os.replace``, the last step
of every atomic write."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from typer.testing import CliRunner

from conftest import TINY
from nooverfit.cli import app
from nooverfit.errors import BadInput
from nooverfit.saved_model import load_study_model
from nooverfit.studies.ensemble import load_from_study
from nooverfit.studies.results_file import WRITING, unfinished
from nooverfit.study_files import UNFINISHED, check_study_out, write_study

runner = CliRunner()


def _files(root):
    """Every file under ``root`` and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def rerun(tiny_study, tmp_path_factory):
    """The tiny study's folder, its rerun without the classic models (every run read back
    from runs/), the rerun's files as an uninterrupted write leaves them, and the order of
    the files it replaces."""
    import nooverfit.report_figures as figures
    from nooverfit.studies import study

    before = tmp_path_factory.mktemp("before") / "s"
    shutil.copytree(tiny_study[1], before)  # the session's folder is left as it is
    again = study(
        "digits",
        width=16,
        train_per_class=10,
        budget=TINY,
        seeds=2,
        out=before,
        engine="sequential",
        classic=False,
    )
    assert (
        again.to_dict()["settings"]
        != json.loads((before / "results.json").read_text())["settings"]
    )
    with pytest.MonkeyPatch.context() as mp:
        # no figures: the same writes, seconds faster (the figures are tested elsewhere)
        mp.setattr(figures, "study_pngs", lambda *a, **k: {})
        after = tmp_path_factory.mktemp("after") / "s"
        shutil.copytree(before, after)
        order, replace = [], os.replace
        mp.setattr(os, "replace", lambda a, b: (order.append(os.path.basename(b)), replace(a, b)))
        write_study(again, after)
    return before, again, _files(after), order


def _interrupted(before, again, tmp_path, monkeypatch, stop):
    """A copy of ``before`` with ``again`` written into it until ``stop(name)`` is true of
    the file about to land; the copy."""
    import nooverfit.report_figures as figures

    out = tmp_path / "s"
    shutil.copytree(before, out)
    monkeypatch.setattr(figures, "study_pngs", lambda *a, **k: {})
    replace = os.replace

    def interrupted(a, b):
        if stop(os.path.basename(b)):
            raise KeyboardInterrupt
        replace(a, b)

    with monkeypatch.context() as mp:
        mp.setattr(os, "replace", interrupted)
        with pytest.raises(KeyboardInterrupt):
            write_study(again, out)
    return out


def _at(order, i):
    """``stop`` for the ``i``-th replace of ``order``."""
    calls = iter(range(len(order)))
    return lambda name: next(calls) == i


@pytest.mark.parametrize(
    "where", ["marker", "first report", "history", "results.json", "best_model.pt", "last report"]
)
def test_an_interrupted_rewrite_says_so_wherever_it_stops(rerun, tmp_path, monkeypatch, where):
    before, again, done, order = rerun
    first = {
        "marker": order.index(WRITING),
        "first report": order.index("report.html"),
        "history": next(i for i, n in enumerate(order) if n.endswith(".csv")),
        "results.json": order.index("results.json"),
        "best_model.pt": order.index("best_model.pt"),
        "last report": len(order) - 1,
    }[where]
    old = _files(before)
    out = _interrupted(before, again, tmp_path, monkeypatch, _at(order, first))
    now = _files(out)
    # nothing the earlier study wrote is lost: its runs, and each file old or new, whole
    assert {k: v for k, v in now.items() if k.startswith("runs")} == {
        k: v for k, v in old.items() if k.startswith("runs")
    }
    for name, data in now.items():
        assert data in (old.get(name), done.get(name)) or name in (WRITING, "report.html")
    report = now["report.html"].decode()
    if UNFINISHED in report:  # the page says so at its top, and predict refuses
        assert WRITING in now and report.index(UNFINISHED) < report.index("<h1>")
        assert (
            report.replace(f'<p id="unfinished" class="verdict"><b>{UNFINISHED}</b></p>\n', "")
            == done["report.html"].decode()
        )
        with pytest.raises(BadInput, match="interrupted while writing its files"):
            load_study_model(out)
    else:  # the report and results.json are one run's
        pair = (now["report.html"], now["results.json"])
        assert pair in {
            (old["report.html"], old["results.json"]),
            (done["report.html"], done["results.json"]),
        }
    # the folder is a study's to write again, and that finishes it
    check_study_out(out)
    write_study(again, out)
    assert _files(out) == done and WRITING not in done


def test_interrupted_after_its_last_file_the_folder_reads_as_finished(
    rerun, tmp_path, monkeypatch
):
    """Stopped between the last report and the marker's removal: every file is the
    rerun's, the page plain. predict said the study was interrupted while writing and to
    run the command again, which changed nothing (s29 i155); it now reads the folder, and
    the stale marker is removed."""
    import pathlib

    import numpy as np

    before, again, done, _ = rerun
    unlink = pathlib.Path.unlink

    def interrupted(self, missing_ok=False):
        if self.name == WRITING:
            raise KeyboardInterrupt
        unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(pathlib.Path, "unlink", interrupted)
    out = _interrupted(before, again, tmp_path, monkeypatch, lambda name: False)
    monkeypatch.setattr(pathlib.Path, "unlink", unlink)
    assert {k: v for k, v in _files(out).items() if k != WRITING} == done
    assert WRITING in _files(out) and not unfinished(out)
    np.save(tmp_path / "x.npy", np.zeros((2, 64), dtype=np.float32))
    result = runner.invoke(app, ["predict", str(out), "--data", str(tmp_path / "x.npy")])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("prediction,p_0,")
    assert len(result.output.splitlines()) == 3  # the header and a row per sample
    assert _files(out) == done  # the marker removed, nothing else touched


def test_a_marker_beside_an_unfinished_report_still_refuses(rerun, tmp_path, monkeypatch):
    """Stopped after the first report: the files may be from two runs, and predict says
    to run the command again; the marker stays."""
    before, again, _, order = rerun
    out = _interrupted(
        before, again, tmp_path, monkeypatch, _at(order, order.index("results.json"))
    )
    assert unfinished(out)
    result = runner.invoke(app, ["predict", str(out), "--data", str(out / "x.npy")])
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith("error:") and "interrupted while writing its files" in line
    assert "run the same nooverfit command again (same --out and options)" in " ".join(
        result.output.split()
    )
    with pytest.raises(BadInput, match="interrupted while writing"):
        load_from_study(out)
    assert WRITING in _files(out)


def test_a_train_runs_folder_is_refused_as_a_studys_out(tmp_path):
    """s29 i155: a study wrote best_model.pt beside a train run's model.pt; predict then
    refused the folder ("holds both a study's best_model.pt and a train run's model.pt")."""
    out = tmp_path / "run"
    out.mkdir()
    for name in ("model.pt", "model.json", "metrics.json", "history.csv"):
        (out / name).write_text(name)
    with pytest.raises(BadInput) as err:
        check_study_out(out, named=f"--out {out}")
    assert str(err.value) == (
        f"--out {out} holds a nooverfit train run (model.pt, metrics.json); expected a new "
        "folder or a study's (one command's model to a folder)"
    )
    result = runner.invoke(app, ["study", "--seeds", "1", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == f"error: {err.value}"
    assert sorted(p.name for p in out.iterdir()) == [
        "history.csv",
        "metrics.json",
        "model.json",
        "model.pt",
    ]


def test_the_marks_of_a_study_folder_name_the_run_stores_identity_file():
    """``_io.STUDY_MARKS`` (train's and tune's refusal of a study's folder) names the run
    store's identity file by its path: the store's own name for it."""
    from nooverfit._io import STUDY_MARKS
    from nooverfit.studies.store import IDENTITY

    assert f"runs/{IDENTITY}" in STUDY_MARKS
