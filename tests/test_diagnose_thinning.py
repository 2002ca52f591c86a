"""Issue 15: logging or validating every second (or third) epoch must not change the
verdict. Real design-corpus runs, thinned the way frameworks thin a log, in both phases
(the first evaluation kept, or dropped as with Lightning's ``check_val_every_n_epoch=2``).

``tests/data/design_0046_good_fit_wave_tensorboard`` is run 0046 of the rebuilt corpus's
design part (a SummaryWriter log, MSE regression on ``wave``, 45 epochs), labelled good_fit
by construction and by its test curve (``..._test_curve.json``, which the diagnosis never
sees): the test loss set its lowest value at epoch 38 and never got below it again. Its
validation loss reached 0.133 at epoch 24 and wandered between 0.134 and 0.156 for the
last twenty epochs; over the last third its least-squares line tilts down by 8 % of its
level, by 2.3 standard errors of the slope but only 1.9 residual standard deviations.
Until i98 the still-improving test counted standard errors (a t statistic, which grows
with the square root of the number of evaluations) and called the run STILL_IMPROVING,
while the same run validated every second or third epoch read GOOD_FIT. The test now
counts residual standard deviations (:func:`nooverfit._curves.tail_clearance`), which
stay put when evaluations are dropped.
"""

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nooverfit import diagnose
from nooverfit._curves import tail_clearance, tail_significance
from nooverfit.diagnosis import Verdict
from nooverfit.history import History
from nooverfit.logs import read_log

DATA = Path(__file__).parent / "data"
WAVE = DATA / "design_0046_good_fit_wave_tensorboard"


def _columns(h: History) -> dict[str, list[float]]:
    names = ("loss", "accuracy", "val_loss", "val_accuracy")
    core = {name: list(h.column(name)) for name in names}
    return core | {name: list(values) for name, values in h.extras.items()}


def thinned_rows(h: History, every: int, first: bool) -> History:
    """Every ``every``-th evaluation's row kept, starting with the first evaluation
    (``first``) or the second; rows without a validation value are kept."""
    validated = [i for i, v in enumerate(h.val_loss) if v == v]
    kept = set(validated[(0 if first else 1) :: every])
    rows = [i for i in range(len(h)) if i in kept or i not in validated]
    columns = _columns(h)
    return History.from_columns(
        {name: [values[i] for i in rows] for name, values in columns.items()},
        epoch=[h.epoch[i] for i in rows],
    )


def thinned_evaluations(h: History, every: int, first: bool) -> History:
    """Every ``every``-th evaluation kept (as :func:`thinned_rows`), every training value
    kept: a run validated every second or third epoch."""
    validated = [i for i, v in enumerate(h.val_loss) if v == v]
    dropped = set(validated) - set(validated[(0 if first else 1) :: every])
    columns = _columns(h)
    for name in [k for k in columns if k.startswith("val_")]:
        columns[name] = [math.nan if i in dropped else v for i, v in enumerate(columns[name])]
    return History.from_columns(columns, epoch=list(h.epoch))


def test_the_wave_runs_test_curve_confirms_its_label():
    """The corpus labeller's rule: a test curve is still improving only where its lowest
    value lies in its last two evaluations; this one set it at epoch 38 of 45."""
    test = json.loads((DATA / "design_0046_good_fit_wave_tensorboard_test_curve.json").read_text())
    curve = np.asarray(test["test"])
    assert test["label"] == "good_fit"
    assert int(np.argmin(curve)) == 38 < len(curve) - 2


def test_the_wave_runs_validation_falls_within_its_noise():
    """What the rule reads: over the last third, the line falls by more than two standard
    errors of its slope (a t statistic, 2.33; every second evaluation alone: 1.22) but by
    less than two residual standard deviations (1.89)."""
    val = np.asarray(read_log(WAVE).val_loss)
    assert tail_significance(val) == pytest.approx(2.33, abs=0.01)
    assert tail_significance(val[::2]) == pytest.approx(1.22, abs=0.01)
    assert tail_clearance(val) == pytest.approx(1.89, abs=0.01)


THINNINGS = [(thinned_rows, 1, True)] + [
    (thin, every, first)
    for thin in (thinned_rows, thinned_evaluations)
    for every in (2, 3)
    for first in (True, False)
]


@pytest.mark.parametrize(("thin", "every", "first"), THINNINGS)
def test_a_good_fit_on_a_noisy_plateau_reads_good_fit_however_often_validated(thin, every, first):
    """The log as written (every 1), and every second or third evaluation kept, with or
    without its training rows, starting at the first evaluation or the second."""
    h = read_log(WAVE)
    thinned = thin(h, every, first)
    d = diagnose(thinned)
    assert d.verdict is Verdict.GOOD_FIT, d.explanation
    # the best epoch stays the lowest validation loss logged (epoch 24 where it is kept)
    val = np.asarray(thinned.val_loss, dtype=float)
    assert d.best_epoch == thinned.epoch[int(np.nanargmin(val))]
    validated = [e for e, v in zip(thinned.epoch, val, strict=True) if v == v]
    assert d.best_epoch == 24 or 24 not in validated


def _bench():
    path = Path(__file__).parents[1] / "bench" / "diagnose_metamorphic.py"
    spec = importlib.util.spec_from_file_location("diagnose_metamorphic", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("every", [2, 3])
@pytest.mark.parametrize("first", [True, False])
def test_the_metamorphic_bench_thins_as_a_logger_would(every, first):
    """``bench/diagnose_metamorphic.py``'s thinnings, on design run 0011 (a SummaryWriter
    log whose training loss was written every few epochs, its last three epochs holding
    a validation loss alone): the first evaluation is kept or dropped as asked, and a row
    left with no value is dropped as a logger writes none. Until i98 those rows stayed,
    all NaN, and read as a loss that became NaN and stayed NaN (DIVERGING), a flip that
    no real log shows."""
    bench = _bench()
    h = read_log(DATA / "design_0011_good_fit_tensorboard")
    validated = [e for e, v in zip(h.epoch, h.val_loss, strict=True) if v == v]
    for thinned in (bench.fewer_evaluations(h, every, first), bench.halved(h, first)):
        kept = [e for e, v in zip(thinned.epoch, thinned.val_loss, strict=True) if v == v]
        assert kept[0] == validated[0 if first else 1]
        assert all(math.isfinite(v) for v in thinned.val_loss + thinned.loss if v == v)
        for i in range(len(thinned)):
            row = [thinned.column(name)[i] for name in thinned.columns()[1:]]
            assert any(v == v for v in row), thinned.epoch[i]
    assert diagnose(bench.fewer_evaluations(h, every, first)).verdict is diagnose(h).verdict
