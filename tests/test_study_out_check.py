"""The Python API refuses a study folder holding files no study wrote, as the CLI's
``study --out`` does (commit b568531): ``study(out=...)`` before its first run,
``write_study`` before it replaces anything; one message, the project's BadInput."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import nooverfit as no
from nooverfit.cli import app
from nooverfit.errors import BadInput
from nooverfit.study_files import write_study

KW = {"train_per_class": 5, "width": 8, "seeds": 2, "epochs": 2, "budget": "quick"}
ARGS = ["study", "--train-per-class", "5", "--width", "8", "--seeds", "2", "--epochs", "2"]


def _message(out, mine, named=""):
    """The refusal: the folder named as the Python argument (``out='PATH'``), or as the
    command line's ``--out PATH``."""
    return (
        f"{named or f'out={str(out)!r}'} holds {mine}, which no nooverfit study wrote and "
        "the study would replace or remove; expected a new folder or a study's"
    )


def _project(tmp_path, mine):
    out = tmp_path / "project"
    (out / "plots").mkdir(parents=True)
    (out / mine).write_text("the user's own file")
    return out


@pytest.mark.parametrize("mine", ["results.json", "plots/loss.png", "report.html"])
def test_study_refuses_such_an_out_before_its_first_run(tmp_path, mine):
    out = _project(tmp_path, mine)
    with pytest.raises(BadInput) as caught:
        no.study("digits", out=out, **KW)
    assert str(caught.value) == _message(out, mine)
    assert (out / mine).read_text() == "the user's own file"
    assert not (out / "runs").exists()  # no run stored in the user's folder


def test_write_study_refuses_it_and_the_cli_says_the_same(tmp_path):
    result = no.study("digits", **KW)  # in memory
    out = _project(tmp_path, "plots/loss.png")
    with pytest.raises(BadInput) as caught:
        write_study(result, out)
    assert str(caught.value) == _message(out, "plots/loss.png")
    assert (out / "plots" / "loss.png").read_text() == "the user's own file"
    assert {p.name for p in out.iterdir()} == {"plots"}  # nothing written
    cli = CliRunner().invoke(app, [*ARGS, "--out", str(out)])
    assert "--out" not in str(caught.value)  # a Python caller passed out=, not a flag
    expected = _message(out, "plots/loss.png", named=f"--out {out}")
    assert cli.exit_code == 2 and cli.output.strip() == f"error: {expected}"
    # a new folder, then the same folder again (a study's results.json): written both times
    fresh = tmp_path / "fresh"
    assert write_study(result, fresh)["results"] == fresh / "results.json"
    write_study(result, fresh)
    assert json.loads((fresh / "results.json").read_text())["settings"]["seeds"] == [0, 1]


def _newer(out, runs):
    """A study folder as a newer nooverfit left it: its results.json of schema_version 3,
    with its run store (an identity of other settings) or without (deleted to train again)."""
    (out / "runs").mkdir(parents=True)
    if runs:
        (out / "runs" / "identity.json").write_text("{}")
    newer = {"schema_version": 3, "settings": {"nooverfit": "9.0"}, "runs": []}
    (out / "results.json").write_text(json.dumps(newer))
    return json.dumps(newer)


@pytest.mark.parametrize("runs", [False, True])
def test_a_newer_nooverfits_results_json_is_refused_not_replaced(tmp_path, runs):
    """check_study_out let a study train into (and then replace) the results.json a newer
    nooverfit wrote; it now refuses it as every reader of results.json does, and before a
    run store's other settings (which would blame the settings, not the version)."""
    out = tmp_path / "newer"
    before = _newer(out, runs)
    expected = (
        rf"^{out}/results.json was made by a newer nooverfit \(9\.0, schema_version 3\); this "
        r"one \(.+\) reads schema_version up to 2: install the nooverfit that wrote it, or a "
        r"later one, to load it, or choose another out$"
    )
    with pytest.raises(BadInput, match=expected):
        no.study("digits", out=out, **KW)
    assert (out / "results.json").read_text() == before
    assert {p.name for p in (out / "runs").iterdir()} == ({"identity.json"} if runs else set())
    cli = CliRunner().invoke(app, [*ARGS, "--out", str(out)])
    assert cli.exit_code == 2 and cli.output.count("\n") == 1, cli.output
    assert cli.output.rstrip().endswith("to load it, or choose another --out")
    assert (out / "results.json").read_text() == before
