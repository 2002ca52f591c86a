import csv
import io
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nooverfit import diagnose
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import canonical, detect_format, read_log

LOGS = Path(__file__).parent / "fixtures" / "logs"


def keras_rows():
    with open(LOGS / "keras_overfit.csv") as f:
        return list(csv.DictReader(f))


def test_read_log_keras_matches_file():
    h = read_log(LOGS / "keras_overfit.csv")
    rows = keras_rows()
    assert detect_format(LOGS / "keras_overfit.csv") == "keras"
    assert h.epoch == tuple(range(20))
    assert h.loss == tuple(float(r["loss"]) for r in rows)
    assert h.val_accuracy == tuple(float(r["val_accuracy"]) for r in rows)


def test_read_log_keras_semicolon_and_legacy_names():
    h = read_log(LOGS / "keras_semicolon.csv")
    ref = read_log(LOGS / "keras_overfit.csv")
    assert h.val_loss == ref.val_loss
    assert h.accuracy == ref.accuracy  # "acc" read as accuracy
    assert h.extras["lr"] == (0.001,) * 20


def test_read_log_lightning_takes_epoch_level_values():
    h = read_log(LOGS / "lightning_metrics.csv")
    ref = read_log(LOGS / "keras_overfit.csv")
    assert detect_format(LOGS / "lightning_metrics.csv") == "lightning"
    assert h.epoch == ref.epoch
    assert h.loss == ref.loss  # train_loss_epoch, not the 1.1x train_loss_step
    assert h.val_loss == ref.val_loss
    assert h.val_accuracy == ref.val_accuracy  # val_acc


def test_read_log_lightning_run_folder(tmp_path):
    run = tmp_path / "lightning_logs" / "version_0"
    run.mkdir(parents=True)
    (run / "metrics.csv").write_text((LOGS / "lightning_metrics.csv").read_text())
    assert read_log(tmp_path).val_loss == read_log(LOGS / "lightning_metrics.csv").val_loss


def test_read_log_truncated_csv_reads_complete_rows():
    h = read_log(LOGS / "keras_truncated.csv")
    assert len(h) == 8
    assert h.val_loss == read_log(LOGS / "keras_overfit.csv").val_loss[:8]


def test_read_log_jsonl_skips_partial_line():
    h = read_log(LOGS / "custom.jsonl")
    assert detect_format(LOGS / "custom.jsonl") == "jsonl"
    assert len(h) == 20
    assert h.val_accuracy[0] == pytest.approx(0.45)
    assert math.isnan(h.accuracy[0])


def test_read_log_generic_needs_mapping_with_one_line_error():
    with pytest.raises(ValueError) as err:
        read_log(LOGS / "generic.csv")
    message = str(err.value)
    assert "\n" not in message
    assert "iteration, my_train_mse, my_valid_mse" in message
    assert "--train-col" in message
    h = read_log(
        LOGS / "generic.csv", columns={"loss": "my_train_mse", "val_loss": "my_valid_mse"}
    )
    assert h.loss == read_log(LOGS / "keras_overfit.csv").loss


def test_read_log_csv_notes_text_cells_read_as_missing(tmp_path):
    text = (LOGS / "keras_overfit.csv").read_text().splitlines()
    header = text[0].split(",")
    col = header.index("val_loss")
    for line in (4, 9):  # file lines (the header is line 1)
        fields = text[line - 1].split(",")
        fields[col] = "abc" if line == 4 else "oops"
        text[line - 1] = ",".join(fields)
    fields = text[5].split(",")
    fields[header.index("loss")] = "NA"  # a missing-value marker: read as missing, no note
    text[5] = ",".join(fields)
    path = tmp_path / "log.csv"
    path.write_text("\n".join(text) + "\n")
    h = read_log(path)
    ref = read_log(LOGS / "keras_overfit.csv")
    assert math.isnan(h.val_loss[2]) and math.isnan(h.val_loss[7]) and math.isnan(h.loss[4])
    assert h.val_loss[:2] == ref.val_loss[:2] and h.val_loss[8:] == ref.val_loss[8:]
    assert [n for n in h.notes if "not a number" in n] == [
        "2 cells of val_loss are not a number (lines 4, 9: 'abc'); read as missing"
    ]
    assert not read_log(LOGS / "keras_overfit.csv").notes


def test_read_log_csv_notes_only_text_cells_of_the_run_diagnosed(tmp_path):
    # a run restarted into the same log: only the last run is read, so a text cell of
    # the first run is not in the note
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n0,1.0,abc\n1,0.9,1.0\n0,1.0,1.1\n1,0.8,x\n2,0.7,0.9\n")
    notes = read_log(path).notes
    assert [n for n in notes if "not a number" in n] == [
        "1 cell of val_loss is not a number (line 5: 'x'); read as missing"
    ]


def test_read_log_mapping_to_missing_column_lists_columns():
    with pytest.raises(ValueError, match="columns found: iteration"):
        read_log(LOGS / "generic.csv", columns={"loss": "nope"})


def test_read_log_nooverfit_csv_and_json_roundtrip(tmp_path):
    h = History.from_columns(
        {"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.8], "lr": [0.1] * 3},
        stop_reason="patience",
        kept_epoch=1,
    )
    assert read_log(h.save(tmp_path / "h.csv")).val_loss == h.val_loss
    back = read_log(h.save(tmp_path / "h.json"))
    assert back == h


def test_read_log_keras_history_json(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(
        json.dumps({"loss": [1.0, 0.5], "val_loss": [1.2, 0.9], "val_acc": [0.5, 0.6]})
    )
    h = read_log(path)
    assert h.val_loss == (1.2, 0.9) and h.val_accuracy == (0.5, 0.6)


def test_read_log_bad_input():
    with pytest.raises(FileNotFoundError, match="log not found"):
        read_log(LOGS / "missing.csv")
    with pytest.raises(ValueError, match="format must be one of"):
        read_log(LOGS / "keras_overfit.csv", format="xml")


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("loss", "loss"),
        ("val_acc", "val_accuracy"),
        ("train_loss_epoch", "loss"),
        ("train/epoch_loss", "loss"),
        ("validation/epoch_accuracy", "val_accuracy"),
        ("loss/val", "val_loss"),
        ("eval_loss", "val_loss"),
        ("val_f1", "val_f1"),
    ],
)
def test_canonical_names(name, target):
    assert canonical(name).target == target


def test_read_log_tensorboard_keras_layout(tmp_path):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    ref = read_log(LOGS / "keras_overfit.csv")
    for sub, loss, acc in (
        ("train", ref.loss, ref.accuracy),
        ("validation", ref.val_loss, ref.val_accuracy),
    ):
        writer = SummaryWriter(str(tmp_path / "run" / sub))
        for epoch, (lv, av) in enumerate(zip(loss, acc, strict=True)):
            writer.add_scalar("epoch_loss", lv, epoch)
            writer.add_scalar("epoch_accuracy", av, epoch)
        writer.close()
    h = read_log(tmp_path / "run")
    assert detect_format(tmp_path / "run") == "tensorboard"
    assert h.epoch == ref.epoch
    assert h.val_loss == pytest.approx(ref.val_loss, rel=1e-6)  # stored as float32
    assert h.accuracy == pytest.approx(ref.accuracy, rel=1e-6)


def test_read_log_tensorboard_one_validation_epoch_is_said_in_the_singular(tmp_path):
    """Validation at epoch 0 only, training at global steps 0 to 4: the steps are spread
    over "1 epoch", not "1 epochs"."""
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "run"))
    for step in range(5):
        writer.add_scalar("train/loss", 1.0 - 0.1 * step, step)
    writer.add_scalar("val/loss", 0.9, 0)
    writer.close()
    h = read_log(tmp_path / "run")
    assert h.notes == (
        "validation is logged by epoch (steps 0 to 0) and training by global step (to 4): "
        "the training steps are spread over 1 epoch of equal length",
    )


@settings(max_examples=30, deadline=None)
@given(st.permutations(["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]))
def test_read_log_any_column_order_reads_the_same(tmp_path_factory, order):
    rows = keras_rows()
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=order, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("perm") / "log.csv"
    path.write_text(buf.getvalue())
    assert read_log(path) == read_log(LOGS / "keras_overfit.csv")


def test_read_log_tensorboard_tensor_scalars_and_truncation(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.util import tensor_util

    # TF2 Keras stores epoch scalars as tensors, one folder per side
    for sub, values in (("train", [1.0, 0.5, 0.25, 0.2]), ("validation", [1.1, 0.8, 0.9, 1.0])):
        writer = EventFileWriter(str(tmp_path / sub))
        for step, v in enumerate(values):
            tensor = tensor_util.make_tensor_proto(v)
            summary = summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag="epoch_loss", tensor=tensor)]
            )
            writer.add_event(event_pb2.Event(step=step, summary=summary))
        writer.close()
    h = read_log(tmp_path)
    assert h.loss == pytest.approx((1.0, 0.5, 0.25, 0.2))
    assert h.val_loss == pytest.approx((1.1, 0.8, 0.9, 1.0))
    file = next((tmp_path / "validation").iterdir())
    file.write_bytes(file.read_bytes()[:-7])  # a record cut short, as while writing
    assert read_log(tmp_path).val_loss == pytest.approx((1.1, 0.8, 0.9, math.nan), nan_ok=True)


def _trainer_state(tmp_path, callbacks):
    history, step = [], 0
    val = [1.0, 0.7, 0.5, 0.45, 0.44, 0.46, 0.49, 0.53]
    for epoch, loss in enumerate(val, start=1):
        for _ in range(2):
            step += 1
            history.append({"epoch": step / 2, "loss": 1.2 / step, "step": step})
        history.append({"epoch": float(epoch), "eval_loss": loss, "step": step})
    state = {"log_history": history, "stateful_callbacks": callbacks}
    (tmp_path / "trainer_state.json").write_text(json.dumps(state))
    return read_log(tmp_path / "trainer_state.json")


def test_trainer_state_early_stopping_out_of_patience_is_a_stop_reason(tmp_path):
    """transformers saves EarlyStoppingCallback's state next to TrainerControl's; a
    counter that reached the patience means the Trainer stopped there and (as the
    callback requires load_best_model_at_end) kept the best checkpoint's weights."""
    stopped = {
        "TrainerControl": {"args": {"should_training_stop": True}, "attributes": {}},
        "EarlyStoppingCallback": {
            "args": {"early_stopping_patience": 3, "early_stopping_threshold": 0.0},
            "attributes": {"early_stopping_patience_counter": 3},
        },
    }
    h = _trainer_state(tmp_path, stopped)
    assert h.stop_reason == "patience"
    assert diagnose(h).verdict is not Verdict.OVERFITTING
    waiting = json.loads(json.dumps(stopped))
    waiting["EarlyStoppingCallback"]["attributes"]["early_stopping_patience_counter"] = 1
    h = _trainer_state(tmp_path, waiting)
    assert h.stop_reason == ""
    assert diagnose(h).verdict is Verdict.OVERFITTING


def test_read_log_refuses_a_negative_epoch_naming_the_file(tmp_path):
    """History.from_columns refuses an epoch below 0; the reader says which file held it."""
    from nooverfit.errors import BadInput

    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n-1,1.0,1.1\n0,0.8,0.9\n1,0.6,0.8\n")
    said = f"{path}: epoch must hold whole numbers >= 0, got -1"
    with pytest.raises(BadInput, match=f"^{re.escape(said)}$"):
        read_log(path)


def test_read_log_refuses_nooverfit_json_with_a_repeated_epoch_naming_the_file(tmp_path):
    from nooverfit.errors import BadInput

    data = History.from_columns({"loss": [1.0, 0.8, 0.6], "val_loss": [1.1, 0.9, 0.8]}).to_dict()
    path = tmp_path / "history.json"
    path.write_text(json.dumps({**data, "epoch": [0, 1, 1]}))
    with pytest.raises(
        BadInput, match=f"^{re.escape(f'{path}: epoch must increase, got 1 after 1;')}"
    ):
        read_log(path)


def test_read_log_folds_repeated_and_fractional_epochs_of_a_csv_into_clean_ones(tmp_path):
    """Rows of one epoch (several a step) and fractional epochs (Hugging Face's 0.5) are
    grouped by the reader: the epochs History.from_columns gets are whole and increasing."""
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,val_loss\n0,1.0,\n0.5,0.9,1.1\n1,0.8,\n1,0.7,0.9\n2,0.6,0.8\n")
    assert read_log(path).epoch == (0, 1, 2)
