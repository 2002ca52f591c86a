"""`log_text`: a text log's contents as its writer meant them.

Text logs reach nooverfit in more encodings than UTF-8 alone:

- a UTF-8 byte-order mark, as Excel's "CSV UTF-8" and .NET writers start a file with:
  dropped (read as part of the first name, it turned ``epoch`` into another column and
  the epochs were renumbered from 0);
- UTF-16 with its byte-order mark, as Windows PowerShell's ``>`` writes a script's output;
- gzip, as ``gzip log.csv`` or ``open(..., "wt")`` through :mod:`gzip` writes it (a log
  still being written gives its complete lines; several members, from appending, are
  read one after another).

Any other file holding NUL bytes is binary, refused in one line.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from nooverfit.errors import BadInput, describe_file

#: What a text log is expected to be, for the refusal of a binary file.
EXPECTED = "a CSV/JSON log, or a TensorBoard event file or run folder"
_GZIP = b"\x1f\x8b"
_CHECKPOINT = "a PyTorch checkpoint (torch.save)"
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is a gzip file (by its first bytes, whatever its name)."""
    try:
        with path.open("rb") as f:
            return f.read(2) == _GZIP
    except OSError:
        return False


def inner_name(path: Path) -> str:
    """The name of the log a file holds: ``log.csv`` for ``log.csv.gz``; else its name."""
    name = path.name
    return name[: -len(".gz")] if name.lower().endswith(".gz") and is_gzip(path) else name


def log_text(path: Path, *, expected: str = EXPECTED, limit: int | None = None) -> str:
    """The text of the log at ``path``, decompressed and decoded (see the module
    docstring); bytes that are not valid in its encoding read as U+FFFD.

    Args:
        path: the log file.
        expected: what the file should be, for the error on a binary file.
        limit: read only about this many bytes of the (decompressed) log: its head, to
            tell its format (default: all of it).

    Raises:
        BadInput: a binary file (NUL bytes in its first 4 KiB), naming what it looks like.
    """
    with path.open("rb") as f:
        raw = f.read() if limit is None else f.read(limit)
    compressed = raw.startswith(_GZIP)
    if compressed:
        raw = _gunzip(raw, path)
        raw = raw if limit is None else raw[:limit]
    encoding = "utf-8"
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom) :], name
            break
    if encoding == "utf-8" and b"\x00" in raw[:4096]:
        what = describe_file(raw[:4096], path)
        what = _CHECKPOINT if _saved_by_torch(raw) else what
        what = f"a gzip file holding {what}" if compressed else what
        # np.save(path, history.history) pickles the dict: an array of objects ('|O')
        pickled = what.endswith("pickle") or (what.endswith(".npy file") and b"'|O'" in raw[:256])
        how = f" ({_AS_JSON})" if pickled else _TO_CSV.get(what.split("holding ")[-1], "")
        raise BadInput(f"{path} is {what}, not text; expected {expected}{how}")
    return raw.decode(encoding, errors="replace")


#: How to save a Keras History that ``np.save`` or ``pickle`` wrote, which nooverfit does
#: not unpickle (loading a pickle runs code).
_AS_JSON = (
    "nooverfit does not unpickle files: save the curves as JSON, "
    "json.dump(history.history, open('history.json', 'w')), or log with CSVLogger"
)


#: How to make a log of a binary file that holds a table (a data frame saved as a
#: workbook, Parquet or Feather), by :func:`describe_file`'s words for its kind.
_CSV = "save the table as CSV, e.g. df.to_csv('history.csv', index=False)"
_TO_CSV = {
    "a zip archive": f" (an Excel workbook (.xlsx): {_CSV}; a zipped run folder: unzip it)",
    "an old Excel workbook (.xls)": f" ({_CSV})",
    "a Parquet file": f" ({_CSV})",
    "an Arrow (Feather) file": f" ({_CSV})",
    "a Feather (v1) file": f" ({_CSV})",
    # a model.pt or best_model.pt passed for the log written beside it: not to unzip
    _CHECKPOINT: " (it holds weights, not curves: diagnose the log saved with it, such as "
    "a nooverfit train run's folder or its history.csv)",
}


def _saved_by_torch(raw: bytes) -> bool:
    """Whether a zip archive is a ``torch.save`` file: its first entry is
    ``<archive>/data.pkl`` (the name starts at byte 30; its length is bytes 26-27)."""
    if not raw.startswith(b"PK\x03\x04") or len(raw) < 30:
        return False
    name = raw[30 : 30 + int.from_bytes(raw[26:28], "little")]
    return name.endswith(b"/data.pkl")


def _gunzip(raw: bytes, path: Path) -> bytes:
    """The bytes a gzip file holds: every member in turn, and of a member cut short (a
    log still being written) what is there so far.

    Raises:
        BadInput: a damaged gzip stream.
    """
    out: list[bytes] = []
    while raw.startswith(_GZIP):  # (bytes after the last member, padding, are no log)
        stream = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16: a gzip header and trailer
        try:
            out.append(stream.decompress(raw))
        except zlib.error as err:
            raise BadInput(
                f"{path} is a damaged gzip file ({err}); expected a gzip'ed text log"
            ) from None
        if not stream.eof:  # cut short: what was written so far
            break
        raw = stream.unused_data
    return b"".join(out)
