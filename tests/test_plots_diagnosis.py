from pathlib import Path

import numpy as np
import pytest

from nooverfit._rules import diagnose
from nooverfit.logs import read_log
from nooverfit.plots.diagnosis import plot_diagnosis

LOGS = Path(__file__).parent / "fixtures" / "logs"


def test_plot_diagnosis_marks_onset_best_and_region(tmp_path):
    h = read_log(LOGS / "keras_overfit.csv")
    d = diagnose(h)
    fig = plot_diagnosis(h, d)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert np.allclose(lines["val loss"].get_ydata(), h.val_loss)
    assert np.allclose(lines["loss"].get_ydata(), h.loss)
    assert lines[f"onset (epoch {d.onset_epoch})"].get_xdata()[0] == d.onset_epoch
    assert lines[f"best (epoch {d.best_epoch})"].get_xdata()[0] == d.best_epoch
    (span,) = [p for p in ax.patches if p.get_label() == "overfitting"]
    start, end = span.get_x(), span.get_x() + span.get_width()
    assert start == pytest.approx(d.onset_epoch) and end == pytest.approx(h.epoch[-1])
    fig.savefig(tmp_path / "d.png")
    assert (tmp_path / "d.png").stat().st_size > 0


def test_plot_diagnosis_draws_on_given_axes_without_region_for_good_fit():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = read_log(LOGS / "keras_overfit.csv").head(8)
    d = diagnose(h)
    fig, axes = plt.subplots(1, 2)
    assert plot_diagnosis(h, d, ax=axes[1]) is fig
    assert not [p for p in axes[1].patches if p.get_label() == "overfitting"]
    assert not axes[0].get_lines()
