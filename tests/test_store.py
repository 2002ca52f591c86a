import json
import logging
import shutil

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from conftest import TINY
from nooverfit.cli import app
from nooverfit.config import RunConfig
from nooverfit.errors import BadInput
from nooverfit.studies import study
from nooverfit.studies.identity import differences
from nooverfit.studies.store import NOT_RUNS, THREADS, RunStore

KWARGS = dict(
    width=16,
    train_per_class=10,
    budget=TINY,
    seeds=1,
    engine="sequential",
    learning_curves=False,
)


def _results(result) -> dict:
    data = json.loads(json.dumps(result.to_dict(), default=str))
    data["settings"].pop("seconds", None)
    data.pop("costs", None)  # this session's training, which resuming cuts short
    for run in data["runs"].values():
        run["history"]["extras"].pop("seconds", None)
    return data


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A one-seed tiny study with its run store, and its results."""
    out = tmp_path_factory.mktemp("stored")
    result = study("digits", out=out, **KWARGS)
    return out, _results(result)


def test_store_claim_refuses_another_split_naming_the_setting(tmp_path):
    store = RunStore(tmp_path / "runs")
    store.claim({"data": "digits", "val": 0.2, "test": 0.25})
    store.claim({"data": "digits", "val": 0.2, "test": 0.25})  # the same study resumes
    with pytest.raises(BadInput, match=r"val: 0\.2 there, 0\.3 now") as err:
        store.claim({"data": "digits", "val": 0.3, "test": 0.25}, out="X")
    assert str(err.value).startswith("X holds a study with other settings")
    assert "test" not in str(err.value)


def test_identity_differences_ignore_tuple_vs_list():
    assert differences({"seeds": [0, 1]}, {"seeds": (0, 1)}) == []
    assert differences({"seeds": [0]}, {"seeds": [0, 1]}) == ["seeds: [0] there, [0, 1] now"]


def test_study_resumed_with_another_val_split_is_refused(stored, tmp_path):
    out, _ = stored
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    before = sorted(p.name for p in (copy / "runs").iterdir())
    for change in ({"val": 0.3}, {"test": 0.3}, {"classes": "0-4"}, {"seeds": [1]}):
        with pytest.raises(BadInput, match="other settings"):
            study("digits", out=copy, **{**KWARGS, **change})
    # review i40 #3: another baseline network or training set was a new study written over
    # the stored one's report
    for change, named in (
        ({"width": 32}, "baseline width: 16 there, 32 now"),
        ({"train_per_class": 6}, "baseline train per class: 10 there, 6 now"),
        ({"epochs": 3}, "baseline epochs fixed: False there, True now"),
    ):
        with pytest.raises(BadInput, match="other settings") as err:
            study("digits", out=copy, **{**KWARGS, **change})
        assert named in str(err.value)
    assert sorted(p.name for p in (copy / "runs").iterdir()) == before  # nothing lost


def test_cli_study_on_an_out_of_other_settings_is_one_line_exit_2(stored, tmp_path):
    out, _ = stored
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    # The stored study is a custom budget: any CLI study differs from it.
    result = CliRunner().invoke(app, ["study", "--seeds", "1", "--out", str(copy)])
    assert result.exit_code == 2, result.output
    assert "other settings" in result.output and "budget" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_store_without_identity_trains_its_runs_again(stored, tmp_path, caplog):
    out, reference = stored
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "runs" / "identity.json").unlink()
    with caplog.at_level(logging.WARNING):
        again = study("digits", out=copy, **KWARGS)
    assert "trained again" in caplog.text
    assert _results(again) == reference


def _damage(runs, how):
    weights = sorted(runs.glob("*.pt"))
    records = sorted(p for p in runs.glob("*.json") if p.name not in NOT_RUNS)
    if how == "truncated weights":
        weights[0].write_bytes(weights[0].read_bytes()[:50])
    elif how == "empty weights":
        weights[1].write_bytes(b"")
    elif how == "missing weights":
        weights[2].unlink()
    elif how == "json list":
        records[0].write_text("[]")
    elif how == "json garbage":
        records[1].write_bytes(b"\x00\xffgarbage{")
    elif how == "empty json":
        records[2].write_text("")
    elif how == "json without epochs":
        records[3].write_text(json.dumps({"history": {"epoch": []}}))


@pytest.mark.parametrize(
    "how",
    [
        "truncated weights",
        "empty weights",
        "missing weights",
        "json list",
        "json garbage",
        "empty json",
        "json without epochs",
    ],
)
def test_study_retrains_a_damaged_run_and_finishes_equal(stored, tmp_path, caplog, how):
    out, reference = stored
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    _damage(copy / "runs", how)
    with caplog.at_level(logging.WARNING):
        again = study("digits", out=copy, **KWARGS)
    assert _results(again) == reference
    warnings = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert len(warnings) == 1 and "\n" not in warnings[0].getMessage()


def test_store_get_reads_back_what_put_wrote(stored):
    out, _ = stored
    store = RunStore(out / "runs")
    first = next(p for p in (out / "runs").glob("*.json") if p.name not in NOT_RUNS)
    config = RunConfig.from_dict(json.loads(first.read_text())["config"])
    got = store.get(config)
    assert got is not None and got.config == config
    assert all(isinstance(v, torch.Tensor) for v in got.state.values())


def _damage_randomly(runs, rng):
    """Damage one stored file at random; returns its name."""
    files = sorted(p for p in runs.iterdir() if p.is_file())
    target = files[rng.integers(len(files))]
    how = rng.integers(4)
    data = target.read_bytes()
    if how == 0:
        target.write_bytes(data[: rng.integers(len(data) + 1)])  # truncated
    elif how == 1:
        target.write_bytes(b"")
    elif how == 2:
        target.write_bytes(bytes(rng.integers(0, 256, 64, dtype=np.uint8)))  # garbage
    else:
        target.unlink()
    return target.name


@pytest.mark.parametrize("point", range(4))
def test_study_killed_and_damaged_at_random_points_reruns_equal(stored, tmp_path, point):
    """Fault injection: stop the study after a random number of runs, damage a random
    stored file, run again: the results equal an uninterrupted study's."""
    _, reference = stored
    rng = np.random.default_rng(point)
    stop_after = int(rng.integers(1, 8))
    calls = []

    def interrupt(label, done, total):
        calls.append(done)
        if len(calls) == stop_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        study("digits", out=tmp_path, progress=interrupt, **KWARGS)
    damaged = _damage_randomly(tmp_path / "runs", rng)
    again = study("digits", out=tmp_path, **KWARGS)
    got = _results(again)
    if damaged == THREADS:  # the count the runs trained with, lost (test_study_threads)
        got["extras"].pop("threads", None)
        reference = {**reference, "extras": {**reference["extras"]}}
        reference["extras"].pop("threads")
    assert got == reference


def test_code_digest_changes_with_the_code_and_nothing_else(tmp_path):
    import nooverfit
    from nooverfit._version import code_digest, tree_digest

    package = tmp_path / "nooverfit"
    shutil.copytree(nooverfit.__path__[0], package, ignore=shutil.ignore_patterns("__pycache__"))
    assert tree_digest(package) == code_digest()
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "x.pyc").write_bytes(b"compiled")  # not code that runs
    (package / "notes.txt").write_text("not code")
    assert tree_digest(package) == code_digest()
    module = package / "history.py"
    module.write_text(module.read_text() + "\n# edited\n")
    assert tree_digest(package) != code_digest()


def test_study_resumed_by_other_code_of_the_same_version_is_refused(stored, tmp_path):
    """The version stays 0.1.0 between releases: runs trained by other code (an upgrade
    from source, an edited checkout) are not mixed into this code's study."""
    out, _ = stored
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    path = copy / "runs" / "identity.json"
    identity = json.loads(path.read_text())
    assert identity["nooverfit code"]
    path.write_text(json.dumps({**identity, "nooverfit code": "0123456789ab"}))
    before = sorted(p.name for p in (copy / "runs").iterdir())
    with pytest.raises(BadInput, match=r"other settings \(nooverfit code: 0123456789ab there"):
        study("digits", out=copy, **KWARGS)
    assert sorted(p.name for p in (copy / "runs").iterdir()) == before  # nothing lost


def test_a_study_refused_for_its_model_leaves_the_folder_free_for_the_next(tmp_path):
    """A CNN on table rows failed as its first stage built it, after the folder's run store
    was claimed: the same command with --model mlp was then refused as 'other settings'."""
    out = tmp_path / "study"
    kw = {"out": out, "seeds": 1, "train_per_class": 5, "width": 8, "budget": TINY}
    with pytest.raises(ValueError, match=r"cnn needs image inputs"):
        study("synthetic", model="cnn", **kw)
    assert not (out / "runs" / "identity.json").exists()
    result = study("synthetic", model="mlp", learning_curves=False, classic=False, **kw)
    assert result.settings.model == "mlp"
