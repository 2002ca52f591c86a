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


@pytest.mark.parametrize("scaling", ["standard", "robust", "quantile"])
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
