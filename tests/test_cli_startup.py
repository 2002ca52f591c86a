"""The command line starts without the heavy libraries; the package root re-exports lazily."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import nooverfit
from nooverfit.cli import app

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("torch", "sklearn", "optuna", "matplotlib", "scipy", "jinja2", "numpy")
LOG = Path(__file__).parent / "fixtures" / "logs" / "keras_overfit.csv"
runner = CliRunner()


def _loaded_after(code: str) -> dict[str, bool]:
    """Which heavy modules a fresh interpreter has imported after running ``code``."""
    report = f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    probe = f"{code}\nimport json, sys\n{report}"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_cli_import_loads_no_heavy_module():
    loaded = _loaded_after("import nooverfit.cli")
    assert not any(loaded.values()), loaded


def test_cli_diagnose_runs_without_torch():
    code = (
        "import sys\nfrom nooverfit.cli import app\n"
        f"try:\n    app(['diagnose', {str(LOG)!r}])\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code"
    )
    loaded = _loaded_after(code)
    assert not loaded["torch"] and not loaded["sklearn"] and not loaded["optuna"], loaded


def test_root_all_sorted_and_matches_exports():
    assert nooverfit.__all__ == sorted(nooverfit.__all__)
    assert set(nooverfit.__all__) == set(nooverfit._EXPORTS)


def test_dir_of_the_package_lists_its_public_names_not_its_own_imports():
    listed = dir(nooverfit)
    assert set(nooverfit.__all__) <= set(listed) and "__version__" in listed
    for internal in ("Any", "TYPE_CHECKING", "annotations", "importlib", "sys", "types"):
        assert internal not in listed


@pytest.mark.parametrize("name", nooverfit.__all__)
def test_root_every_name_imports(name):
    namespace: dict[str, object] = {}
    exec(f"from nooverfit import {name}", namespace)
    module = __import__(nooverfit._EXPORTS[name], fromlist=[name])
    assert namespace[name] is getattr(module, name)


def test_root_function_wins_over_a_submodule_of_its_name():
    import types

    from nooverfit import diagnose

    # What the import system does when a submodule named like a public function loads.
    nooverfit.diagnose = types.ModuleType("nooverfit.diagnose")
    assert nooverfit.diagnose is diagnose and callable(diagnose)


def test_root_subpackage_and_unknown_name():
    assert nooverfit.data.load_split.__name__ == "load_split"
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = nooverfit.no_such_name


def test_version_prints_the_version_and_the_file_formats_it_reads():
    """The version stays 0.1.0 between releases while the files' layouts change: --version
    gives both, the formats as the readers check them, and loads no heavy module."""
    from nooverfit.data.synthesize import MANIFEST_FORMAT
    from nooverfit.saved_card import FORMAT as CARD
    from nooverfit.studies.results_file import SCHEMA_VERSION
    from nooverfit.train_run import METRICS_FORMAT
    from nooverfit.transfer.seen import FORMAT as SOURCE
    from nooverfit.tune.result import BEST_FORMAT

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"nooverfit {nooverfit.__version__}",
        f"file formats: results.json schema_version {SCHEMA_VERSION}, best_model.json format "
        f"{CARD}, pretrained sources {SOURCE}, train metrics.json format {METRICS_FORMAT}, "
        f"tune best.json format {BEST_FORMAT}, synthesize manifest.csv format "
        f"{MANIFEST_FORMAT} (older ones are read, newer ones refused)",
    ]
    assert (SCHEMA_VERSION, CARD, SOURCE, METRICS_FORMAT, BEST_FORMAT, MANIFEST_FORMAT) == (
        2,
        2,
        "nooverfit-source/2",
        1,
        2,
        1,
    )
    code = (
        "from nooverfit.cli import app\ntry:\n    app(['--version'])\nexcept SystemExit:\n    pass"
    )
    assert not any(_loaded_after(code).values())


def test_common_options_after_command():
    before = runner.invoke(app, ["--threads", "1", "diagnose", str(LOG), "--json"])
    after = runner.invoke(app, ["diagnose", str(LOG), "--json", "--threads", "1"])
    assert before.exit_code == after.exit_code == 0, after.output
    assert json.loads(after.output) == json.loads(before.output)


def test_quiet_prints_nothing_but_errors():
    quiet = runner.invoke(app, ["diagnose", str(LOG), "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""
    missing = runner.invoke(app, ["diagnose", "missing.csv", "-q"])
    assert missing.exit_code == 2 and "missing.csv" in missing.output


@pytest.mark.parametrize("command", ["diagnose", "study", "train", "tune", "watch"])
def test_help_shows_flags_without_a_value(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--quiet" in result.output and "--verbose" in result.output
    assert "--threads" in result.output
    assert "<bool>" not in result.output


@pytest.mark.parametrize("command", ["diagnose", "study", "watch", "predict", "synthesize"])
def test_quiet_mentions_json_output_only_where_the_command_has_json(command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    has_json = "--json" in result.output
    assert has_json is (command in ("diagnose", "study"))
    quiet = next(line for line in result.output.splitlines() if "--quiet" in line)
    assert ("(and --json output)" in quiet) is has_json, quiet
