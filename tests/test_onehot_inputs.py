"""The ``onehot`` encoding: each standardized feature, then an indicator per repeated value
of a numeric feature with more than two distinct pool values: which values from the pool,
how many from every row's features (one width on every seed's split)."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from nooverfit.data.tabular import ONEHOT_MOST, ONEHOT_ROWS, fit_scaling, scale_features


def test_onehot_of_a_hand_computed_table():
    # column 0 binary (stays one column); column 1: 10.8 on 5 pool rows, 9.9 on 4, 7 on 1
    price = [10.8, 10.8, 9.9, 10.8, 9.9, 10.8, 9.9, 9.9, 7.0, 10.8, 10.8]
    binary = [0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1]
    x = np.array([binary, price], dtype=np.float32).T
    pool = np.arange(10)  # row 10 is not in the pool
    out = scale_features(x, pool, "onehot")
    # of all rows only 10.8 repeats 5 times: one column, the pool's most frequent value
    assert fit_scaling(x, pool, "onehot")["values"] == [[], [float(np.float32(10.8))]]
    assert out.shape == (11, 3)
    std = StandardScaler().fit(x[pool])
    np.testing.assert_allclose(out[:, :2], std.transform(x), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out[:, 2], [1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1])


def test_onehot_columns_are_scikit_learns_frequent_categories():
    rng = np.random.default_rng(0)
    n = 400
    weights = np.r_[np.full(20, 0.04), np.full(40, 0.2 / 40)]
    codes = rng.choice(1.0 + 0.1 * np.arange(60), size=n, p=weights)
    x = np.stack([codes, rng.normal(size=n), rng.integers(0, 2, n)], axis=1).astype(np.float32)
    pool = np.arange(n)  # on all rows, the count and the choice agree
    out = scale_features(x, pool, "onehot")
    reference = OneHotEncoder(
        min_frequency=ONEHOT_ROWS, handle_unknown="infrequent_if_exist", sparse_output=False
    ).fit(x[pool, :1])
    frequent = len(reference.categories_[0]) - len(reference.infrequent_categories_[0])
    assert 0 < frequent < 60
    # scikit-learn's frequent columns first, sorted, then one for the infrequent values
    expected = reference.transform(x[:, :1])[:, :frequent]
    np.testing.assert_array_equal(out[:, 1 : 1 + frequent], expected)
    # the continuous column repeats no value and the binary one has two: one column each
    assert out.shape == (n, 3 + frequent)


def test_onehot_keeps_the_most_frequent_values():
    # ONEHOT_MOST + 6 values held by ONEHOT_ROWS, ONEHOT_ROWS + 1, ... rows
    counts = ONEHOT_ROWS + np.arange(ONEHOT_MOST + 6)
    x = np.repeat(np.arange(len(counts), dtype=np.float32), counts)[:, None]
    values = fit_scaling(x, np.arange(len(x)), "onehot")["values"][0]
    assert values == [float(v) for v in range(6, len(counts))]


def test_onehot_has_one_width_on_every_pool():
    # the count from all rows (10.8 and 9.9 repeat 5 times), the values from each pool
    x = np.array([10.8] * 5 + [9.9] * 5 + [7.0, 6.0, 6.0, 6.0], dtype=np.float32)[:, None]
    first = fit_scaling(x, np.arange(10, 14), "onehot")["values"][0]  # 7 once, 6 three times
    second = fit_scaling(x, np.arange(0, 14, 2), "onehot")["values"][0]
    assert first == [6.0, 7.0]
    # 10.8 on 3 of these pool rows and 9.9 on 2 beat 7 and 6 on 1 each
    assert second == [float(np.float32(v)) for v in (9.9, 10.8)]
    lone = fit_scaling(x, np.array([11, 12]), "onehot")["values"][0]
    assert lone[0] == 6.0 and np.isnan(lone[1])  # one distinct pool value: NaN pads
    widths = {scale_features(x, p, "onehot").shape for p in (np.arange(10, 14), np.array([11]))}
    assert widths == {(14, 3)}


def test_onehot_has_one_width_on_every_pool_of_a_csv_with_missing_cells(tmp_path):
    """s29 review: missing cells take each pool's median, and a median between two values
    (4.5 on one pool, 2 on another) made a value repeat on one seed's split only: one
    more column there, and the fused engine trains the seeds' runs side by side at one
    width. The count reads the features before filling (the loader's placeholder, the
    same on every split)."""
    from nooverfit.data.dataset import load_dataset
    from nooverfit.data.tensors import network_inputs

    values = [str(v) for v in range(1, 7) for _ in range(6)] + [""] * 8
    lines = ["price,y"] + [f"{v},{i % 2}" for i, v in enumerate(values)]
    path = tmp_path / "gaps.csv"
    path.write_text("\n".join(lines) + "\n")
    data = load_dataset(f"csv:{path}", target="y")
    present = np.arange(36)
    low = np.r_[present[:18], np.arange(36, 44)]  # 1, 2, 3: median 2, a value there
    high = np.r_[present[12:36], np.arange(36, 44)]  # 3 to 6: median 4.5, a new value
    widths = {network_inputs(data, pool, scaling="onehot").shape[1] for pool in (low, high)}
    assert len(widths) == 1
