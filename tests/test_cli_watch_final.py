"""``nooverfit watch``'s end: the final diagnosis says where it dates overfitting
otherwise than the live warning did, and which weights a STOP line meant."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nooverfit.cli import app
from nooverfit.history import best_index
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def _onset_and_best(val: list[float]) -> tuple[int, int]:
    """The issue's definitions, computed here: the best epoch is the lowest value (the
    first on ties); overfitting starts where the centered 5-point moving average (shrunk
    at the edges) is lowest, never before the best epoch."""
    best = val.index(min(val))
    average = [
        sum(val[max(0, i - 2) : i + 3]) / len(val[max(0, i - 2) : i + 3]) for i in range(len(val))
    ]
    return max(best, average.index(min(average))), best


def _one_line(text: str) -> str:
    return " ".join(text.split())  # rich wraps long lines at the terminal's width


@pytest.mark.parametrize(
    ("log", "final"),
    [(DATA / "flat_rmsprop_hf_90", "overfitting"), (DATA / "flat_rmsprop_hf", "good_fit")],
)
def test_watch_warning_says_it_is_provisional_and_the_end_says_what_changed(log, final):
    """A real Hugging Face Trainer run (RMSprop, a flat validation loss): at epoch 11 the
    epochs so far show overfitting with best epoch and onset 9; over all 90 epochs both are
    80, and over its first 30 the run is a good fit. watch warned "overfitting from epoch
    9", then its final diagnosis said 80 (or good fit) without a word on the change."""
    history = read_log(log)
    val = list(history.val_loss)
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.3", "--interval", "0.02"])
    assert result.exit_code == 0, result.output
    out = _one_line(result.output)
    rows = [line.split() for line in result.output.splitlines() if line.startswith("epoch ")]
    seen = next(int(r[1]) for r in rows if r[-1] == "overfitting")  # the first such verdict
    # (the Trainer numbers its epochs from 1: the row of epoch e is e - 1)
    onset, best = (history.epoch[i] for i in _onset_and_best(val[: history.epoch.index(seen) + 1]))
    assert (seen, onset, best) == (11, 9, 9)
    assert (
        f"WARNING: overfitting seen at epoch {seen}: on the epochs so far, best epoch {best} "
        f"and onset about epoch {onset} (provisional: later epochs can move both; the final "
        "diagnosis dates them)" in out
    )
    then = f"note: the warning at epoch {seen} (onset {onset}, best epoch {best}, from the "
    if final == "good_fit":
        assert "GOOD FIT" in out
        assert (
            f"{then}epochs then) was provisional: with all {len(val)} epochs the verdict is "
            "good_fit" in out
        )
        return
    onset, best = (history.epoch[i] for i in _onset_and_best(val))
    assert (onset, best) == (80, 80)
    assert f"best epoch {best} overfitting from epoch {onset}" in out
    assert (
        f"{then}epochs then) was provisional: with all {len(val)} epochs overfitting starts "
        f"at epoch {onset} and the best epoch is {best}" in out
    )


def test_watch_adds_no_note_when_the_final_diagnosis_dates_overfitting_as_the_warning():
    from nooverfit.cli.watch import _revised
    from nooverfit.diagnosis import Diagnosis, Gap, Verdict

    final = Diagnosis(
        Verdict.OVERFITTING,
        onset_epoch=8,
        best_epoch=6,
        generalization_loss=9.0,
        gap=Gap(),
        epochs=30,
    )
    assert _revised((12, 8, 6), final) == ()
    assert _revised(None, final) == ()
    assert _revised((12, 9, 6), final) == (
        "the warning at epoch 12 (onset 9, best epoch 6, from the epochs then) was "
        "provisional: with all 30 epochs overfitting starts at epoch 8 and the best epoch is 6",
    )


def test_watch_end_reconciles_the_stop_with_a_later_best_epoch(tmp_path):
    """gl:5 fires at epoch 3 (0.7 is 16.7 % above the best so far, 0.6 at epoch 2) and
    names epoch 2's weights; the run went on and reached 0.4 at epoch 5, the final best
    epoch. The end must say which weights are meant, not leave 2 and 5 side by side."""
    val = [1.0, 0.8, 0.6, 0.7, 0.5, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7]
    log = tmp_path / "training.csv"
    rows = "".join(f"{e},{0.9 / (e + 1):.4f},{v}\n" for e, v in enumerate(val))
    log.write_text("epoch,loss,val_loss\n" + rows)
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.3", "--interval", "0.02"])
    assert result.exit_code == 0, result.output
    out = _one_line(result.output)
    assert "STOP: gl:5 fired at epoch 3 (generalization_loss); keep the weights of epoch 2" in out
    assert best_index(val) == 5
    assert (
        "note: the STOP at epoch 3 named the weights of epoch 2 (val_loss 0.6, the lowest up "
        "to the stop); training went on, and over all 12 epochs the best epoch is 5 (val_loss "
        "0.4): keep epoch 5's weights if they were saved, else epoch 2's" in out
    )


def test_watch_end_adds_no_stop_note_when_the_stop_named_the_final_best_epoch(tmp_path):
    val = [1.0, 0.8, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9]  # gl:5 fires at 3; 2 stays the best
    log = tmp_path / "training.csv"
    rows = "".join(f"{e},{0.9 / (e + 1):.4f},{v}\n" for e, v in enumerate(val))
    log.write_text("epoch,loss,val_loss\n" + rows)
    result = runner.invoke(app, ["watch", str(log), "--idle", "0.3", "--interval", "0.02"])
    assert result.exit_code == 0, result.output
    assert "keep the weights of epoch 2" in result.output
    assert "the STOP at epoch" not in result.output
