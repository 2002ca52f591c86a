"""Hugging Face ``trainer_state.json`` logs as a real Trainer layout writes them."""

import json
from pathlib import Path

import pytest

from nooverfit.logs import read_log

TAIL = Path(__file__).parent / "data" / "eval_steps_tail_hf" / "trainer_state.json"


def test_read_log_losses_after_the_last_evaluation_are_no_point_of_their_own():
    """A real run written in the Trainer's layout (a 32-wide MLP on 1200 digits, AdamW at
    2e-4 decaying to 0, 3 epochs of 75 steps, ``eval_steps=30``, ``logging_steps=10``):
    7 evaluations, the last at step 210, then a loss logged at step 220. That loss was a
    point of its own, left out with "epoch 7 has no validation value so far", which
    reads as a run still in progress and names an epoch the run never had."""
    entries = json.loads(TAIL.read_text())["log_history"]
    evals = [e["eval_loss"] for e in entries if "eval_loss" in e]
    h = read_log(TAIL)
    assert len(h) == len(evals) == 7
    assert h.val_loss == pytest.approx(evals)
    # the last point's training losses: those logged after the evaluation before it
    last = [e["loss"] for e in entries if "loss" in e and 180 < e["step"] <= 210]
    assert h.loss[-1] == pytest.approx(sum(last) / len(last))
    assert not any("so far" in n for n in h.notes)
    assert any("left out: 1 training entry logged after the last evaluation" in n for n in h.notes)
