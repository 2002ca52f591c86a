"""``History.framework``: which framework wrote a log, read from its format and what lies
beside it (``nooverfit.logs._writer``)."""

import json

import pytest

from nooverfit.history import History
from nooverfit.logs import read_log

LOSS = [1.0, 0.6, 0.4, 0.35, 0.3]
VAL = [1.1, 0.8, 0.7, 0.75, 0.8]


def _history() -> History:
    return History.from_columns({"loss": LOSS, "val_loss": VAL})


def test_framework_of_csv_tables(tmp_path):
    keras = tmp_path / "keras.csv"  # CSVLogger's header: epoch, then the names sorted
    keras.write_text(_history().to_csv())
    assert read_log(keras).framework == "keras"
    loop = tmp_path / "loop.csv"  # a loop's own names, unsorted: not known
    loop.write_text("epoch,train_loss,val_loss\n" + "".join(f"{e},{t},{v}\n" for e, (t, v) in
                    enumerate(zip(LOSS, VAL, strict=True))))  # fmt: skip
    assert read_log(loop).framework == ""
    named = tmp_path / "training.log"  # CSVLogger's usual file name
    named.write_text(loop.read_text())
    assert read_log(named).framework == "keras"
    assert read_log(loop, format="nooverfit").framework == "nooverfit"


def test_framework_of_nooverfit_histories(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    _history().save(run / "history.csv")
    assert read_log(run / "history.csv").framework == "keras"  # alone: Keras's header
    for name in ("metrics.json", "model.pt"):  # beside a train run's files: nooverfit's
        (run / name).write_text("{}")
    assert read_log(run / "history.csv").framework == "nooverfit"
    stopped = History.from_columns({"loss": LOSS, "val_loss": VAL}, stop_reason="patience")
    stopped.save(tmp_path / "stopped.csv")  # nooverfit's stop_reason column
    assert read_log(tmp_path / "stopped.csv").framework == "nooverfit"
    _history().save(tmp_path / "h.json")
    assert read_log(tmp_path / "h.json").framework == "nooverfit"
    (tmp_path / "k.json").write_text(json.dumps({"loss": LOSS, "val_loss": VAL}))
    assert read_log(tmp_path / "k.json").framework == "keras"  # history.history


def test_framework_of_a_studys_own_runs(tmp_path):
    """A study's histories/ CSV (beside its results.json) and its runs/<key>.json are
    nooverfit's: the same CSV alone reads as Keras's header (a study's diagnosis of the
    two files differed only in the framework, i175 x i176)."""
    histories, runs = tmp_path / "histories", tmp_path / "runs"
    histories.mkdir()
    runs.mkdir()
    _history().save(histories / "baseline__seed0.csv")
    assert read_log(histories / "baseline__seed0.csv").framework == "keras"
    (tmp_path / "results.json").write_text("{}")
    assert read_log(histories / "baseline__seed0.csv").framework == "nooverfit"
    stored = {"config": {}, "history": _history().to_dict()}
    (runs / "k.json").write_text(json.dumps(stored))
    assert read_log(runs / "k.json").framework == "nooverfit"


@pytest.mark.parametrize(
    ("flavour", "framework"),
    [("keras", "keras"), ("tensorflow", "keras"), ("transformers", "hf"), ("sklearn", "")],
)
def test_framework_of_an_mlflow_run_is_its_autologging_flavour(tmp_path, flavour, framework):
    run = tmp_path / "mlruns" / "0" / "abc"
    for name, values in (("loss", LOSS), ("val_loss", VAL)):
        path = run / "metrics" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{1000 + e} {v!r} {e}\n" for e, v in enumerate(values)))
    assert read_log(run).framework == ""  # no tag: not known
    (run / "tags").mkdir()
    (run / "tags" / "mlflow.autologging").write_text(flavour)
    assert read_log(run).framework == framework


def test_framework_of_keras_tensorboard_folders(tmp_path):
    """Keras's ``TensorBoard`` callback writes ``train/`` and ``validation/`` folders of
    ``epoch_*`` tags; one ``SummaryWriter`` folder is a PyTorch loop's."""
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    for split, values in (("train", LOSS), ("validation", VAL)):
        writer = SummaryWriter(str(tmp_path / "keras" / split))
        for e, v in enumerate(values):
            writer.add_scalar("epoch_loss", v, e)
        writer.close()
    assert read_log(tmp_path / "keras").framework == "keras"
    writer = SummaryWriter(str(tmp_path / "loop"))
    for e, (t, v) in enumerate(zip(LOSS, VAL, strict=True)):
        writer.add_scalar("loss", t, e)
        writer.add_scalar("val_loss", v, e)
    writer.close()
    assert read_log(tmp_path / "loop").framework == "pytorch"
