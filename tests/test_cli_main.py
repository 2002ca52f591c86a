import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
LOG = str(Path(__file__).parent / "fixtures" / "logs" / "keras_overfit.csv")


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "nooverfit", *args], capture_output=True, text=True, env=env
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--threads", "-1", "study"), "Invalid value for '--threads'"),
        # past validate's bound: torch.set_num_threads(100000) ran first and crashed (139)
        (("diagnose", LOG, "--threads", "100000"), "less than or equal to 4096"),
        (("--threads", "100000", "diagnose", LOG), "less than or equal to 4096"),
        (("study", "--bogus"), "No such option: --bogus"),
        (("diagnose",), "Missing argument 'log'"),
        (("diagnose", "/no/such/log.csv"), "log not found: /no/such/log.csv; expected a log"),
        # brackets in the user's text are printed as they are, not read as rich markup
        (("diagnose", "/no/[abc]/log.csv"), "log not found: /no/[abc]/log.csv"),
        (("diagnose", "/no/[/x]/log.csv"), "log not found: /no/[/x]/log.csv"),
    ],
)
def test_main_usage_errors_are_one_line_exit_2(args, expected):
    result = run(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert result.stdout == ""


def test_main_help_and_bare_command():
    assert run("--help").returncode == 0
    bare = run()
    assert bare.returncode == 2 and "Usage: nooverfit" in bare.stderr  # the help, as click


@pytest.mark.parametrize(
    ("module", "args", "extra"),
    [
        (
            "tensorboard",
            ("diagnose", "tests/fixtures/logs/real/memorization_tensorboard"),
            "tensorboard",
        ),
        (
            "psycopg",
            ("tune", "--storage", "postgresql://u@127.0.0.1:1/db", "--trials", "1"),
            "postgres",
        ),
    ],
)
def test_main_missing_extra_is_one_line_exit_2(tmp_path, module, args, extra):
    # A package that fails to import stands for one not installed (psycopg2 too: the
    # PostgreSQL storage falls back to it).
    for name in {module, "psycopg2"}:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise ModuleNotFoundError({name!r})")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{SRC}"}
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "nooverfit", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=False,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert f"nooverfit[{extra}]" in lines[0]
