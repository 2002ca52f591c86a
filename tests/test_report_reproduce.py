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
