"""Reading a study's ``results.json`` back: its ``schema_version`` checked, so a newer
nooverfit's file is refused in one line rather than misread; and a folder whose files
were not all written (:data:`WRITING`) refused before any is read. (Apart from
:mod:`nooverfit.studies.result`, which writes it and imports the saved-model code, so that
readers such as :func:`nooverfit.studies.ensemble.load_from_study` do not.)"""

from __future__ import annotations

import contextlib
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
#: its outputs (written first, removed last): where it stays, the write was interrupted and
#: results.json, best_model.pt and report.html may be from two runs.
WRITING = ".nooverfit-writing"

#: What marks report.html's first version, the one written while the others are (at the top
#: of its page): the plain report replaces it only after every other file is written.
UNFINISHED_ID = 'id="unfinished"'


def unfinished(folder: str | Path) -> bool:
    """Whether ``folder``'s files may be from two runs of a study: it holds :data:`WRITING`
    and its report.html is not the plain one. A marker beside the plain report is stale
    (Ctrl-C after the last file, before the marker's removal; or before the first report
    replaced an earlier study's): every file is then one run's."""
    root = Path(folder)
    if not (root / WRITING).is_file():
        return False
    try:
        report = (root / "report.html").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return True  # no report (a first study stopped before writing it), or not ours
    return UNFINISHED_ID in report or not (root / "results.json").is_file()


def check_finished(folder: str | Path) -> None:
    """Refuse a study folder whose outputs were not all written (:func:`unfinished`); a
    stale marker, beside files all from one run, is removed (where the folder may be
    written) and the folder read.

    Raises:
        BadInput: naming the folder and how to finish it.
    """
    root = Path(folder)
    if unfinished(root):
        raise BadInput(
            f"{root} holds a study interrupted while writing its files (results.json, "
            "best_model.pt and report.html may be from two runs of it); expected a finished "
            "one: run the same nooverfit command again (same --out and options) to finish it"
        )
    with contextlib.suppress(OSError):  # a read-only folder: read it all the same
        (root / WRITING).unlink(missing_ok=True)
