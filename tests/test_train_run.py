"""`train_run`: the library call behind ``nooverfit train``."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_split
from nooverfit.history import History
from nooverfit.models import network_for
from nooverfit.train import evaluate, fit
from nooverfit.train_run import FILES, OutputExists, changed_options, train_run


def test_train_run_writes_what_fit_computes(tmp_path):
    data = load_split("digits", seed=0, device="cpu")
    config = RunConfig(width=16, epochs=3, train_per_class=5, batch_size=16, l2=1e-3)
    seen: list[int] = []
    run = train_run(
        config, data, out=tmp_path, data_name="digits", callbacks=[lambda e, _: seen.append(e)]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    assert seen == [0, 1, 2]
    # the same config fitted directly gives the same curves (the call adds no randomness)
    reference = fit(network_for(config, data), data, config)
    assert run.history.val_loss == reference.val_loss
    assert History.load(tmp_path / "history.csv").val_loss == run.history.val_loss
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"] == config.to_dict()
    assert metrics["epochs_run"] == 3
    assert metrics["final"]["val_loss"] == run.history.val_loss[-1]
    assert len(metrics["split"]["train"]) == 5 * data.num_classes
    net = network_for(config, data)
    net.load_state_dict(torch.load(tmp_path / "model.pt"))
    x = data.x[:8]
    assert torch.equal(net(x), run.network.eval()(x))


def test_model_pt_holds_the_kept_epoch_without_early_stopping(tmp_path):
    data = load_split("digits", seed=0, device="cpu")
    config = RunConfig(width=64, epochs=12, train_per_class=5, batch_size=8, lr=3e-2)
    run = train_run(config, data, out=tmp_path, data_name="digits")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    best = run.history.best()
    assert best is not None and best != run.history.epoch[-1]  # else the test shows nothing
    assert metrics["best_epoch"] == best == run.history.epoch[run.kept_row]
    # one definition of the best epoch: the saved history's, read back, and the diagnosis's
    from nooverfit import diagnose
    from nooverfit.history import History

    saved = History.load(tmp_path / "history.csv")
    assert saved.best() == diagnose(saved).best_epoch == best
    net = network_for(config, data)
    net.load_state_dict(torch.load(tmp_path / "model.pt"))
    scores = evaluate(net, data.x[data.val_index], data.y[data.val_index])
    assert scores.loss == pytest.approx(metrics["best"]["val_loss"], rel=1e-6)
    assert scores.loss != pytest.approx(metrics["final"]["val_loss"], rel=1e-6)


def test_an_earlier_run_is_kept_unless_overwrite(tmp_path):
    data = load_split("digits", seed=0, device="cpu")
    config = RunConfig(width=8, epochs=1, train_per_class=2)
    train_run(config, data, out=tmp_path, data_name="digits")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(OutputExists, match=r"history\.csv holds an earlier run.*--overwrite"):
        train_run(config.replace(seed=1), data, out=tmp_path, data_name="digits")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    train_run(config.replace(seed=1), data, out=tmp_path, data_name="digits", overwrite=True)
    assert (tmp_path / "model.pt").read_bytes() != before["model.pt"]


NAN = float("nan")


@pytest.mark.parametrize(
    ("val_loss", "val_accuracy", "kept", "best"),
    [
        # lowest finite val_loss: epoch 1, kept and best alike
        ([0.9, 0.5, NAN], [0.5, 0.7, 0.1], 1, 1),
        # no finite val_loss: the last epoch's weights; the best by val_accuracy (epoch 0)
        ([NAN, NAN, NAN], [0.4, 0.2, 0.1], 2, 0),
        # no validation value at all: no best epoch, and no best values
        ([NAN, NAN, NAN], [NAN, NAN, NAN], 2, None),
    ],
)
def test_metrics_json_epochs_agree_with_each_other(
    tmp_path, monkeypatch, val_loss, val_accuracy, kept, best
):
    """metrics.json never names a best epoch whose values it does not show: ``best``
    holds ``best_epoch``'s values (null with it), ``kept_epoch`` the epoch model.pt
    holds."""
    import nooverfit.train_run as train_run_module

    history = History.from_columns(
        {
            "loss": [1.0, 0.5, NAN],
            "accuracy": [0.3, 0.6, 0.1],
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
        },
        stop_reason="diverged",
        kept_epoch=None if kept == 2 else kept,  # fit's keep_best: none without a val_loss
    )
    monkeypatch.setattr(train_run_module, "fit", lambda *args, **kwargs: history)
    data = load_split("digits", seed=0, device="cpu")
    run = train_run(RunConfig(width=8, epochs=3), data, out=tmp_path, data_name="digits")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["kept_epoch"], metrics["best_epoch"], run.kept_row) == (kept, best, kept)
    assert metrics["best_epoch"] == history.best_epoch  # the diagnosis's, one definition
    if best is None:
        assert metrics["best"] is None
    else:
        assert metrics["best"]["val_accuracy"] == val_accuracy[best]
        assert metrics["best"]["accuracy"] == [0.3, 0.6, 0.1][best]


def test_metrics_json_of_a_run_diverged_at_its_first_epoch(tmp_path):
    # inputs of NaN: the loss is NaN from the first batch, the run ends after epoch 0
    data = load_split("digits", seed=0, device="cpu")
    data = dataclasses.replace(data, x=torch.full_like(data.x, NAN))
    train_run(RunConfig(width=8, epochs=3), data, out=tmp_path, data_name="digits")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["stop_reason"] == "diverged" and metrics["epochs_run"] == 1
    assert metrics["best"]["val_loss"] is None  # written as null
    assert metrics["kept_epoch"] == metrics["best_epoch"] == 0
    assert metrics["best"] == metrics["final"]


def _write_rows(path, n=160, seed=0):
    """A CSV with a row id, a text column, two numbers and a text label; its rows."""
    import csv

    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue"], n)
    height, weight = rng.normal(size=n), rng.exponential(size=n)
    label = np.where((colour == "red") ^ (height > 0.2), "yes", "no")
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "colour", "height", "weight", "label"])
        for i in range(n):
            w.writerow([1000 + i, colour[i], f"{height[i]:.3f}", f"{weight[i]:.3f}", label[i]])
    return list(csv.DictReader(path.open(newline="")))


def _csv_run(tmp_path, *, epochs=6):
    path = tmp_path / "rows.csv"
    rows = _write_rows(path)
    spec, options = f"csv:{path}", {"target": "label", "ignore": "id", "groups": None}
    data = load_split(spec, target="label", ignore="id", seed=0, device="cpu")
    config = RunConfig(width=16, epochs=epochs, lr=1e-2)
    out = tmp_path / "run"
    run = train_run(config, data, out=out, data_name=spec, data_options=options)
    return run, data, rows, out


def test_model_json_lets_the_loader_predict_raw_rows_as_training_saw_them(tmp_path):
    """``nooverfit train``'s folder loads as a study's does: raw CSV rows (the id column
    ignored, categories as text) get the kept epoch's validation accuracy and the
    network's own probabilities."""
    from nooverfit.saved_model import load_study_model

    run, data, rows, out = _csv_run(tmp_path)
    card = json.loads((out / "model.json").read_text())
    assert card["refused"] is None and card["weights"]["file"] == "model.pt"
    assert card["members"][0]["config"] == run.metrics["config"]
    model = load_study_model(out)
    assert model.classes == data.dataset.classes and not model.ensemble
    val = data.split.val
    labels, probs = model.scores([rows[i] for i in val])
    kept = json.loads((out / "metrics.json").read_text())["best"]  # kept == best here
    assert run.history.kept_epoch == run.history.best_epoch
    assert np.mean(labels == data.dataset.y[val]) == pytest.approx(kept["val_accuracy"])
    with torch.no_grad():
        reference = run.network.eval()(data.x[val]).softmax(-1).numpy()
    np.testing.assert_allclose(probs, reference, rtol=1e-5, atol=1e-6)


def test_metrics_json_records_the_data_options(tmp_path):
    run, *_ = _csv_run(tmp_path, epochs=1)
    assert run.metrics["data options"] == {
        "target": "label",
        "ignore": "id",
        "groups": None,
        "classes": None,
    }


def test_a_tampered_model_pt_is_refused(tmp_path):
    from nooverfit.errors import BadInput
    from nooverfit.saved_model import load_study_model

    _, _, _, out = _csv_run(tmp_path, epochs=1)
    state = torch.load(out / "model.pt", weights_only=True)
    torch.save({k: v + 1 for k, v in state.items()}, out / "model.pt")
    with pytest.raises(BadInput, match=r"model\.pt is not the model .*model\.json describes"):
        load_study_model(out)
    (out / "model.json").unlink()
    with pytest.raises(BadInput, match=r"has model\.pt but no model\.json.*nooverfit train"):
        load_study_model(out)


@pytest.mark.parametrize(
    ("recorded", "given", "expected"),
    [
        (
            {"target": "y", "ignore": "id", "groups": None},
            {"target": "y"},
            [("--ignore id", "no --ignore")],
        ),
        ({"target": "y", "ignore": "id, name"}, {"target": "y", "ignore": "name,id"}, []),
        (
            {"target": "y", "groups": "site"},
            {"target": "z", "groups": "site"},
            [("--target y", "--target z")],
        ),
        ({"target": "y"}, {"target": "y", "groups": "site"}, [("no --groups", "--groups site")]),
        (None, {"target": "z"}, []),  # a metrics.json written before they were recorded
    ],
)
def test_changed_options_names_each_option_that_differs(recorded, given, expected):
    assert changed_options(recorded, given) == expected
