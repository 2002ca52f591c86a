"""`BadInput`: the one exception type for input a user can fix, and helpers that turn the
errors of files, URLs and devices into it at their source.

The command line reports a ``BadInput`` (or any ``ValueError``) in one line with exit
code 2. Errors are converted where the input is read, not by widening the CLI's guard: a
``KeyError`` or ``TypeError`` deeper in the code stays a bug with a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypeGuard


class BadInput(ValueError):
    """Input the user can fix: names the input, what was expected and what was found."""


#: The exceptions a command tells as bad input: one line, exit code 2 (the CLI's guard and
#: tune's worker processes alike).
BAD_INPUT = (
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
)


class MissingExtra(ImportError):
    """An optional dependency is not installed: the message names the feature and the
    ``pip install "nooverfit[EXTRA]"`` that adds it. The command line reports it in one
    line with exit code 2, as bad input; other import errors stay bugs with a traceback."""


def is_version(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a saved file's version as nooverfit writes them: a whole
    number from 1 (a JSON ``true`` is no version)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


class Reported(RuntimeError):
    """A failure whose cause was printed already (by a worker process, with its traceback
    where it is a bug): the command line adds one line and exit code 1, not a second
    traceback that shows only where it was noticed."""


class NewerFile(BadInput):
    """A file a newer nooverfit wrote, in a format this one does not read (a caller that
    would write over it tells it from other bad files by this type)."""


def newer_nooverfit(path: str | Path, made: str, reads: str) -> NewerFile:
    """The one-line refusal of a file a newer nooverfit wrote, for every saved format
    (``best_model.json``, ``results.json``, source files, a train run's ``metrics.json``,
    a tuning study's ``best.json``, a synthesis's ``manifest.csv``): ``made`` says what the
    file records (its version and format), ``reads`` what this nooverfit reads."""
    from nooverfit._version import __version__

    return NewerFile(
        f"{path} was made by a newer nooverfit ({made}); this one ({__version__}) reads "
        f"{reads}: install the nooverfit that wrote it, or a later one, to load it"
    )


def check_version(
    path: str | Path, version: object, *, newest: int, field: str = "format", made: str = ""
) -> int:
    """``version``, the ``field`` a saved file of nooverfit's records its layout by, checked
    against the ``newest`` this nooverfit writes: a newer one is refused in one line
    (:func:`newer_nooverfit`), never misread; ``made`` is the nooverfit version the file
    names, if any.

    Raises:
        NewerFile: ``version`` is larger than ``newest``.
        BadInput: ``version`` is no whole number from 1 (not nooverfit's file).
    """
    if not is_version(version):
        raise BadInput(
            f"{path} has {field} {version!r}; expected a whole number from 1 to {newest}"
        )
    if version > newest:
        raise newer_nooverfit(path, f"{made or '?'}, {field} {version}", f"{field} up to {newest}")
    return version


class OutputExists(FileExistsError, BadInput):
    """An output would replace an earlier one (a run, a source file, a synthesis) the user
    did not ask to replace: the message names it and the option that replaces it."""


def check_new(path: Path, *, overwrite: bool, holds: str = "") -> None:
    """Refuse to write over ``path`` unless ``overwrite``: the one check (and message) of
    every command that would replace an earlier output (train, pretrain, tune, synthesize).

    Args:
        path: the earlier output's file or folder.
        overwrite: the user's ``--overwrite``.
        holds: what ``path`` holds, in words (``"an earlier run"``); default: it exists.

    Raises:
        OutputExists: if ``path`` exists and not ``overwrite``.
    """
    if path.exists() and not overwrite:
        found = f"holds {holds}" if holds else "already exists"
        raise OutputExists(
            f"{path} {found}; choose another --out or pass --overwrite to replace it"
        )


_PASSWORD = re.compile(r"(?P<head>[A-Za-z][\w+.-]*://[^:/@\s\[\]]*:)(?P<password>[^@\s]*)(?=@)")


def relative_to_cwd(path: str | Path) -> str:
    """What a message adds after a path not found: `` (relative to /the/cwd)`` for a
    relative path, which a user reads against a folder they may not be in; nothing for an
    absolute one."""
    return "" if Path(path).is_absolute() else f" (relative to {Path.cwd()})"


def redact(text: str) -> str:
    """Hide the password of every database URL in ``text``: ``scheme://user:***@host``.

    Works on malformed URLs too (a typo must not echo the password either).
    """
    return _PASSWORD.sub(lambda m: m.group("head") + "***", text)


def describe_file(data: bytes, path: str | Path | None = None) -> str:
    """What a file's first bytes say it is, in words, a kind only (for errors about
    unreadable files, which add what to do about it where they know).

    Args:
        data: the file's first bytes (64 are enough for the signatures; 4 KiB for the
            text checks).
        path: its name, where known: a NumPy ``.npz`` archive is a zip archive by its
            bytes.
    """
    signatures = (
        (b"PK\x03\x04", "a zip archive"),
        (b"\x80", "a Python pickle"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"RIFF", "a RIFF/WAV file"),
        (b"SQLite format 3", "an SQLite database"),
        (b"\x1f\x8b", "a gzip file"),
        (b"%PDF", "a PDF document"),
        (b"\x7fELF", "an executable (ELF)"),
        (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)"),  # OLE2, as .xls files are
        (b"\x93NUMPY", "a NumPy .npy file"),
        (b"PAR1", "a Parquet file"),
        (b"ARROW1", "an Arrow (Feather) file"),
        (b"FEA1", "a Feather (v1) file"),  # feather-format before Arrow's IPC file (2020)
        (b"\x89HDF\r\n\x1a\n", "an HDF5 file"),  # Keras's .h5 models, pandas's to_hdf
    )
    if not data:
        return "an empty file"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text"
    if data.startswith(b"PK\x03\x04") and path is not None and str(path).lower().endswith(".npz"):
        return "a NumPy .npz archive"
    for magic, name in signatures:
        if data.startswith(magic):
            return name
    if b"\x00" in data:
        return "a binary file"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "a file that is not UTF-8 text"
    return "a text file"
