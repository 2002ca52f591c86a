import json
import math
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nooverfit._rules import diagnose
from nooverfit.cli import app
from nooverfit.cli._app import guard
from nooverfit.history import UnknownColumn
from nooverfit.logs import read_log
from nooverfit.stopping import replay

LOGS = Path(__file__).parent / "fixtures" / "logs"
runner = CliRunner()


def test_diagnose_prints_verdict_causes_remedies():
    result = runner.invoke(app, ["diagnose", str(LOGS / "keras_overfit.csv")])
    assert result.exit_code == 0, result.output
    d = diagnose(read_log(LOGS / "keras_overfit.csv"))
    assert "OVERFITTING" in result.output
    assert f"epoch {d.onset_epoch}" in result.output
    assert "early stopping" in result.output


def test_diagnose_prints_a_note_for_text_cells_and_keeps_the_verdict(tmp_path):
    lines = (LOGS / "keras_overfit.csv").read_text().splitlines()
    col = lines[0].split(",").index("val_loss")
    fields = lines[3].split(",")
    fields[col] = "abc"
    lines[3] = ",".join(fields)
    log = tmp_path / "log.csv"
    log.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["diagnose", str(log)])
    assert result.exit_code == 0, result.output
    note = "note: 1 cell of val_loss is not a number (line 4: 'abc'); read as missing"
    assert note in " ".join(result.output.split())
    assert (
        diagnose(read_log(log)).verdict == diagnose(read_log(LOGS / "keras_overfit.csv")).verdict
    )


def test_diagnose_json_matches_library():
    result = runner.invoke(app, ["diagnose", str(LOGS / "lightning_metrics.csv"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    d = diagnose(read_log(LOGS / "lightning_metrics.csv"))
    assert data["verdict"] == d.verdict.value
    assert data["onset_epoch"] == d.onset_epoch
    assert [c["kind"] for c in data["causes"]] == [c.kind for c in d.causes]


def test_diagnose_stopping_table_matches_replay():
    log = LOGS / "keras_overfit.csv"
    result = runner.invoke(app, ["diagnose", str(log), "--stopping", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["criterion"]: r for r in json.loads(result.output)["stopping"]}
    assert len(rows) == 11
    h = read_log(log)
    for spec in ("patience:5", "gl:5", "pq:0.5", "up:2"):
        ref = replay(spec, h.val_loss, h.loss)
        assert rows[spec]["stop_epoch"] == ref.stop_epoch
        assert rows[spec]["epochs_saved"] == ref.epochs_saved
    table = runner.invoke(app, ["diagnose", str(log), "--stopping"])
    assert "patience:20" in table.output and "epochs saved" in table.output


def test_diagnose_stopping_table_replays_the_validated_epochs_in_the_logs_numbering(tmp_path):
    """A Keras log validated every 4th epoch (epochs 3, 7, 11, ...): the table said
    patience:5 "stops at 5, keeps 0" (epoch 0 has no validation; it was given epoch 3's
    value) where ``watch --criterion patience:5`` on the same file says "fired at epoch 31;
    keep the weights of epoch 11"; and on a log of every 4th epoch of an 80-epoch run it
    counted "epochs saved" in rows (17 after a stop at epoch 11) rather than epochs (68)."""
    log = LOGS / "keras_validation_freq4.csv"
    h = read_log(log)
    result = runner.invoke(app, ["diagnose", str(log), "--stopping", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["criterion"]: r for r in json.loads(result.output)["stopping"]}
    validated = [i for i, v in enumerate(h.val_loss) if math.isfinite(v)]
    assert [h.epoch[i] for i in validated[:3]] == [3, 7, 11]
    for spec in ("patience:5", "gl:5", "up:2"):
        ref = replay(spec, [h.val_loss[i] for i in validated])  # what Keras's callback sees
        row = rows[spec]
        assert (row["stop_epoch"], row["kept_epoch"]) == (
            h.epoch[validated[ref.stop_epoch]],
            h.epoch[validated[ref.kept_epoch]],
        )
        assert row["epochs_saved"] == (h.epoch[-1] - row["stop_epoch"] if ref.fired else 0)
    assert (rows["patience:5"]["stop_epoch"], rows["patience:5"]["kept_epoch"]) == (31, 11)
    watched = runner.invoke(
        app,
        ["watch", str(log), "--criterion", "patience:5", "--idle", "0.2", "--interval", "0.05"],
    )
    assert "fired at epoch 31 (patience); keep the weights of epoch 11" in watched.output
    lines = (LOGS / "keras_overfit.csv").read_text().splitlines()
    thin = tmp_path / "thin.csv"  # epochs 0, 4, 8, ...: a log with validation_freq=4's rows
    thin.write_text("\n".join(lines[:1] + lines[1::4]) + "\n")
    t = read_log(thin)
    assert t.epoch[1] - t.epoch[0] == 4
    result = runner.invoke(app, ["diagnose", str(thin), "--stopping", "--json"])
    for row in json.loads(result.output)["stopping"]:
        assert row["epochs_saved"] == (t.epoch[-1] - row["stop_epoch"] if row["fired"] else 0)


def test_diagnose_plot_written(tmp_path):
    out = tmp_path / "plots" / "d.png"
    result = runner.invoke(app, ["diagnose", str(LOGS / "keras_overfit.csv"), "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_diagnose_unknown_columns_one_line_exit_2():
    result = runner.invoke(app, ["diagnose", str(LOGS / "generic.csv")])
    assert result.exit_code == 2
    assert "my_train_mse" in result.output and "--train-col" in result.output
    assert "Traceback" not in result.output


def test_diagnose_column_flags_map_names():
    result = runner.invoke(
        app,
        [
            "diagnose",
            str(LOGS / "generic.csv"),
            "--train-col",
            "my_train_mse",
            "--val-col",
            "my_valid_mse",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["verdict"] == "overfitting"


def test_diagnose_log_with_a_negative_epoch_one_line_exit_2(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,val_loss\n-1,1.0,1.1\n0,0.8,0.9\n1,0.6,0.8\n")
    result = runner.invoke(app, ["diagnose", str(log)])
    assert result.exit_code == 2
    assert "epoch must hold whole numbers >= 0, got -1" in result.output
    assert "Traceback" not in result.output


def test_diagnose_missing_file_exit_2(tmp_path):
    result = runner.invoke(app, ["diagnose", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
    # s29 i155: it named the file only, not what a log is
    assert " ".join(result.output.split()) == (
        f"error: log not found: {tmp_path / 'none.csv'}; expected a log file (CSV, JSON, "
        "JSONL, TensorBoard events) or a run folder"
    )


@pytest.mark.parametrize("header", ["epoch,foo,val_foo", "epoque,perte,val_perte", "val_perte"])
def test_a_log_of_curves_named_in_no_known_way_is_refused_not_diverged(tmp_path, header):
    """s29 i155: with no loss, no accuracy and no curve named as an error or a score, the
    rules saw no finite loss: "DIVERGING ... the loss was NaN from the first epoch"."""
    log = tmp_path / "log.csv"
    rows = [
        ",".join(f"{1 / (e + 1) + 0.1 * k:.3f}" for k in range(header.count(",") + 1))
        for e in range(8)
    ]
    log.write_text(header + "\n" + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["diagnose", str(log)])
    assert result.exit_code == 2, result.output
    assert len([x for x in result.output.splitlines() if x.strip()]) == 1
    said = " ".join(result.output.split())
    metric = header.split(",")[-1][4:]
    assert said.startswith("error: no loss or accuracy logged, and no curve named as an error")
    assert said.endswith(
        f"expected --train-col NAME --val-col NAME naming the loss columns, or --metric "
        f"{metric} to decide on val_{metric} as an error (lower is better)"
    )
    # either way named, the log is read
    named = runner.invoke(app, ["diagnose", str(log), "--metric", metric])
    assert named.exit_code == 0, named.output
    assert f"decided on val_{metric}" in " ".join(named.output.split())


def test_guard_reports_bad_input_but_lets_internal_errors_through():
    def raising(err: Exception):
        @guard
        def command() -> None:
            raise err

        return command

    for bad in (ValueError("lambda must be >= 0"), UnknownColumn("no column 'x'")):
        with pytest.raises(typer.Exit) as exit_info:
            raising(bad)()
        assert exit_info.value.exit_code == 2
    for bug in (KeyError("internal"), TypeError("internal")):  # a bug keeps its traceback
        with pytest.raises(type(bug)):
            raising(bug)()


def test_unknown_metric_column_is_one_line_exit_2(tmp_path):
    log = tmp_path / "log.csv"
    log.write_text("epoch,loss,val_loss\n0,1.0,1.1\n1,0.5,0.6\n2,0.4,0.7\n")
    result = runner.invoke(app, ["diagnose", str(log), "--metric", "auc"])
    assert result.exit_code == 2
    assert "auc" in result.output and "Traceback" not in result.output


def test_diagnose_folder_prints_run_names_and_errors_as_text(tmp_path):
    # brackets in a run's name or its error are not rich markup: kept, and no crash
    for name in ("good[a]", "bad[b]"):
        (tmp_path / name).mkdir()
    (tmp_path / "good[a]" / "training.log").write_text((LOGS / "keras_overfit.csv").read_text())
    (tmp_path / "bad[b]" / "training.log").write_text("epoch,loss[/y]\n0,oops\n")
    result = runner.invoke(app, ["diagnose", str(tmp_path)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "good[a]" in result.output and "bad[b]/training.log:" in result.output
    assert "loss[/y]" in result.output


def test_diagnose_plot_of_an_unknown_format_is_refused_before_reading(tmp_path):
    plot = tmp_path / "curves.txt"
    result = runner.invoke(app, ["diagnose", str(LOGS / "keras_overfit.csv"), "--plot", str(plot)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "--plot" in lines[0] and ".png" in lines[0]
    assert "OVERFITTING" not in result.output and not plot.exists()
    svg = tmp_path / "curves.svg"  # the suffix chooses the format
    assert (
        runner.invoke(
            app, ["diagnose", str(LOGS / "keras_overfit.csv"), "--plot", str(svg)]
        ).exit_code
        == 0
    )
    assert svg.read_text().lstrip().startswith("<?xml") and list(tmp_path.iterdir()) == [svg]


def test_diagnose_plot_refuses_an_existing_file_before_reading_unless_overwrite(tmp_path):
    """train, pretrain and predict refuse to write over an earlier output without
    --overwrite; --plot wrote over one silently."""
    plot = tmp_path / "curves.png"
    plot.write_bytes(b"an earlier figure")
    missing = tmp_path / "no_such_log.csv"  # the check comes before the log is read
    for log in (LOGS / "keras_overfit.csv", missing):
        result = runner.invoke(app, ["diagnose", str(log), "--plot", str(plot)])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (
            f"error: {plot} already exists; choose another --plot or pass --overwrite to "
            "replace it"
        )
        assert len(result.output.strip().splitlines()) == 1
        assert plot.read_bytes() == b"an earlier figure"
    result = runner.invoke(
        app, ["diagnose", str(LOGS / "keras_overfit.csv"), "--plot", str(plot), "--overwrite"]
    )
    assert result.exit_code == 0, result.output
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and f"wrote {plot}" in result.output
    fresh = tmp_path / "fresh.png"  # a new file needs no --overwrite
    result = runner.invoke(
        app, ["diagnose", str(LOGS / "keras_overfit.csv"), "--plot", str(fresh)]
    )
    assert result.exit_code == 0 and fresh.read_bytes().startswith(b"\x89PNG")


def test_the_log_path_heads_the_verdict_whole_and_as_written(tmp_path):
    # a Lightning run's path is long and may hold brackets: rich read "[1]" as markup
    # and wrapped the path at 80 columns, mid-word ("metrics.c" / "sv")
    folder = tmp_path / ("lightning_logs_of_a_rather_long_experiment_name" * 2) / "run[1]"
    folder.mkdir(parents=True)
    log = folder / "metrics.csv"
    log.write_text((LOGS / "keras_overfit.csv").read_text())
    result = runner.invoke(app, ["diagnose", str(log)])
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first == f"OVERFITTING  {log}"


def test_a_folder_of_runs_is_named_as_written(tmp_path):
    folder = tmp_path / "sweep[lr]"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text((LOGS / "keras_overfit.csv").read_text())
    result = runner.invoke(app, ["diagnose", str(folder)])
    assert result.exit_code == 0, result.output
    assert "sweep[lr]" in "".join(result.output.split())


def test_a_log_without_validation_names_no_curve_decided_on(tmp_path):
    """A log of training values alone has no validation curve: the table must not say the
    verdict was decided on ``val_accuracy``, a column the log does not hold."""
    log = tmp_path / "train_only.csv"
    log.write_text("epoch,loss,accuracy\n0,1.2,0.5\n1,1.0,0.6\n2,0.9,0.7\n")
    result = runner.invoke(app, ["diagnose", str(log)])
    assert result.exit_code == 0
    assert "INSUFFICIENT EVIDENCE" in result.output
    assert "decided on" not in result.output
    with_metric = tmp_path / "accuracy_only.csv"
    with_metric.write_text(
        "epoch,accuracy,val_accuracy\n0,0.5,0.5\n1,0.6,0.55\n2,0.7,0.6\n3,0.8,0.62\n"
    )
    shown = runner.invoke(app, ["diagnose", str(with_metric)])
    assert "val_accuracy (no validation loss logged)" in shown.output


def test_diagnose_help_lists_every_format_the_reader_accepts():
    from nooverfit.logs import FORMATS

    result = CliRunner().invoke(app, ["diagnose", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.replace("│", " ").split())
    assert ", ".join(FORMATS) in text


@pytest.mark.parametrize(("empty", "kept"), [("loss", "val_loss"), ("val_loss", "loss")])
def test_a_loss_column_without_a_number_is_said_not_silently_dropped(tmp_path, empty, kept):
    """s29 i155: a training loss all NaN gave "STILL IMPROVING" on validation alone with no
    word of it; a validation loss all NaN was said missing, "columns found: loss"."""
    log = tmp_path / "log.csv"
    rows = "".join(f"{e},{1 / (e + 1) + 0.1:.4f}\n" for e in range(10))
    log.write_text(f"epoch,{kept},{empty}\n" + rows.replace("\n", ",nan\n"))
    result = runner.invoke(app, ["diagnose", str(log)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        f"note: {empty} holds no number in any epoch (each cell missing, not a number or "
        "infinite)" in said
    )
    assert read_log(log).notes == (
        f"{empty} holds no number in any epoch (each cell missing, not a number or infinite)",
    )


def test_a_studys_results_json_is_refused_not_diagnosed_as_diverged(tmp_path):
    """s29 i155: ``nooverfit diagnose study/results.json`` read its lists of objects
    (val_curves, splits) as curves of no number: "DIVERGING ... the loss was NaN from the
    first epoch"."""
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {
                "schema_version": 2,
                "settings": {"data": "digits"},
                "splits": [{"train": [0, 1]}],
                "val_curves": [{"label": "baseline", "val_loss": [1.0, 0.9]}] * 3,
            }
        )
    )
    result = runner.invoke(app, ["diagnose", str(results)])
    assert result.exit_code == 2, result.output
    assert " ".join(result.output.split()) == (
        f"error: {results} is a nooverfit study's results, not a training log; expected a "
        "run's log (its histories/ folder's CSV files), or the study's folder to diagnose "
        "each run"
    )


def test_diagnose_refuses_one_column_as_both_curves():
    # i165: --train-col loss --val-col loss diagnosed a run whose curves were one (exit 0)
    log = str(LOGS / "keras_overfit.csv")
    result = runner.invoke(app, ["diagnose", log, "--train-col", "loss", "--val-col", "loss"])
    assert result.exit_code == 2, result.output
    assert result.output == (
        "error: --train-col and --val-col both name 'loss'; expected two columns, the "
        "training loss and the validation loss\n"
    )


def test_diagnose_shows_each_figure_one_way_in_its_table_and_its_text(tmp_path):
    """s31 i168: the table said "+9.6% val loss (GL)" and "0.2366 at end" where the text
    said "ended 10% worse" and "trails training by 0.237 in loss". By hand: val_loss falls
    to 1.0 at epoch 6 and ends at 1.296 (GL = 100 * (1.296 / 1.0 - 1) = 29.6 %); training
    ends at 0.0594, a gap of 1.296 - 0.0594 = 1.2366 (0.3 at the best epoch)."""
    val = [2.0, 1.6, 1.3, 1.15, 1.07, 1.02, 1.0, 1.01, 1.03, 1.06, 1.09, 1.12, 1.15, 1.18]
    val += [1.21, 1.24, 1.27, 1.296]
    train = [1.9, 1.5, 1.2, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.42, 0.36, 0.3, 0.25, 0.2, 0.15]
    train += [0.1, 0.08, 0.0594]
    log = tmp_path / "log.csv"
    rows = [f"{i},{t},{v}" for i, (t, v) in enumerate(zip(train, val, strict=True))]
    log.write_text("epoch,loss,val_loss\n" + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["diagnose", str(log)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert text.startswith("OVERFITTING")
    assert "last vs best +29.6% val loss (GL)" in text
    assert "it ended 29.6% worse than its best" in text
    assert "the validation loss was 29.6% above that lowest value" in text
    assert "loss gap 0.3 at best, 1.24 at end" in text
    assert "validation trails training by 1.24 in loss" in text
