"""The ``periodic`` encoding: each standardized, smoothly clipped feature and its sines and
cosines at fixed frequencies, fitted on the training pool only; binary features stay one
column."""

from __future__ import annotations

import numpy as np

from nooverfit.data.tabular import CLIP, FREQUENCIES, scale_features


def test_periodic_features_of_a_hand_computed_column():
    x = np.array([[0.0, 1.0], [1.0, 2.0], [0.0, 3.0], [1.0, 50.0]], dtype=np.float32)
    pool = np.array([0, 1, 2])  # row 3 is not in the pool: it does not move the statistics
    out = scale_features(x, pool, "periodic")
    assert out.shape == (4, 1 + 1 + 2 * len(FREQUENCIES))
    # the binary column: standardized on the pool (mean 1/3, std sqrt(2)/3), clipped smoothly
    z0 = (x[:, 0] - 1 / 3) / (np.sqrt(2) / 3)
    np.testing.assert_allclose(out[:, 0], z0 / np.sqrt(1 + (z0 / CLIP) ** 2), rtol=1e-5)
    # the numeric one: mean 2, std sqrt(2/3); row 3 far out is clipped below CLIP
    z = (x[:, 1] - 2) / np.sqrt(2 / 3)
    z = z / np.sqrt(1 + (z / CLIP) ** 2)
    np.testing.assert_allclose(out[:, 1], z, rtol=1e-5)
    angle = 2 * np.pi * z[:, None] * np.asarray(FREQUENCIES)
    np.testing.assert_allclose(out[:, 2 : 2 + len(FREQUENCIES)], np.sin(angle), atol=1e-6)
    np.testing.assert_allclose(out[:, 2 + len(FREQUENCIES) :], np.cos(angle), atol=1e-6)
    assert out[3, 1] < CLIP
