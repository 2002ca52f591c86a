"""Prechelt's GL of a run validated once: its one validation is both the last and the best,
so GL = 100 * (1.3 / 1.3 - 1) = 0; it was NaN (computed only with the evidence of three
evaluations, or for a diverging run, and there refused under two values). The verdict
stays insufficient evidence."""

from __future__ import annotations

import json
import math

from typer.testing import CliRunner

from nooverfit import diagnose
from nooverfit.cli import app
from nooverfit.diagnosis import Verdict
from nooverfit.history import History

runner = CliRunner()


def test_one_epoch_history_has_gl_zero():
    d = diagnose(History.from_columns({"loss": [1.2], "val_loss": [1.3]}))
    assert d.verdict is Verdict.INSUFFICIENT_EVIDENCE
    assert d.generalization_loss == 0.0


def test_one_finite_validation_among_two_epochs_has_gl_zero():
    h = History.from_columns({"loss": [1.2, 1.0], "val_loss": [1.3, math.nan]})
    assert diagnose(h).generalization_loss == 0.0


def test_no_validation_loss_leaves_gl_unknown():
    d = diagnose(History.from_columns({"loss": [1.2]}))
    assert math.isnan(d.generalization_loss)


def test_cli_diagnose_of_a_one_row_csv_says_gl_zero(tmp_path):
    log = tmp_path / "one.csv"
    log.write_text("epoch,loss,val_loss,accuracy,val_accuracy\n0,1.2,1.3,0.5,0.45\n")
    data = json.loads(runner.invoke(app, ["diagnose", str(log), "--json"]).stdout)
    assert data["verdict"] == "insufficient_evidence"
    assert data["generalization_loss"] == 0.0
    result = runner.invoke(app, ["diagnose", str(log)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "+0.0% val loss (GL)" in result.stdout
    assert "nan" not in result.stdout.lower()
