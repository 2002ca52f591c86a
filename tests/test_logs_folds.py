"""A CSV holding the folds of a cross-validation one after another (``fold,epoch,...``):
the note names the column that tells the runs apart and the fold diagnosed, and the
column is no curve (before: "a restarted run", and ``fold`` read as a metric)."""

from __future__ import annotations

import numpy as np

from nooverfit import diagnose
from nooverfit.logs import read_log


def _folds(path, key="fold", folds=5, epochs=30):
    ep = np.arange(epochs)
    lines = [f"{key},epoch,loss,val_loss"]
    for k in range(folds):
        train = 2.0 * np.exp(-ep / 6) + 0.01 + 0.01 * k
        val = 0.6 + 0.5 * np.exp(-ep / 5) + 0.004 * np.maximum(0, ep - 15) ** 1.5 + 0.02 * k
        lines += [f"{k + 1},{e},{a:.5f},{b:.5f}" for e, a, b in zip(ep, train, val, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return train, val


def test_the_folds_column_is_named_and_the_last_fold_diagnosed(tmp_path):
    train, val = _folds(tmp_path / "cv.csv")
    h = read_log(tmp_path / "cv.csv")
    np.testing.assert_allclose(h.loss, train, atol=1e-5)
    np.testing.assert_allclose(h.val_loss, val, atol=1e-5)
    assert "fold" not in h.columns()
    (note,) = [n for n in h.notes if "restarted run" in n]
    assert "(5 runs told apart by 'fold': 1-5)" in note
    assert "diagnosing the last run only, fold 5 (30 of 150 rows)" in note
    assert diagnose(h).verdict.value == "overfitting"


def test_two_seeds_are_named_as_two(tmp_path):
    _folds(tmp_path / "s.csv", key="seed", folds=2)
    (note,) = [n for n in read_log(tmp_path / "s.csv").notes if "restarted run" in n]
    assert "(2 runs told apart by 'seed': 1, 2)" in note


def test_a_plain_restart_keeps_its_words(tmp_path):
    ep = np.arange(10)
    rows = [f"{e},{1 / (e + 1):.4f},{0.5 + 0.01 * e:.4f}" for e in [*ep, *ep]]
    (tmp_path / "r.csv").write_text("epoch,loss,val_loss\n" + "\n".join(rows) + "\n")
    (note,) = [n for n in read_log(tmp_path / "r.csv").notes if "restarted" in n]
    assert note == (
        "the epoch goes back from 9 to 0 at line 12: a restarted run; "
        "diagnosing the last run only (10 of 20 rows)"
    )


def test_a_run_column_named_as_words_or_capitals_is_named_too(tmp_path):
    """``Run ID`` and ``runId`` are no curve (read as ``run_id``): the note names them as it
    names ``run_id``. Before, the note said only 'a restarted run'."""
    for key in ("Run ID", "runId"):
        _folds(tmp_path / "r.csv", key=key, folds=3)
        h = read_log(tmp_path / "r.csv")
        assert not any("run" in c for c in h.columns())  # no curve
        (note,) = [n for n in h.notes if "restarted run" in n]
        assert f"(3 runs told apart by '{key}': 1-3)" in note
        assert f"diagnosing the last run only, {key} 3 (30 of 90 rows)" in note
