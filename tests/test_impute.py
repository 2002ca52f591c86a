"""Missing numeric cells take the median of the training rows only (never of validation or
test rows), the saved model records it and fills new rows with it, as scikit-learn's
SimpleImputer fitted on the training rows does."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import Split
from nooverfit.data.tensors import prepare
from nooverfit.models import build_model
from nooverfit.saved_model import CARD, load_study_model, model_card, save_card

# v: present values 1, 2 in rows 0-1 (the training pool), 10, 20, 30 elsewhere: the median
# of the training rows' present values is 1.5, that of every row's (1, 2, 4, 10, 20, 30) 7.
ROWS = [
    ("1", "5", "a"),
    ("2", "6", "b"),
    ("", "7", "a"),
    ("10", "8", "b"),
    ("20", "9", "a"),
    ("30", "10", "b"),
    ("", "11", "a"),
    ("4", "12", "b"),
]
POOL = np.array([0, 1, 2, 6])
SPLIT = Split(pool=POOL, val=np.array([3, 4]), test=np.array([5, 7]), seed=0)


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("v,w,label\n" + "".join(f"{a},{b},{c}\n" for a, b, c in ROWS))
    return load_dataset(f"csv:{path}", target="label")


def test_the_fill_is_the_training_rows_median_not_every_rows(dataset):
    from sklearn.impute import SimpleImputer

    filled = dataset.filled(POOL)
    # hand-computed: median(1, 2) = 1.5 in the missing rows 2 and 6 (every row's: 7)
    np.testing.assert_array_equal(filled[:, 0], [1, 2, 1.5, 10, 20, 30, 1.5, 4])
    np.testing.assert_array_equal(filled[:, 1], [0, 0, 1, 0, 0, 0, 1, 0])  # the indicator
    raw = np.array([np.nan if a == "" else float(a) for a, _, _ in ROWS])[:, None]
    imputer = SimpleImputer(strategy="median", add_indicator=True).fit(raw[POOL])
    np.testing.assert_array_equal(filled[:, :2], imputer.transform(raw))
    # the network's inputs are scaled from those numbers (standard: the pool's mean, std)
    x = prepare(dataset, SPLIT, device="cpu").x.numpy()
    v = filled[POOL, 0].astype(np.float64)
    np.testing.assert_allclose(x[:, 0], (filled[:, 0] - v.mean()) / v.std(), rtol=1e-6)


def test_a_saved_model_fills_empty_cells_with_the_training_medians(dataset, tmp_path):
    data = prepare(dataset, SPLIT, device="cpu")
    config = RunConfig(width=8)
    torch.manual_seed(0)  # untrained weights: what is checked is the inputs' encoding
    torch.save(
        build_model(config, data.in_shape, 2, kind="tabular").state_dict(),
        tmp_path / "best_model.pt",
    )
    card = model_card(dataset, [(config, data)], name="baseline", ensemble=False)
    assert card["refused"] is None
    save_card(card, tmp_path / "best_model.pt")
    saved = json.loads((tmp_path / CARD).read_text())["columns"]["features"]
    # v had gaps: its fill (and indicator); w had none: its training median 6.5 (of 5, 6, 7, 11)
    assert saved == [
        {"name": "v", "levels": None, "fill": 1.5},
        {"name": "w", "levels": None, "median": 6.5},
    ]
    model = load_study_model(tmp_path)
    empty = model.features([{"v": "", "w": ""}, {"v": "NA", "w": "3"}])
    np.testing.assert_array_equal(empty, [[1.5, 1, 6.5], [1.5, 1, 3]])
    same = model.predict_proba([{"v": "1.5", "w": "6.5"}])[0]
    proba = model.predict_proba([{"v": "", "w": ""}])[0]
    assert not np.array_equal(proba, same)  # the indicator column is set
    # the training rows themselves encode exactly as the study's network saw them
    rows = [{"v": a, "w": b} for a, b, _ in ROWS]
    np.testing.assert_array_equal(model.features(rows), dataset.filled(POOL))
