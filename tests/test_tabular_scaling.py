import itertools

import numpy as np
import pytest

from nooverfit.data import Dataset, make_split, prepare
from nooverfit.data.tabular import CLIP, scale_features


def _data(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = np.stack(
        [rng.lognormal(size=n), rng.normal(size=n), (rng.random(n) < 0.3).astype(float)], 1
    )
    x[0, 0] = 1e4  # one outlier
    return x.astype(np.float32)


@pytest.mark.parametrize("scaling", ["standard", "robust", "quantile", "ple", "ple16"])
def test_statistics_come_from_the_pool_only(scaling):
    x = _data()
    pool = np.arange(300)
    other = x.copy()
    other[300:] *= 50  # validation/test rows change: the pool's scaled values must not
    a, b = scale_features(x, pool, scaling), scale_features(other, pool, scaling)
    np.testing.assert_allclose(a[pool], b[pool])


def test_standard_matches_mean_and_std_of_the_pool():
    x = _data()
    pool = np.arange(300)
    z = scale_features(x, pool, "standard")
    np.testing.assert_allclose(z[pool].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z[pool].std(0), 1, atol=1e-4)


def test_robust_and_quantile_bound_outliers():
    x = _data()
    pool = np.arange(300)
    for scaling in ("robust", "quantile"):
        z = scale_features(x, pool, scaling)
        assert np.abs(z).max() <= CLIP
        # order is kept within a feature
        assert np.all(np.diff(z[np.argsort(x[:, 0]), 0]) >= -1e-6)


def test_quantile_is_close_to_scikit_learns_normal_output():
    from sklearn.preprocessing import QuantileTransformer

    x = _data()[:, :2]
    pool = np.arange(300)
    ours = scale_features(x, pool, "quantile")
    theirs = QuantileTransformer(n_quantiles=300, output_distribution="normal").fit(x[pool])
    ref = np.clip(theirs.transform(x), -CLIP, CLIP)
    inner = np.abs(ref) < 2
    np.testing.assert_allclose(ours[inner], ref[inner], atol=0.05)


def test_prepare_rejects_unknown_scaling():
    x = _data()
    ds = Dataset.from_arrays(x, np.arange(len(x)) % 2)
    with pytest.raises(ValueError, match="scaling must be one of"):
        prepare(ds, make_split(ds.y, seed=0), device="cpu", scaling="minmax")


def _ple_reference(value: float, edges: np.ndarray) -> list[float]:
    """Gorishniy et al. (2022), eq. 1, one bin at a time, with the value clipped to the
    edges' range and bins of zero width left at 0."""
    out = []
    for lo, hi in itertools.pairwise(edges):
        if hi <= lo or value < lo:
            out.append(0.0)
        elif value >= hi:
            out.append(1.0)
        else:
            out.append((value - lo) / (hi - lo))
    return out


def test_piecewise_linear_matches_the_papers_definition():
    from nooverfit.data.tabular import PLE_BINS, ple_edges

    x = _data()
    pool = np.arange(300)
    z = scale_features(x, pool, "ple")
    edges = ple_edges(x[pool].astype(np.float64))
    assert z.shape == (len(x), x.shape[1] * PLE_BINS) and edges.shape == (3, PLE_BINS + 1)
    np.testing.assert_allclose(edges[1], np.quantile(x[pool, 1], np.linspace(0, 1, 9)))
    for row in (0, 5, 299, 350, 399):
        ref = [v for j in range(3) for v in _ple_reference(float(x[row, j]), edges[j])]
        np.testing.assert_allclose(z[row], ref, atol=1e-6)


def test_piecewise_linear_sums_to_the_bin_count_crossed():
    from nooverfit.data.tabular import piecewise_linear, ple_edges

    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 1))
    edges = ple_edges(x)
    z = piecewise_linear(edges[:, :, None].reshape(-1, 1), edges)  # each edge itself
    np.testing.assert_allclose(z.sum(1), np.arange(edges.shape[1]), atol=1e-6)
    # between edges: monotone in the value, saturated beyond the pool's range
    grid = np.linspace(-10, 10, 500)[:, None]
    total = piecewise_linear(grid, edges).sum(1)
    assert np.all(np.diff(total) >= -1e-9) and total[0] == 0 and total[-1] == edges.shape[1] - 1


def test_piecewise_linear_keeps_one_shape_for_binary_and_constant_features():
    from nooverfit.data.tabular import PLE_BINS

    x = np.zeros((100, 2), dtype=np.float32)
    x[::3, 0] = 1  # a one-hot column
    z = scale_features(x, np.arange(80), "ple")
    assert z.shape == (100, 2 * PLE_BINS)
    varying = [k for k in range(z.shape[1]) if z[:, k].std() > 0]
    assert len(varying) == 1  # the binary feature is itself once; the constant one is 0
    np.testing.assert_array_equal(z[:, varying[0]], x[:, 0])


def test_ple16_is_the_papers_encoding_with_16_bins():
    from nooverfit.data.fitted import apply_scaling
    from nooverfit.data.tabular import PLE_FINE_BINS, fit_scaling, ple_edges

    x = _data()
    pool = np.arange(300)
    z = scale_features(x, pool, "ple16")
    edges = ple_edges(x[pool].astype(np.float64), PLE_FINE_BINS)
    assert PLE_FINE_BINS == 16 and z.shape == (len(x), 3 * 16)
    np.testing.assert_allclose(edges[1], np.quantile(x[pool, 1], np.linspace(0, 1, 17)))
    for row in (0, 5, 299, 350, 399):
        ref = [v for j in range(3) for v in _ple_reference(float(x[row, j]), edges[j])]
        np.testing.assert_allclose(z[row], ref, atol=1e-6)
    # a saved model's record gives the training data back bit for bit
    np.testing.assert_array_equal(apply_scaling(x, fit_scaling(x, pool, "ple16")), z)
