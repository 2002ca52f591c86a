"""The input-encoding remedy of a study on tabular data: its runs train on the encoded
features of their own seed's split, and are tested and rebuilt on the same encoding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import TINY, toy_tabular_session
from nooverfit.config import RunConfig
from nooverfit.data.tabular import PLE_BINS, scale_features


@pytest.fixture(scope="module")
def session():
    yield from toy_tabular_session(0)


def test_encoded_runs_train_and_test_on_their_own_encoding(session):
    base = RunConfig(width=16, epochs=3)
    ple = base.replace(inputs="ple", label="inputs ple")
    session.train([base, ple])  # two input widths: two batches
    for seed in session.seeds:
        split = session.data[seed].split
        encoded = session.split_data(ple.replace(seed=seed))
        expected = scale_features(session.dataset.x, split.pool, "ple")
        np.testing.assert_allclose(encoded.x.numpy(), expected)
        assert encoded.in_shape == (5 * PLE_BINS,)
        assert session.split_data(base.replace(seed=seed)) is session.data[seed]
        model = session.model(ple.replace(seed=seed))
        first = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
        assert first.in_features == 5 * PLE_BINS
    variant = session.variant(ple, "inputs", base)
    assert variant.name == "inputs ple"
    # the test score is the rebuilt network's on the encoded test rows
    test = session.test(variant)
    for seed, acc in zip(session.seeds, test.per_seed, strict=True):
        data = session.split_data(ple.replace(seed=seed))
        model = session.model(ple.replace(seed=seed)).eval()
        with torch.no_grad():
            pred = model(data.x[data.test_index]).argmax(1)
        assert acc == pytest.approx(float((pred == data.y[data.test_index]).float().mean()))


def test_a_tabular_study_tries_the_encoding_and_reports_it(tmp_path):
    from nooverfit.studies import study

    result = study(
        "synthetic", budget=TINY, seeds=2, train_per_class=None, engine="fused", device="cpu"
    )
    (outcome,) = [o for o in result.remedies if o.remedy == "inputs"]
    assert outcome.chosen.name == "inputs ple" and outcome.chosen.config.inputs == "ple"
    assert sum(r.config.inputs == "ple" for r in result.runs.values()) == 2  # one per seed
    # saved results read back with the encoding of each run
    assert result.to_dict()["runs"][outcome.chosen.runs[0]]["config"]["inputs"] == "ple"


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError, match="scaling must be one of"):
        RunConfig(inputs="magic")
