import os

import pytest
import torch
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.errors import BadInput, redact
from nooverfit.studies import study
from nooverfit.validate import MAX_SEEDS, check_options


def _one_line_exit_2(args, *, match):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert match in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["study", "--epochs", "0"], "--epochs must be an integer in [1, 100000], got 0"),
        (["study", "--width", "0"], "--width must be an integer in [1, 65536], got 0"),
        (["study", "--seeds", "100000"], f"--seeds must be an integer in [1, {MAX_SEEDS}]"),
        (["study", "--seeds", "0"], "--seeds must be"),
        (["study", "--depth", "0"], "--depth must be"),
        (["study", "--train-per-class", "-1"], "--train-per-class must be"),
        (["study", "--test", "1.5"], "--test must be a fraction in (0, 1) or a whole count"),
        (["study", "--val", "0"], "--val must be a fraction"),
        (["study", "--seeds", "2", "--epochs", "1000000"], "--epochs must be"),
        (["train", "--epochs", "0"], "--epochs must be"),
        (["train", "--lr", "0"], "--lr must be a number in (0, 1000000000]"),
        (["train", "--lr", "nan"], "--lr must be"),
        (["train", "--batch-size", "0"], "--batch-size must be"),
        (["train", "--dropout", "1"], "--dropout must be"),
        (["train", "--l2", "-1"], "--l2 must be"),
        (["train", "--augment", "2"], "--augment must be"),
        (["train", "--seed", "-1"], "--seed must be"),
        (["pretrain", "--epochs", "0"], "--epochs must be"),
        (["pretrain", "--temperature", "0"], "--temperature must be"),
        (["tune", "--workers", "0"], "--workers must be"),
        (["tune", "--trials", "0"], "--trials must be"),
        (["tune", "--timeout", "-5"], "--timeout must be"),
        (["tune", "--heartbeat", "0"], "--heartbeat must be"),
        # before the first trial: no storage written, no trial's traceback from Optuna
        (["tune", "--train-per-class", "1000"], "class '0' has only 106 samples"),
        (["audit", "digits", "--quantile", "0"], "--quantile must be"),
        # the library refuses 1 too: the option said (0, 1], the refusal later (0, 1)
        (["audit", "digits", "--quantile", "1"], "--quantile must be a number in (0, 1), got"),
        (["study", "--device", "foo"], "device 'foo' is not a torch device"),
        (["train", "--device", "cuda:99"], "device 'cuda:99' asked for"),
    ],
)
def test_cli_bad_option_is_one_line_exit_2_before_any_work(tmp_path, args, match):
    out = tmp_path / "out"
    command = args[0]
    extra = (
        [] if command == "audit" else ["--out", out / ("s.pt" if command == "pretrain" else "")]
    )
    _one_line_exit_2([*args, *extra], match=match)
    assert not out.exists()  # nothing written


@pytest.mark.parametrize("snr", ["nan", "-inf", "inf:3", "0:nan", "1e400", "5:2", "a:b"])
def test_cli_synthesize_bad_snr_is_one_line_exit_2(tmp_path, snr):
    _one_line_exit_2(
        [
            "synthesize",
            "--foreground",
            tmp_path,
            "--background",
            tmp_path,
            "--out",
            tmp_path / "o",
            f"--snr={snr}",
        ],
        match="--snr must be",
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cli_cuda_without_gpu_is_one_line_exit_2(tmp_path):
    _one_line_exit_2(
        ["train", "--device", "cuda", "--out", tmp_path / "o"], match="no CUDA GPU is available"
    )


@pytest.mark.parametrize("command", ["train", "study", "tune"])
def test_cli_out_that_is_a_file_is_refused_before_training(tmp_path, command):
    occupied = tmp_path / "taken"
    occupied.write_text("keep me")
    _one_line_exit_2([command, "--out", occupied], match="is an existing file; expected a folder")
    assert occupied.read_text() == "keep me"


def test_cli_out_below_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    _one_line_exit_2(
        ["train", "--out", tmp_path / "file" / "run"], match="is a file, not a folder"
    )


@pytest.mark.skipif(os.access("/sys", os.W_OK) is False, reason="needs /sys")
@pytest.mark.parametrize("command", ["train", "study", "tune"])
def test_cli_unwritable_out_is_refused_before_training(command):
    # /sys refuses new files even to root, unlike a chmod-ed folder.
    _one_line_exit_2([command, "--out", "/sys/nooverfit-out"], match="cannot be written")


def test_cli_pretrain_out_that_is_a_folder_is_refused(tmp_path):
    _one_line_exit_2(["pretrain", "--out", tmp_path], match="is a folder; expected a file path")


def test_cli_diagnose_plot_into_a_folder_is_refused(tmp_path):
    log = tmp_path / "h.csv"
    log.write_text("epoch,loss,val_loss\n" + "".join(f"{i},{1 / (i + 1)},{1}\n" for i in range(9)))
    _one_line_exit_2(["diagnose", log, "--plot", tmp_path], match="--plot")
    _one_line_exit_2(["diagnose", log, "--plot", "/sys/x.png"], match="cannot be written")


def test_study_library_refuses_zero_epochs_and_width():
    # `epochs or the budget's` used to turn 0 into 400 epochs, and width 0 into 256.
    with pytest.raises(BadInput, match="epochs must be an integer"):
        study("digits", epochs=0)
    with pytest.raises(BadInput, match="width must be an integer"):
        study("digits", width=0)
    with pytest.raises(BadInput, match=r"seeds \(their number\) must be"):
        study("digits", seeds=list(range(MAX_SEEDS + 1)))


def test_check_options_passes_defaults_and_none():
    check_options(epochs=None, width=16, seeds=[0, 1], test=0.25, val=30, device="cpu")


def test_cli_single_class_data_is_refused(tmp_path):
    csv = tmp_path / "one.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},x\n" for i in range(30)))
    for args in (
        ["study", "--data", f"csv:{csv}", "--target", "label", "--out", tmp_path / "o"],
        ["audit", f"csv:{csv}", "--target", "label"],
        ["train", "--data", f"csv:{csv}", "--target", "label", "--out", tmp_path / "o"],
        ["study", "--classes", "0", "--out", tmp_path / "o"],
    ):
        _one_line_exit_2(args, match="expected at least 2 classes")
    assert not (tmp_path / "o").exists()


def test_cli_class_too_small_for_the_split_is_refused(tmp_path):
    csv = tmp_path / "small.csv"
    csv.write_text("a,label\n" + "".join(f"{i},{'x' if i else 'y'}\n" for i in range(30)))
    _one_line_exit_2(
        ["audit", f"csv:{csv}", "--target", "label"], match="has only 1 sample; a train/val"
    )


def test_redact_hides_passwords_even_in_malformed_urls():
    assert redact("postgresql://tune:s3cret@db:5432/tune") == "postgresql://tune:***@db:5432/tune"
    assert "s3cret" not in redact("error: --storage 'postgressql://u:s3cret@h/db' not understood")
    assert redact("sqlite:///x/tune.db") == "sqlite:///x/tune.db"
