"""The report's "Reproduce" lines: the command line and the Python call that repeat the
study, with its data options; the CLI parses the line back into the same options."""

from nooverfit.report_reproduce import reproduce


def test_reproduce_prefers_the_command_the_cli_ran(tiny_study):
    result, _ = tiny_study
    rebuilt = reproduce(result)["command"]
    assert rebuilt.startswith("nooverfit study --data digits")
    assert f"--seeds {len(result.settings.seeds)}" in rebuilt
    assert "--width 16" in rebuilt


def test_the_report_repeats_the_call_the_study_was_made_with(tiny_study):
    result, _ = tiny_study
    python = reproduce(result)["python"]
    assert python.startswith("nooverfit.study('digits', width=16, train_per_class=10, budget=")
    assert "seeds=2, engine='sequential'" in python


def test_the_python_line_repeats_the_study_with_its_data_options():
    from nooverfit.studies.options import StudyOptions

    opts = StudyOptions(seeds=2, classes="5-9", train_per_class=None, model_factory=len)
    assert opts.call("csv:a.csv", {"target": "y", "data_dir": None}) == (
        "nooverfit.study('csv:a.csv', train_per_class=None, seeds=2, classes='5-9', "
        "model_factory=..., target='y')"
    )
    assert StudyOptions().call("digits", {}) == "nooverfit.study('digits')"


def test_a_python_study_gets_the_command_line_that_repeats_it():
    """A study run from Python records the ``nooverfit study`` line with its data options
    (it lacked ``--target``, so the report's command failed); the CLI parses that line
    back into the same options."""
    import shlex

    import typer

    from nooverfit.cli import app
    from nooverfit.studies.options import StudyOptions

    opts = StudyOptions(seeds=2, train_per_class=None, epochs=5, classic=False, classes="5-9")
    data = {"target": "y", "ignore": ["id", "name"], "download": False, "data_dir": None}
    line = opts.command("csv:my data.csv", data)
    assert line == (
        "nooverfit study --data 'csv:my data.csv' --train-per-class 0 --epochs 5 "
        "--classes 5-9 --no-classic --seeds 2 --target y --ignore id,name"
    )
    study = typer.main.get_command(app).commands["study"]  # type: ignore[attr-defined]
    params = study.make_context("study", shlex.split(line)[2:]).params
    assert (params["data"], params["target"], params["ignore"]) == (
        "csv:my data.csv",
        "y",
        "id,name",
    )
    assert (params["train_per_class"], params["epochs"], params["seeds"]) == (0, 5, 2)
    assert (params["classes"], params["classic"]) == ("5-9", False)
    # what a command line cannot say: no line rather than a wrong one
    assert StudyOptions(model_factory=len).command("digits", {}) is None
    assert StudyOptions(seeds=[3, 4]).command("digits", {}) is None
    assert StudyOptions().command("digits", {"image_size": 8}) is None
    assert StudyOptions().command("digits", {}) == "nooverfit study --data digits"


def test_the_command_ends_with_the_threads_the_runs_trained_with(tiny_study):
    """s31 i168: the report's command left out --threads (a shared option, never in the
    line the CLI records), though torch's CPU threads set the order of float sums: repeated
    with another count, a run ends a few 1e-8 away in loss. Results written before the
    threads were recorded get no --threads rather than a guessed one."""
    import dataclasses

    result, _ = tiny_study
    threads = result.extras["threads"]
    assert isinstance(threads, int) and threads >= 1
    assert reproduce(result)["command"].endswith(f" --threads {threads}")
    one = dataclasses.replace(result, extras={**result.extras, "threads": 1})
    assert reproduce(one)["command"].endswith(" --threads 1")
    older = {k: v for k, v in result.extras.items() if k != "threads"}
    assert "--threads" not in reproduce(dataclasses.replace(result, extras=older))["command"]


def test_a_cli_study_records_the_threads_it_was_given(tmp_path):
    """``nooverfit study --threads 1``: results.json records 1 and the report's command
    ends with it; the CLI parses that line back into the same study options."""
    import json
    import shlex

    import torch
    import typer
    from typer.testing import CliRunner

    from nooverfit.cli import app

    args = ["study", "--train-per-class", "5", "--width", "8", "--seeds", "1", "--epochs", "1"]
    args += ["--no-classic", "--out", str(tmp_path / "s")]
    before = torch.get_num_threads()
    try:
        result = CliRunner().invoke(app, [*args, "--threads", "1"])
    finally:
        torch.set_num_threads(before)  # the option sets the process's count
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "s" / "results.json").read_text())
    assert saved["extras"]["threads"] == 1
    line = saved["extras"]["command"] + " --threads 1"
    assert line in (tmp_path / "s" / "report.html").read_text()
    root = typer.main.get_command(app)
    # resilient: parsed without the callbacks (--threads would set the process's count)
    ctx = root.make_context("nooverfit", ["study"], resilient_parsing=True)
    study = root.get_command(ctx, "study")  # type: ignore[attr-defined]
    params = study.make_context("study", shlex.split(line)[2:], resilient_parsing=True).params
    assert (params["width"], params["seeds"], params["epochs"]) == (8, 1, 1)
    assert "threads" not in params  # the shared option parsed; not the function's
