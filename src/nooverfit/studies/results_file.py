"""Reading a study's ``results.json`` back: its ``schema_version`` checked, so a newer
nooverfit's file is refused in one line rather than misread; and a folder whose files
were not all written (:data:`WRITING`) refused before any is read. (Apart from
:mod:`nooverfit.studies.result`, which writes it and imports the saved-model code, so that
readers such as :func:`nooverfit.studies.ensemble.load_from_study` do not.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nooverfit import formats
from nooverfit.errors import BadInput, is_version, newer_nooverfit

#: ``results.json``'s layout (:data:`nooverfit.formats.RESULTS`); 1 and 2 are read. A newer
#: one is refused by :func:`read_results` (a newer nooverfit's), never misread.
SCHEMA_VERSION = formats.RESULTS


def read_results(path: str | Path) -> dict[str, Any]:
    """A study's ``results.json`` as a dict, its ``schema_version`` checked.

    Raises:
        BadInput: in one line: not readable JSON, not a study's results (no whole
            ``schema_version`` from 1), or written by a newer nooverfit (a larger one).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        said = f"{path} is not readable JSON ({err}); expected a study's results.json"
        raise BadInput(said) from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if not is_version(version):
        raise BadInput(
            f"{path} has schema_version {version!r}; expected a study's results.json "
            f"(a whole number from 1 to {SCHEMA_VERSION})"
        )
    if version > SCHEMA_VERSION:
        made = data.get("settings", {})
        made = made.get("nooverfit", "?") if isinstance(made, dict) else "?"
        reads = f"schema_version up to {SCHEMA_VERSION}"
        raise newer_nooverfit(path, f"{made}, schema_version {version}", reads)
    return data


#: The file a study's folder holds while :func:`nooverfit.study_files.write_study` writes
#: its outputs (removed once every one is written): where it stays, the write was
#: interrupted and results.json, best_model.pt and report.html may be from two runs.
WRITING = ".nooverfit-writing"


def check_finished(folder: str | Path) -> None:
    """Refuse a study folder whose outputs were not all written (it holds :data:`WRITING`).

    Raises:
        BadInput: naming the folder and how to finish it.
    """
    root = Path(folder)
    if (root / WRITING).is_file():
        raise BadInput(
            f"{root} holds a study interrupted while writing its files (results.json, "
            "best_model.pt and report.html may be from two runs of it); expected a finished "
            "one: run the same nooverfit command again (same --out and options) to finish it"
        )
