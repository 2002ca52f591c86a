import numpy as np
import pytest

from nooverfit.data.tabular import fit_scaling, ple_edges, scale_features
from nooverfit.data.tree_bins import min_leaf, tree_edges


def test_tree_edges_are_the_thresholds_where_the_label_changes():
    # label 0 on 1..4, 1 on 5..8, 0 on 9..12: the two cuts are the midpoints 4.5 and 8.5
    x = np.arange(1.0, 13.0)[:, None]
    y = np.array([0] * 4 + [1] * 4 + [0] * 4)
    np.testing.assert_array_equal(tree_edges(x, y, 3), [[1.0, 4.5, 8.5, 12.0]])


def test_tree_edges_repeat_the_maximum_when_the_tree_needs_fewer_leaves():
    # three pure leaves answer the labels; the fourth bin is empty (zero width)
    x = np.arange(1.0, 13.0)[:, None]
    y = np.array([0] * 4 + [1] * 4 + [0] * 4)
    np.testing.assert_array_equal(tree_edges(x, y, 4), [[1.0, 4.5, 8.5, 12.0, 12.0]])


def test_tree_edges_leave_at_least_min_leaf_rows_on_each_side():
    # one positive at x = 20 of 1..20; 2 bins leave min_leaf(20, 2) = 5 rows a leaf, so
    # the purest allowed cut is 15.5 (left 15 negatives, right 4 negatives and the one)
    x = np.arange(1.0, 21.0)[:, None]
    y = (x[:, 0] == 20).astype(int)
    assert min_leaf(20, 2) == 5
    np.testing.assert_array_equal(tree_edges(x, y, 2), [[1.0, 15.5, 20.0]])


def test_tree_edges_keep_quantile_edges_for_few_distinct_values():
    rng = np.random.default_rng(0)
    x = np.stack([rng.integers(0, 3, 50), rng.normal(size=50)], 1).astype(float)
    y = rng.integers(0, 2, 50)
    edges = tree_edges(x, y, 4)
    np.testing.assert_array_equal(edges[0], ple_edges(x, 4)[0])  # 3 values <= 4 bins
    assert edges[1, 0] == x[:, 1].min() and edges[1, -1] == x[:, 1].max()
    assert np.all(np.diff(edges[1]) >= 0)


def test_tree_edges_reject_labels_of_another_length():
    with pytest.raises(ValueError, match="labels must have shape"):
        tree_edges(np.zeros((5, 2)), np.zeros(4), 2)


def test_pletree_reads_only_the_pools_labels_and_needs_them():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3)).astype(np.float32)
    y = (x[:, 0] > 0.7).astype(int)
    pool = np.arange(200)
    other = y.copy()
    other[200:] = 1 - other[200:]  # labels outside the pool change: the edges must not
    a = fit_scaling(x, pool, "pletree", y=y)
    assert a == fit_scaling(x, pool, "pletree", y=other)
    # the first feature's label threshold (0.7) is among its edges, to the nearest row
    assert np.min(np.abs(np.asarray(a["edges"][0]) - 0.7)) < 0.05
    assert scale_features(x, pool, "pletree16", y=y).shape == (300, 3 * 16)
    with pytest.raises(ValueError, match="needs the training labels"):
        fit_scaling(x, pool, "pletree")
