"""``bench/_digits_refs.py``: the digits protocol's references fit on the pixels as they are."""

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from _digits_refs import raw_references
from _tabular_refs import SVC_C, SVC_GAMMA


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    return order[: n // 2], order[n // 2 : 3 * n // 4], order[3 * n // 4 :]


def test_the_svc_is_chosen_on_validation_among_absolute_gammas_on_raw_pixels():
    digits = load_digits()
    x, y = digits.data[:240] / 16, digits.target[:240]
    idx = _split(len(y), seed=0)
    found = raw_references(x, y, idx, seed=0)
    assert set(found) == {"logistic", "svc", "forest", "boosting"}
    # By hand: every (C, gamma) on the raw pixels, the first best on validation kept.
    scores = [
        (SVC(C=c, gamma=g).fit(x[idx[0]], y[idx[0]]).score(x[idx[1]], y[idx[1]]), c, g)
        for c in SVC_C
        for g in SVC_GAMMA
    ]
    best = max(s for s, _, _ in scores)
    _, c, g = next(t for t in scores if t[0] == best)
    assert (found["svc"]["C"], found["svc"]["gamma"]) == (c, g)
    assert found["svc"]["val"] == best
    chosen = SVC(C=c, gamma=g).fit(x[idx[0]], y[idx[0]])
    assert found["svc"]["test"] == chosen.score(x[idx[2]], y[idx[2]])
