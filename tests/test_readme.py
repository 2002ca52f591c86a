"""The README, checked against the code: the modules its code map names exist, and the
commands and options it shows are the command line's."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.main import get_command

from nooverfit.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PACKAGE = ROOT / "src" / "nooverfit"

_SPAN = re.compile(r"`([^`\n]+)`")
_PATH = re.compile(r"^[\w/]+(\.py)?(:[\w.]+)?$")


def _section(text: str, title: str) -> str:
    """The text under ``## title``, up to the next heading of that level."""
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def code_map_names(text: str) -> list[tuple[str, str]]:
    """``(name, folder)`` of each module, package or ``module.py:attribute`` the code map
    names, ``folder`` being the package a bullet lists modules of (``"studies"`` in its
    ``studies/`` bullet, else ``""``): names are relative to it, or to the package root."""
    names = []
    for bullet in re.split(r"\n- ", _section(text, "Code map")):
        spans = _SPAN.findall(bullet)
        lead = spans[0] if spans else ""
        folder = lead.rstrip("/") if lead.endswith("/") and ": `" in bullet else ""
        for span in spans:
            if _PATH.match(span) and (span.endswith("/") or ".py" in span):
                names.append((span, folder))
    return names


def _resolve(name: str, folder: str) -> tuple[Path | None, str]:
    """The file or folder ``name`` means (None if none) and the attribute it names."""
    path, _, attribute = name.partition(":")
    for base in (PACKAGE / folder, PACKAGE, ROOT):
        if (base / path).exists():
            return base / path, attribute
    return None, attribute


def test_code_map_names_only_modules_that_exist():
    names = code_map_names(README.read_text())
    assert len(names) > 30, names  # the parser still finds the map
    missing = []
    for name, folder in names:
        path, attribute = _resolve(name, folder)
        if path is None:
            missing.append(name)
        elif attribute:
            # `module.py:Class.method`: each part defined in the module
            source = path.read_text()
            for part in attribute.split("."):
                if not re.search(rf"^\s*(def|class) {part}\b", source, re.MULTILINE):
                    missing.append(name)
    assert missing == []


def test_code_map_check_fails_on_a_missing_module():
    text = "## Code map\n\n- `studies/`: the study: `plan.py`, `gone.py`.\n- `nowhere.py`\n"
    names = code_map_names(text)
    assert ("gone.py", "studies") in names and ("nowhere.py", "") in names
    assert _resolve("plan.py", "studies")[0] is not None
    assert _resolve("gone.py", "studies")[0] is None
    assert _resolve("nowhere.py", "")[0] is None


def _commands() -> dict[str, set[str]]:
    """Each command's name and the options it takes (its own and the root's)."""
    group = get_command(app)
    root = {o for p in group.params for o in (*p.opts, *p.secondary_opts)}
    return {
        name: root | {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for name, command in group.commands.items()  # type: ignore[attr-defined]
    }


def readme_command_lines(text: str, commands: Iterable[str]) -> list[str]:
    """Each ``nooverfit CMD ...`` line of the README's shell blocks (continuation lines
    joined, comments cut), and each inline code span ``nooverfit CMD ...`` or ``CMD ...``."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("nooverfit "):
                lines.append(line)
    inline = rf"`((?:nooverfit )?(?:{'|'.join(commands)}) [^`]*)`"
    for span in re.findall(inline, text):
        lines.append(span if span.startswith("nooverfit ") else f"nooverfit {span}")
    return lines


def unknown_options(line: str, commands: dict[str, set[str]]) -> list[str]:
    """What in the command line ``line`` no command takes: its command, or options."""
    words = line.split()
    name = next(w for w in words[1:] if not w.startswith("-"))
    if name not in commands:
        return [name]
    options = (w.split("=", 1)[0] for w in words if w.startswith("--"))
    return [o for o in options if o not in commands[name]]


def test_readme_commands_table_names_the_cli_commands():
    text = README.read_text()
    table = set(re.findall(r"^\| `nooverfit (\w+)", _section(text, "The command line"), re.M))
    assert table == set(_commands())


def test_readme_command_lines_use_options_the_commands_take():
    commands = _commands()
    lines = readme_command_lines(README.read_text(), commands)
    assert len(lines) > 30, lines  # the parser still finds them
    wrong = {line: bad for line in lines if (bad := unknown_options(line, commands))}
    assert wrong == {}


@pytest.mark.parametrize(
    ("line", "unknown"),
    [
        ("nooverfit study --train-size 50 --seeds 2", ["--train-size"]),
        ("nooverfit study --seeds 2 --threads 1", []),
        ("nooverfit fit --epochs 3", ["fit"]),
    ],
)
def test_readme_option_check_fails_on_an_unknown_option(line, unknown):
    assert unknown_options(line, _commands()) == unknown


def test_readme_command_lines_reads_blocks_and_inline_spans():
    text = (
        "```bash\nnooverfit train --epochs 3 \\\n    --l2 1  # a comment --x\n```\n"
        "`study --source`"
    )
    assert readme_command_lines(text, ["train", "study"]) == [
        "nooverfit train --epochs 3      --l2 1",
        "nooverfit study --source",
    ]
