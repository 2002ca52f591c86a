"""One rule for a run that goes back, in CSV logs and TensorBoard folders alike
(``logs._resumed.superseded``): back to where the log began, a restart replaces all
before it; back to a later position, a resume replaces the earlier run from there on."""

import math

from nooverfit.logs._resumed import join_runs, superseded
from nooverfit.logs.tensorboard import _join


def test_a_restart_replaces_every_earlier_position():
    assert superseded(0, [0, 1, 2, 3], 0) == (True, [0, 1, 2, 3])
    # a log counting from 1, restarted at 1; a row without an epoch goes with its run
    assert superseded(1, [1, math.nan, 2], 1) == (True, [0, 1, 2])


def test_a_resume_replaces_the_positions_from_its_start_on():
    # resumed at 2 over 0, 1, 2, 3: positions 2 and 3 (indices 2, 3); NaN is kept
    assert superseded(2, [0, 1, 2, 3, math.nan], 0) == (False, [2, 3])
    # validated every 2 epochs, resumed at 3: only 4 (index 2) lies from 3 on
    assert superseded(3, [0, 2, 4], 0) == (False, [2])


def test_csv_rows_and_tensorboard_files_resumed_alike_keep_the_same_epochs():
    """Epochs (steps) 0-9, then a run resumed at 5 that ends at 7: 0-4 of the first run,
    5-7 of the resumed one, in both readers."""
    first, resumed = range(10), range(5, 8)
    rows = [{"epoch": float(e)} for e in [*first, *resumed]]
    kept, notes = join_runs(rows)
    assert [rows[i]["epoch"] for i in kept] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [i >= 10 for i in kept] == [False] * 5 + [True] * 3
    assert "a run resumed at epoch 5; epochs 5-9 of the earlier run" in notes[0]
    files = [
        ("a", {s: {"loss": 1.0} for s in first}),
        ("b", {s: {"loss": 2.0} for s in resumed}),
    ]
    steps, said = _join(files)
    assert {s: v["loss"] for s, v in steps.items()} == {
        **dict.fromkeys(range(5), 1.0),
        5: 2.0,
        6: 2.0,
        7: 2.0,
    }
    assert "a run resumed at step 5; the earlier run's steps from 5 on replaced" in said[0]
