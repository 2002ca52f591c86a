"""The card format of a study's saved model (``best_model.json``'s ``format``): every older
format loads and predicts as the study's networks do; a newer or unknown one is one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from _saved_study import csv_table, save_ensemble, trained_session
from nooverfit.errors import BadInput
from nooverfit.saved_model import CARD, load_study_model, save_card


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return csv_table(tmp_path_factory)


@pytest.fixture(scope="module")
def trained(table):
    """A study session on the CSV with three variants, two input encodings."""
    return trained_session(table)


def _as_format(out, form, state=None):
    """Rewrite ``out``'s card (and weights, where ``state`` is given) as a nooverfit of
    card format ``form`` wrote them."""
    weights = out / "best_model.pt"
    if state is not None:
        torch.save(state, weights)
    card = json.loads((out / CARD).read_text())
    card["format"] = form
    save_card({k: v for k, v in card.items() if k != "weights"}, weights)


def test_every_older_card_format_loads(trained, table, tmp_path):
    """Format 1 covers three layouts: an ensemble saved before ensembles carried weights
    (equal ones), one saved with its weights, and a single network (folded stale biases:
    test_bias_free). Each loads and predicts as the study's networks do; today's card says
    format 2, which older nooverfit refuses by its format rather than by a state dict that
    does not fit."""
    from nooverfit.saved_model import FORMAT

    session, configs = trained
    path, _, _ = table
    weights = (0.75, 0.25)
    nets = save_ensemble(session, configs[:2], tmp_path / "weighted", weights)
    assert FORMAT == 2 and json.loads((tmp_path / "weighted" / CARD).read_text())["format"] == 2
    test = session.data[0].split.test
    with torch.no_grad():
        probs = [
            n.eval()(session.split_data(c).x[test]).softmax(-1)
            for n, c in zip(nets, configs[:2], strict=True)
        ]
    weighted = (0.75 * probs[0] + 0.25 * probs[1]).numpy()
    equal = ((probs[0] + probs[1]) / 2).numpy()
    _as_format(tmp_path / "weighted", 1)  # written between the weights and the format bump
    got = load_study_model(tmp_path / "weighted").predict_proba(path)[test]
    np.testing.assert_allclose(got, weighted, rtol=1e-6, atol=1e-7)
    save_ensemble(session, configs[:2], tmp_path / "old", weights)
    state = torch.load(tmp_path / "old" / "best_model.pt", weights_only=True)
    del state["weights"]  # saved before ensembles carried weights: members count alike
    _as_format(tmp_path / "old", 1, state)
    got = load_study_model(tmp_path / "old").predict_proba(path)[test]
    np.testing.assert_allclose(got, equal, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("form", "words"),
    [
        (
            3,
            r"was made by a newer nooverfit \(.*, format 3\); this one \(.*\) reads formats "
            r"up to 2: install the nooverfit that wrote it",
        ),
        (0, "has format 0; expected a whole number from 1 to 2"),
        ("2", "has format '2'; expected a whole number from 1 to 2"),
    ],
)
def test_a_card_of_a_newer_or_unknown_format_is_one_line(trained, tmp_path, form, words):
    session, configs = trained
    save_ensemble(session, configs[:2], tmp_path)
    _as_format(tmp_path, form)
    with pytest.raises(BadInput, match=words) as err:
        load_study_model(tmp_path)
    assert "\n" not in str(err.value)
