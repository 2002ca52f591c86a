"""A study's saved model predicts on raw data as the study scored it on its encoded test
split: the reference is the study's own test accuracy (results.json) and its networks'
outputs on the encoded features."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from _saved_study import csv_table, save_ensemble, trained_session
from conftest import TINY
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.fitted import apply_scaling
from nooverfit.data.split import split_dataset
from nooverfit.data.tabular import SCALINGS, fit_scaling, scale_features
from nooverfit.data.tensors import prepare
from nooverfit.errors import BadInput
from nooverfit.models import build_model
from nooverfit.saved_model import CARD, load_study_model, model_card, save_card
from nooverfit.studies import ensemble
from nooverfit.studies.compare import compare
from nooverfit.study_files import write_study


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return csv_table(tmp_path_factory)


def _accuracy_on_raw_test_rows(out, rows):
    results = json.loads((out / "results.json").read_text())
    test = results["splits"][0]["test"]
    model = load_study_model(out)
    predicted = model.predict([rows[i] for i in test])
    truth = np.array([rows[i]["label"].strip() for i in test], dtype=object)
    return float(np.mean(predicted == truth)), results["test"]["recommended"]["per_seed"][0]


def assert_predicts_as_tested(out, rows, encoded, config):
    """The model of the study written to ``out`` predicts the raw test ``rows`` as the study
    scored them (results.json's test accuracy), with the probabilities its network
    (``config``, weights from best_model.pt) gives the encoded test split ``encoded``."""
    accuracy, reference = _accuracy_on_raw_test_rows(out, rows)
    assert accuracy == reference
    model = load_study_model(out)
    net = build_model(config, encoded.in_shape, len(encoded.dataset.classes), kind="tabular")
    net.load_state_dict(torch.load(out / "best_model.pt", weights_only=True))
    with torch.no_grad():
        expected = net.eval()(encoded.x[encoded.test_index]).softmax(-1).numpy()
    got = model.predict_proba([rows[i] for i in encoded.split.test])
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("inputs", SCALINGS)
def test_loaded_model_on_raw_rows_matches_the_studys_test_score(table, tmp_path, inputs):
    _, rows, dataset = table
    data = prepare(dataset, split_dataset(dataset, seed=0), device="cpu")
    candidate = RunConfig(width=16, epochs=8, inputs=inputs, dropout=0.2)
    write_study(compare(data, candidate), tmp_path)
    encoded = prepare(dataset, data.split, device="cpu", scaling=inputs)
    assert_predicts_as_tested(tmp_path, rows, encoded, candidate)


def test_recorded_scaling_reproduces_the_training_encoding_bit_for_bit(table):
    _, _, dataset = table
    pool = split_dataset(dataset, seed=1).pool
    for scaling in SCALINGS:
        record = json.loads(json.dumps(fit_scaling(dataset.x, pool, scaling)))  # via JSON
        np.testing.assert_array_equal(
            apply_scaling(dataset.x, record), scale_features(dataset.x, pool, scaling)
        )


def test_a_tabular_study_with_a_text_column_round_trips(table, tmp_path):
    path, rows, _ = table
    from nooverfit.studies import study

    result = study(
        f"csv:{path}",
        target="label",
        budget=TINY,
        seeds=2,
        train_per_class=None,
        engine="fused",
        device="cpu",
        learning_curves=False,
    )
    write_study(result, tmp_path)
    accuracy, reference = _accuracy_on_raw_test_rows(tmp_path, rows)
    assert accuracy == reference
    card = json.loads((tmp_path / CARD).read_text())
    assert card["columns"]["features"][1] == {
        "name": "colour",
        "levels": ["", "blue", "green", "red"],
    }
    assert card["classes"] == ["no", "yes"] and card["name"] == result.recommended.name


@pytest.fixture(scope="module")
def trained(table):
    """A study session on the CSV with three variants, two input encodings."""
    return trained_session(table)


def test_an_ensemble_of_one_encoding_predicts_as_the_study_tested_it(trained, table, tmp_path):
    session, configs = trained
    path, _, _ = table
    same = configs[:2]  # both standard: the study's own ensemble test applies
    save_ensemble(session, same, tmp_path)
    data = session.split_data(same[0])
    nets = ensemble.networks(session, ensemble.Members(tuple(same), ("a", "b")), 0)
    accuracy, _ = ensemble.on_test(nets, data)
    model = load_study_model(tmp_path)
    test = data.split.test
    predicted = model.predict(path)[test]
    assert np.mean(predicted == np.asarray(session.dataset.classes)[session.dataset.y[test]]) == (
        accuracy
    )


def test_an_ensemble_of_mixed_encodings_encodes_each_members_inputs(trained, table, tmp_path):
    session, configs = trained
    path, _, _ = table
    nets = save_ensemble(session, configs, tmp_path)
    test = session.data[0].split.test
    with torch.no_grad():  # each member on its own encoding of the test rows
        probs = [
            n.eval()(session.split_data(c).x[test]).softmax(-1)
            for n, c in zip(nets, configs, strict=True)
        ]
    expected = torch.stack(probs).mean(0).numpy()
    got = load_study_model(tmp_path).predict_proba(path)[test]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


def test_a_weighted_ensemble_predicts_the_weighted_average_of_its_members(
    trained, table, tmp_path
):
    session, configs = trained
    path, _, _ = table
    weights = (0.5, 0.125, 0.375)  # a blend's: each network once, with its weight
    nets = save_ensemble(session, configs, tmp_path, weights)
    test = session.data[0].split.test
    with torch.no_grad():  # by hand: each member on its own encoding, weighted
        probs = [
            w * n.eval()(session.split_data(c).x[test]).softmax(-1)
            for n, c, w in zip(nets, configs, weights, strict=True)
        ]
    expected = sum(probs).numpy()
    got = load_study_model(tmp_path).predict_proba(path)[test]
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    # the study's own test of the same members: the saved model's accuracy
    members = ensemble.Members(tuple(configs), ("a", "b", "c"), weights=weights)
    accuracy, _ = ensemble.test_members(session, members, 0)
    truth = session.dataset.y[test]
    assert np.mean(got.argmax(1) == truth) == pytest.approx(accuracy)


def test_an_old_folder_without_the_card_is_refused_in_one_line(trained, tmp_path):
    session, configs = trained
    save_ensemble(session, configs[:1], tmp_path)
    (tmp_path / CARD).unlink()
    with pytest.raises(BadInput, match=r"no best_model\.json") as err:
        load_study_model(tmp_path)
    assert "\n" not in str(err.value)


def test_weights_of_another_study_are_refused(trained, tmp_path):
    session, configs = trained
    save_ensemble(session, configs, tmp_path)
    state = torch.load(tmp_path / "best_model.pt", weights_only=True)
    state = {k: v + 1 for k, v in state.items()}
    torch.save(state, tmp_path / "best_model.pt")
    with pytest.raises(BadInput, match="SHA-256 differs"):
        load_study_model(tmp_path)


def test_bad_rows_are_refused_with_what_was_expected(trained, table, tmp_path):
    session, configs = trained
    _, rows, _ = table
    save_ensemble(session, configs[:1], tmp_path)
    model = load_study_model(tmp_path)
    row = dict(rows[0])
    with pytest.raises(BadInput, match=r"'purple' \(row 0\), a category the model never saw"):
        model.predict([{**row, "colour": "purple"}])
    # ignored: all zeros in the colour block, the numbers as they are
    raw = model.features([{**row, "colour": "purple"}], unknown="ignore")
    assert raw[0, 1:5].tolist() == [0, 0, 0, 0] and raw[0, 0] == np.float32(row["weight"])
    with pytest.raises(BadInput, match="has no column 'height'"):
        model.predict([{k: v for k, v in row.items() if k != "height"}])
    with pytest.raises(BadInput, match=r"'height' holds 'tall' .*expected a finite number"):
        model.predict([{**row, "height": "tall"}])
    with pytest.raises(BadInput, match=r"text columns \(colour\); expected a CSV file"):
        model.predict(np.zeros((2, 3)))
    for empty in ([], ()):  # was "tabular samples have shape (0,); expected (N, 6)"
        with pytest.raises(BadInput, match=r"^the rows hold no data; expected at least one row$"):
            model.predict(empty)


def test_image_models_take_arrays_as_the_loader_gives_them(tmp_path):
    dataset = load_dataset("digits")
    data = prepare(dataset, split_dataset(dataset, seed=0), device="cpu")
    result = compare(data, RunConfig(width=16, epochs=3, train_per_class=10))
    write_study(result, tmp_path)
    model = load_study_model(tmp_path)
    test = data.split.test
    flat = dataset.x[test].reshape(len(test), -1)  # flattened samples are accepted too
    accuracy = float(np.mean(model.predict(flat) == np.asarray(dataset.classes)[dataset.y[test]]))
    assert accuracy == result.test["recommended"].per_seed[0]
    with pytest.raises(BadInput, match=r"shape \(2, 5\); expected \(N, 1, 8, 8\)"):
        model.predict(np.zeros((2, 5)))
    # scikit-learn's own digits (pixels 0-16) are off the scale the network trained on
    # (pixels / 16): refused, not answered with a lower accuracy
    with pytest.raises(BadInput, match=r"range from 0 to 16, but .* from 0 to 1; expected"):
        model.predict(flat * 16)
    # ... and so are pixels / 255 (16 times too small), while a blank image passes
    with pytest.raises(BadInput, match=r"range from 0 to 0.0627.* an eighth or less"):
        model.predict(flat * 16 / 255)
    assert len(model.predict(np.zeros((1, 64)))) == 1


def test_the_default_studys_folder_predicts_its_test_accuracy(tiny_study):
    result, out = tiny_study
    dataset = load_dataset("digits")
    test = result.splits[0].test
    model = load_study_model(out)
    truth = np.asarray(dataset.classes, dtype=object)[dataset.y[test]]
    assert (
        float(np.mean(model.predict(dataset.x[test]) == truth))
        == (result.test["recommended"].per_seed[0])
    )
    assert model.name == result.recommended.name


def test_a_users_own_network_loads_into_the_module_given(trained, tmp_path):
    session, configs = trained
    net = session.model(configs[0])
    torch.save(net.state_dict(), tmp_path / "best_model.pt")
    card = model_card(
        session.dataset, [(configs[0], session.data[0])], name="mine", ensemble=False, custom=True
    )
    save_card(card, tmp_path / "best_model.pt")
    with pytest.raises(BadInput, match="your own network"):
        load_study_model(tmp_path)
    mine = build_model(configs[0].replace(seed=7), session.data[0].in_shape, 2, kind="tabular")
    model = load_study_model(tmp_path, module=mine)
    x = session.data[0].x[:5]
    with torch.no_grad():
        np.testing.assert_array_equal(model.networks[0](x), net.eval()(x))


def test_tabular_data_from_arrays_takes_arrays_or_a_csv_of_its_columns(tmp_path):
    from sklearn.datasets import make_classification

    from nooverfit.data import Dataset

    x, y = make_classification(n_samples=120, n_features=4, n_informative=3, n_redundant=0,
                               random_state=0)  # fmt: skip
    dataset = Dataset.from_arrays(x.astype(np.float32), y, name="toy", kind="tabular")
    data = prepare(dataset, split_dataset(dataset, seed=0), device="cpu")
    result = compare(data, RunConfig(width=16, epochs=6, inputs="quantile"))
    write_study(result, tmp_path / "study")
    model = load_study_model(tmp_path / "study")
    test = data.split.test
    truth = np.asarray(dataset.classes, dtype=object)[y[test]]
    assert (
        float(np.mean(model.predict(dataset.x[test]) == truth))
        == (result.test["recommended"].per_seed[0])
    )
    path = tmp_path / "rows.csv"  # any header: the columns in order
    lines = [",".join(repr(float(v)) for v in row) for row in dataset.x[test]]
    path.write_text("a,b,c,d\n" + "\n".join(lines) + "\n")
    np.testing.assert_array_equal(model.predict(path), model.predict(dataset.x[test]))
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(BadInput, match="has 3 columns; expected the 4 numeric feature columns"):
        model.predict(path)
    np.save(tmp_path / "x.npy", dataset.x[:3, :3])
    with pytest.raises(BadInput, match=r"shape \(3, 3\); expected \(N, 4\)"):
        model.predict(tmp_path / "x.npy")


def test_a_card_that_could_not_record_the_encoding_refuses_raw_data(trained, tmp_path):
    session, configs = trained
    torch.save(session.model(configs[0]).state_dict(), tmp_path / "best_model.pt")
    members = [(configs[0], session.data[0])]
    card = model_card(session.dataset, members, name="x", ensemble=False, refused="a reason")
    save_card(card, tmp_path / "best_model.pt")
    with pytest.raises(BadInput, match="cannot predict here: a reason"):
        load_study_model(tmp_path)
    # a data set whose encoding the card's statistics do not reproduce: refused too
    ple = session.split_data(configs[2])
    card = model_card(session.dataset, [(configs[0], ple)], name="x", ensemble=False)
    assert card["refused"] == "its standard input encoding could not be recorded exactly"


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.replace('"sha256"', '"sha"'),
        lambda text: text.replace('"in_shape"', '"shape"'),
        lambda text: text.replace('"columns": {', '"columns": [{', 1),
        lambda text: "[1, 2]",
    ],
)
def test_a_damaged_card_is_one_line_not_a_traceback(trained, tmp_path, damage):
    session, configs = trained
    save_ensemble(session, configs, tmp_path)
    card = tmp_path / CARD
    card.write_text(damage(card.read_text()))
    with pytest.raises(BadInput) as err:
        load_study_model(tmp_path)
    assert "\n" not in str(err.value)


def test_a_pandas_data_frame_reads_like_the_csv(trained, table, tmp_path):
    pd = pytest.importorskip("pandas")
    session, configs = trained
    path, _, _ = table
    save_ensemble(session, configs, tmp_path)
    model = load_study_model(tmp_path)
    frame = pd.read_csv(path)  # an empty colour cell is NaN here: the "" category
    assert frame["colour"].isna().any()
    np.testing.assert_array_equal(model.features(frame), model.features(path))


def test_an_encoding_saved_models_do_not_record_is_refused(trained, monkeypatch):
    import nooverfit.saved_card as saved

    session, configs = trained
    monkeypatch.setattr(saved, "RECORDED", ("standard",))  # as if ple were new
    members = [(c, session.split_data(c)) for c in configs]
    card = saved.model_card(session.dataset, members, name="x", ensemble=True)
    assert card["refused"] == "its ple input encoding is not one saved models record"


def test_the_studys_test_of_a_mixed_ensemble_is_the_saved_models(trained, table, tmp_path):
    # copies on two encodings (studies/copies.py): the study scores each member on its own
    # encoding of the test rows, as the saved model does from the raw CSV rows
    session, configs = trained
    path, _, _ = table
    mixed = (configs[0], configs[2])
    save_ensemble(session, list(mixed), tmp_path)
    accuracy, loss = ensemble.test_members(session, ensemble.Members(mixed, ("a", "b")), 0)
    test = session.data[0].split.test
    probs = load_study_model(tmp_path).predict_proba(path)[test]
    y = session.dataset.y[test]
    assert accuracy == pytest.approx(np.mean(probs.argmax(1) == y))
    assert loss == pytest.approx(-np.log(probs[np.arange(len(y)), y]).mean(), rel=1e-5)
