"""Hugging Face ``trainer_state.json`` logs as a real Trainer layout writes them."""

import json
import math
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


def _state(evals: list[float], *, on_start: float | None = None) -> dict:
    """A ``trainer_state.json`` as the Trainer writes it: 20 steps an epoch, a loss every
    10 steps (``epoch`` 0.5, 1.0, ...), an evaluation at each epoch's end (``epoch`` 1.0,
    2.0, ...), the closing summary; ``on_start``: an ``eval_on_start`` evaluation first."""
    entries: list[dict] = []
    if on_start is not None:
        entries.append({"epoch": 0, "eval_loss": on_start, "eval_runtime": 0.5, "step": 0})
    for k, val in enumerate(evals, start=1):
        for half in (1, 2):
            step = 20 * (k - 1) + 10 * half
            entries.append(
                {"epoch": step / 20, "grad_norm": 1.0, "learning_rate": 5e-5, "loss": 0.9 / k,
                 "step": step}
            )  # fmt: skip
        entries.append(
            {"epoch": float(k), "eval_loss": val, "eval_runtime": 0.5, "step": 20 * k}
        )  # fmt: skip
    entries.append({"epoch": float(len(evals)), "step": 20 * len(evals), "train_loss": 0.5,
                    "train_runtime": 9.0, "total_flos": 1e9})  # fmt: skip
    return {"epoch": float(len(evals)), "global_step": 20 * len(evals), "log_history": entries}


def test_read_log_numbers_trainer_epochs_as_the_trainer_logs_them(tmp_path):
    """The evaluation the Trainer logs at ``"epoch": 2.0`` is epoch 2 (it was read as 1,
    so "best epoch 1" sent the user to the evaluation before the best), and the text and
    the early-stopping remedy count the epochs as the log does."""
    from nooverfit._rules import diagnose

    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(_state([0.60, 0.50, 0.58, 0.70, 0.85, 1.0])))
    h = read_log(path)
    assert h.epoch == (1, 2, 3, 4, 5, 6)
    assert h.val_loss[h.epoch.index(2)] == 0.50
    d = diagnose(h)
    assert d.best_epoch == 2 and d.epochs == 6
    assert "at the last epoch (6)" in d.causes[0].reason


def test_read_log_trainer_eval_on_start_is_epoch_zero(tmp_path):
    """``eval_on_start=True`` logs an evaluation at ``"epoch": 0``, before any training:
    a point of its own, epoch 0, before epochs 1, 2, ..."""
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(_state([0.6, 0.5, 0.55], on_start=0.7)))
    h = read_log(path)
    assert h.epoch == (0, 1, 2, 3)
    assert h.val_loss == pytest.approx((0.7, 0.6, 0.5, 0.55))
    assert h.loss[1:] == pytest.approx((0.9, 0.45, 0.3)) and h.loss[0] != h.loss[0]


def test_read_log_a_trainer_log_history_exported_as_a_table_reads_as_its_state(tmp_path):
    """``pd.DataFrame(trainer.state.log_history).to_csv(...)`` (or the entries as JSON
    lines) was read as a generic table: its fractional epochs floored (the first epoch's
    last loss, logged at 1.0, averaged with the second's), a 7th epoch of training alone,
    and notes on grad_norm and learning_rate logged twice an epoch. It reads as the
    trainer_state.json it came from."""
    state = _state([0.60, 0.50, 0.58, 0.70, 0.85, 1.0])
    (tmp_path / "trainer_state.json").write_text(json.dumps(state))
    reference = read_log(tmp_path / "trainer_state.json")
    entries = state["log_history"]
    names = sorted({k for e in entries for k in e})
    cells = [",".join(str(e.get(k, "")) for k in names) for e in entries]
    # pandas's to_csv: an unnamed index column first
    table = ",".join(["", *names]) + "\n" + "".join(f"{i},{c}\n" for i, c in enumerate(cells))
    (tmp_path / "history.csv").write_text(table)
    (tmp_path / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries))
    for name in ("history.csv", "history.jsonl"):
        h = read_log(tmp_path / name)
        assert h.epoch == reference.epoch == (1, 2, 3, 4, 5, 6)
        assert h.loss == pytest.approx(reference.loss)
        assert h.val_loss == pytest.approx(reference.val_loss)
        assert any("Trainer's log_history, one entry a row" in n for n in h.notes)
        assert not any("times an epoch" in n for n in h.notes)


EVAL_STEPS = Path(__file__).parent / "data"


def _evaluations(name: str) -> list[dict]:
    entries = json.loads((EVAL_STEPS / name / "trainer_state.json").read_text())["log_history"]
    return [e for e in entries if "eval_loss" in e]


def test_diagnose_names_evaluations_of_a_run_evaluated_ten_times_an_epoch_in_its_epochs():
    """A real run written in the Trainer's layout (``bench/make_oscillating_hf.py --seed 1
    --lr 3e-4 --epochs 3 --log-every 5 --eval-steps 17 --hidden 32 --rows 8000``; a
    32-wide MLP, RMSprop, 175 steps an epoch; transformers is not installed here, so the
    file is written exactly as ``TrainerState.save_to_json`` writes it): 30 evaluations
    over 3 epochs, the loss still falling. Its rows numbered the evaluations, which the
    advice counted as epochs: "after 30 epochs", ``--epochs 60`` for a 3-epoch run."""
    from nooverfit._rules import diagnose

    evals = _evaluations("eval_steps_still_falling_hf")
    h = read_log(EVAL_STEPS / "eval_steps_still_falling_hf")
    assert h.evaluated_at == pytest.approx([e["epoch"] for e in evals])
    d = diagnose(h)
    assert d.verdict.value == "still_improving"
    trained = math.ceil(evals[-1]["epoch"])  # 2.91: the third epoch, started
    assert d.epochs == trained == 3
    assert f"after 3 epochs ({len(evals)} evaluations)" in d.explanation
    (longer,) = [r for r in d.remedies if r.kind == "train_longer"]
    assert longer.setting == f"--epochs {max(2 * trained, trained + 20)}"
    assert d.epoch_name(d.best_epoch) == f"evaluation 29 (epoch {round(evals[29]['epoch'], 2)})"


def test_diagnose_names_the_best_and_onset_of_an_overfit_evaluated_often_in_its_epochs():
    """A real overfit written in the Trainer's layout (``bench/make_oscillating_hf.py
    --seed 2 --rows 1500 --hidden 256 --lr 3e-3 --epochs 6 --eval-steps 3 --log-every
    3``; 33 steps an epoch, 11 evaluations in each): best at its 24th evaluation, 2.18
    epochs in. The texts said "lowest at epoch 23" and advised ``--epochs 24``; the
    epochs that reach that evaluation are 3."""
    from nooverfit._rules import diagnose

    evals = _evaluations("eval_steps_overfit_hf")
    d = diagnose(read_log(EVAL_STEPS / "eval_steps_overfit_hf"))
    best = min(range(len(evals)), key=lambda i: evals[i]["eval_loss"])
    assert d.verdict.value == "overfitting" and d.best_epoch == best
    at = f"evaluation {best} (epoch {round(evals[best]['epoch'], 2)})"
    assert f"Validation was best at {at}" in d.explanation
    assert "epoch 23" not in d.explanation.replace(at, "")
    (stop,) = [r for r in d.remedies if r.kind == "early_stopping"]
    assert stop.setting.startswith(f"--epochs {math.ceil(evals[best]['epoch'])} or")
    assert d.epochs == 6
    again = type(d).from_dict(d.to_dict())
    assert again.epoch_name(best) == at


def test_diagnose_an_overfit_best_before_training_is_not_told_to_train_no_epoch(tmp_path):
    """s29 review: a fine-tune evaluated four times an epoch with ``eval_on_start``, best
    at the evaluation before any step (the pretrained weights) and worse after: the
    early-stopping remedy said ``--epochs 0``. No epoch reaches that best: patience only."""
    from nooverfit._rules import diagnose

    entries: list[dict] = [{"epoch": 0.0, "eval_loss": 0.40, "step": 0}]
    for k in range(1, 13):  # 3 epochs of 20 steps, an evaluation every 5 steps
        step = 5 * k
        entries.append({"epoch": step / 20, "loss": 0.5 / k, "step": step})
        entries.append({"epoch": step / 20, "eval_loss": 0.45 + 0.05 * k, "step": step})
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"epoch": 3.0, "global_step": 60, "log_history": entries}))
    d = diagnose(read_log(path))
    assert d.verdict.value == "overfitting" and d.best_epoch == 0
    (stop,) = [r for r in d.remedies if r.kind == "early_stopping"]
    assert "--epochs" not in stop.setting and "patience" in stop.setting
