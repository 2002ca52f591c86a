"""Errors that are bad input are converted where the input is read (checkpoints, images,
CSV files, database URLs), workers stop with their parent, stale temporary files go."""

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from nooverfit._io import read_checkpoint, remove_stale_tmp
from nooverfit.cli import app
from nooverfit.data import load_dataset
from nooverfit.errors import BadInput
from nooverfit.transfer import load_pretrained


def _exit_2(args, *, match):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: ") and match in lines[-1], result.output
    return lines[-1]


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def _not_checkpoints(tmp_path: Path) -> dict[str, Path]:
    good = tmp_path / "good.pt"
    torch.save({"w": torch.ones(3)}, good)
    files = {
        "empty": b"",
        "text": b"epoch,loss\n1,2\n",
        "truncated": good.read_bytes()[:60],
        "random": bytes(range(256)) * 3,
        "plain pickle": pickle.dumps([1, 2, 3], protocol=4),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name.replace(' ', '_')}.pt"
        paths[name].write_bytes(data)
    return paths


def test_read_checkpoint_turns_every_non_checkpoint_into_bad_input(tmp_path):
    for name, path in _not_checkpoints(tmp_path).items():
        with pytest.raises(BadInput, match="is not a") as err:
            read_checkpoint(path, what="--pretrained file")
        assert "\n" not in str(err.value), name


def test_read_checkpoint_says_one_thing_of_every_non_checkpoint(tmp_path):
    """A PNG (refused by torch's unpickler) and a text file (by its zip reader) got two
    wordings; each is now the same sentence, naming what the file looks like."""
    image = tmp_path / "digit.png"
    Image.new("L", (8, 8)).save(image)
    files = {**_not_checkpoints(tmp_path), "image": image}
    kinds = {"image": "a PNG image", "text": "a text file", "empty": "an empty file"}
    for name, path in files.items():
        with pytest.raises(BadInput) as err:
            read_checkpoint(path, what="--pretrained file")
        said = str(err.value)
        assert said.startswith(f"--pretrained file {path} is not a readable PyTorch checkpoint (")
        assert said.endswith("); expected a file written by torch.save"), name
        if name in kinds:
            assert f"({kinds[name]})" in said


def test_read_checkpoint_refuses_an_unsafe_pickle_in_one_line(tmp_path):
    evil = tmp_path / "evil.pt"
    torch.save({"x": _Evil()}, evil)
    with pytest.raises(BadInput, match="refused as unsafe") as err:
        read_checkpoint(evil)
    assert "\n" not in str(err.value)


def test_load_pretrained_non_checkpoint_is_bad_input(tmp_path):
    for path in _not_checkpoints(tmp_path).values():
        with pytest.raises(BadInput):
            load_pretrained(str(path))


def test_a_folder_given_as_a_checkpoint_is_called_a_folder_not_missing(tmp_path):
    run = tmp_path / "run"  # a train run's folder, given where its model.pt was meant
    run.mkdir()
    torch.save({"w": torch.ones(3)}, run / "model.pt")
    with pytest.raises(BadInput, match="is a folder; expected a checkpoint file"):
        read_checkpoint(run, what="--pretrained file")
    from nooverfit.transfer.pretrain import Source

    with pytest.raises(BadInput, match="is a folder"):
        Source.load(run)
    line = _exit_2(
        ["train", "--pretrained", run, "--epochs", "1", "--out", tmp_path / "o"],
        match="is a folder",
    )
    assert "does not exist" not in line


@pytest.mark.parametrize("option", ["train", "study"])
def test_cli_pretrained_or_source_that_is_not_a_checkpoint_is_exit_2(tmp_path, option):
    paths = _not_checkpoints(tmp_path)
    evil = tmp_path / "evil.pt"
    torch.save({"x": _Evil()}, evil)
    flag = "--pretrained" if option == "train" else "--source"
    for path in [*paths.values(), evil]:
        _exit_2([option, flag, path, "--epochs", "1", "--out", tmp_path / "o"], match=str(path))
    assert not (tmp_path / "o" / "model.pt").exists()


def _image_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for i in range(4):
            pixels = (rng.random((8, 8)) * 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


@pytest.mark.parametrize(
    "damage",
    [b"not an image at all", b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20],
)
def test_folder_with_a_corrupt_image_is_bad_input(tmp_path, damage):
    root = _image_folder(tmp_path / "images")
    (root / "a" / "9.png").write_bytes(damage)
    with pytest.raises(BadInput, match=r"9\.png is not a readable image"):
        load_dataset(f"folder:{root}")


def test_folder_with_a_truncated_image_is_bad_input(tmp_path):
    root = _image_folder(tmp_path / "images")
    whole = (root / "a" / "0.png").read_bytes()
    (root / "a" / "0.png").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BadInput, match=r"0\.png is not a readable image"):
        load_dataset(f"folder:{root}")


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("a,label\n1,x\n".encode("utf-16"), "is not UTF-8 text"),
        ("a,label\n\xe9,x\n".encode("latin-1"), "is not UTF-8 text"),
        (b"a,label\n1e39,x\n2,y\n", "within float32's range"),
        (b"a,label\nnan,x\ninf,y\n", "within float32's range"),
        (b"a,label\n-inf,x\n2,y\n", "within float32's range"),
        (b"a,label\n1,x\n2\n", "has 1 field, expected 2"),
        # rows numbered as the file numbers them, blank lines counted
        (b"a,label\n1,x\n\n\n2\n", "row 5 has 1 field,"),
        (b"a,label\n1,x\n\ninf,y\n", r"holds 'inf' \(row 4\)"),
        (b"a,label\n1,x\n\n2, \n3,y\n", r"empty 'label' \(row 4\)"),
        (b'a,label\n"1,x\n', "has 1 field,"),
        (
            b"a,label\n1,x\n2, \n3,y\n",
            r"1 row of .* has an empty 'label' \(row 3\); expected a label",
        ),
    ],
)
def test_csv_damage_is_bad_input(tmp_path, content, match):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load_dataset(f"csv:{path}", target="label")


def test_csv_with_a_byte_order_mark_reads():
    path = Path(__file__).parent / "_bom.csv"
    try:
        path.write_bytes(
            "\ufeffa,label\n".encode() + b"".join(b"%d,%d\n" % (i, i % 2) for i in range(9))
        )
        assert load_dataset(f"csv:{path}", target="label").x.shape == (9, 1)
    finally:
        path.unlink(missing_ok=True)


def test_storage_url_typo_hides_the_password(tmp_path):
    message = _exit_2(
        ["tune", "--storage", "postgressql://tune:s3cret@db:5432/tune", "--out", tmp_path],
        match="not understood",
    )
    assert "s3cret" not in message and "tune:***@db" in message


def test_unreachable_postgresql_is_one_line_without_password(tmp_path):
    pytest.importorskip("psycopg")
    url = "postgresql://tune:s3cret@127.0.0.1:1/tune"  # port 1: connection refused
    result = CliRunner().invoke(app, ["tune", "--storage", url, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "s3cret" not in result.output
    assert "cannot open --storage postgresql://tune:***@127.0.0.1:1/tune" in result.output


def test_remove_stale_tmp_keeps_other_files(tmp_path):
    (tmp_path / ".report.html.x1.tmp").write_text("torn")
    (tmp_path / "report.html").write_text("whole")
    (tmp_path / "notes.tmp").write_text("the user's")
    assert remove_stale_tmp(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.tmp", "report.html"]


def test_write_study_removes_stale_tmp_files_of_a_killed_write(tiny_study, tmp_path):
    import shutil

    from nooverfit.study_files import write_study

    result, out = tiny_study
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for folder in ("plots", "histories", "."):
        (copy / folder / ".baseline_curves.png.abc123.tmp").write_bytes(b"\x89PNG torn")
    write_study(result, copy)
    assert not list(copy.rglob(".*.tmp"))


def _children(pid: int) -> list[int]:
    kids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            kids.append(int(status.parent.name))
    return kids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_tune_workers_stop_when_the_parent_is_killed(tmp_path):
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}
    args = ["tune", "--workers", "2", "--trials", "500", "--epochs", "300", "--out", tmp_path]
    parent = subprocess.Popen(
        [sys.executable, "-m", "nooverfit", *map(str, args)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    workers: list[int] = []
    while time.time() < deadline:
        workers = [p for p in _children(parent.pid) if "spawn_main" in _cmdline(p)]
        if len(workers) == 2 and (tmp_path / "tune.db").exists():
            break
        time.sleep(0.5)
    assert len(workers) == 2
    time.sleep(5)  # let them import torch and start their trials
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 60
    while time.time() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.5)
    alive = [p for p in workers if _alive(p)]
    for p in alive:
        os.kill(p, signal.SIGKILL)
    assert not alive, "workers kept running after their parent was killed"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8, "an executable (ELF)"),
        (b"PK\x03\x04\x14\x00\x00\x00" + b"\x00,\n" * 400, "a zip archive"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    ],
)
def test_diagnose_binary_file_says_what_it_is_in_one_line(tmp_path, content, kind):
    path = tmp_path / "training.csv"
    path.write_bytes(content)
    result = CliRunner().invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f"is {kind}, not text" in lines[0], result.output


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_csv_with_another_separator_reads(tmp_path, sep):
    path = tmp_path / "d.csv"
    rows = "".join(f"{i}{sep}{i * 2}{sep}{'xy'[i % 2]}\n" for i in range(9))
    path.write_text(f"a{sep}b{sep}label\n{rows}")
    data = load_dataset(f"csv:{path}", target="label")
    assert data.x.shape == (9, 2) and data.x[3].tolist() == [3.0, 6.0]


def test_tune_on_a_damaged_sqlite_database_is_one_line_exit_2(tmp_path):
    (tmp_path / "tune.db").write_bytes(b"\x7fELF" + bytes(range(256)) * 20)
    result = CliRunner().invoke(app, ["tune", "--trials", "1", "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "file is not a database" in result.output.strip().splitlines()[-1]


def test_tune_study_resumed_with_another_split_is_refused(tmp_path):
    from nooverfit.tune import TuneSpec, default_storage, open_study

    spec = TuneSpec(storage=default_storage(tmp_path), trials=1)
    open_study(spec)
    open_study(spec)  # the same settings resume
    with pytest.raises(BadInput, match=r"val: 0\.2 there, 0\.3 now"):
        open_study(TuneSpec(storage=spec.storage, trials=1, val=0.3))


def test_atomic_save_writes_the_same_bytes_for_the_same_weights(tmp_path):
    import torch

    from nooverfit._io import atomic_save

    state = {"w": torch.arange(6.0).view(2, 3), "b": torch.zeros(2)}
    first = atomic_save(tmp_path / "a.pt", state).read_bytes()
    assert atomic_save(tmp_path / "a.pt", state).read_bytes() == first  # a best_model's SHA-256
    again = torch.load(tmp_path / "a.pt", weights_only=True)
    assert again.keys() == state.keys() and all(torch.equal(again[k], state[k]) for k in state)


def test_atomic_writes_get_the_permissions_open_would_give(tmp_path):
    from nooverfit._io import atomic_write_text

    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.txt"
        atomic_write_text(fresh, "a")
        plain = tmp_path / "plain.txt"
        plain.write_text("a")
        assert fresh.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.txt"
        kept.write_text("old")
        kept.chmod(0o640)  # a replaced file keeps the mode its owner gave it
        atomic_write_text(kept, "new")
        assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == "new"
    finally:
        os.umask(old)


@pytest.mark.parametrize(
    ("command", "says"), [("train", "nothing was written"), ("study", "resumes")]
)
def test_ctrl_c_says_what_was_kept(command, says, capsys):
    """Ctrl-C in ``train`` keeps nothing (its files are written at the end), so it must not
    claim that results were saved; a study keeps its finished runs."""
    import typer

    from nooverfit.cli._app import guard

    def interrupted() -> None:
        raise KeyboardInterrupt

    interrupted.__name__ = command
    with pytest.raises(typer.Exit) as stop:
        guard(interrupted)()
    assert stop.value.exit_code == 130
    said = capsys.readouterr().err
    assert says in said and "results are saved" not in said


def test_ctrl_c_in_a_study_counts_the_runs_its_store_holds(tmp_path):
    """Review i40 #8: a study interrupted inside its first batch kept no run, and said it had."""
    from nooverfit.cli._app import interrupted

    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "identity.json").write_text("{}")
    said = interrupted("study", {"out": tmp_path})
    assert "no run was kept" in said and "resumes" not in said
    for key in ("a", "b"):
        (runs / f"{key}.json").write_text("{}")
    said = interrupted("study", {"out": tmp_path})
    assert said.startswith("interrupted; the 2 runs finished so far are kept in")
    assert "resumes" in said
    # review i114 #4: the fused engine (auto's choice) trains a batch cut short again whole
    assert said.endswith(
        "(on the fused engine the batch cut short trains again whole, to the same numbers)"
    )
    sequential = interrupted("study", {"out": tmp_path, "engine": "sequential"})
    assert sequential.endswith("the same command resumes from them")
    (runs / "b.json").unlink()  # one run: in the singular
    said = interrupted("study", {"out": tmp_path})
    assert said.startswith("interrupted; the 1 run finished so far is kept in")
    assert "not all written" not in said
    # stopped while the study's files were written: said too, and that the command finishes
    from nooverfit.studies.results_file import WRITING

    (tmp_path / WRITING).write_text("")
    said = interrupted("study", {"out": tmp_path, "engine": "sequential"})
    assert said.endswith(
        f"the same command resumes from them; {tmp_path}'s files are not all written (its "
        "report.html says so at the top), which it finishes"
    )
