"""The ``manifest.csv`` of ``nooverfit synthesize``: one row per mix (source, noise,
offset, SNR, gain, seed), and the check that an ``--out`` holds only an earlier synthesis.

Each row also names the manifest's ``format`` and the ``nooverfit`` that wrote it, so a
newer layout is refused, never misread.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from nooverfit import formats
from nooverfit._io import atomic_write_text
from nooverfit._words import counted
from nooverfit.data.audio_io import sound_files
from nooverfit.errors import NewerFile, check_new, check_version

#: ``manifest.csv``'s layout, in its ``format`` column (one without it, written before it
#: was recorded, is format 1): a newer one is refused, never misread.
MANIFEST_FORMAT = formats.MANIFEST


@dataclass(frozen=True)
class ManifestRow:
    """One synthesized clip and how to regenerate it."""

    clip: str
    label: str
    source: str
    noise: str
    offset: int
    snr_db: float
    gain: float
    seed: int


def earlier_outputs(out: Path, *, overwrite: bool) -> list[Path]:
    """The files of an earlier synthesis in ``out`` (manifest first, then its clips).

    Raises:
        OutputExists: if there is one and not ``overwrite``.
        ValueError: if ``out`` holds sound files that its manifest does not list (files
            :func:`~nooverfit.data.synthesize.synthesize_folder` did not write).
    """
    if not out.exists():
        return []
    if not out.is_dir():
        raise ValueError(f"--out {out} is a file; expected a folder")
    manifest = out / "manifest.csv"
    listed: set[Path] = set()
    if manifest.exists():
        try:
            clips = [(out / r.clip).resolve() for r in read_manifest(manifest)]
        except NewerFile as err:  # its clips cannot be told: --overwrite cannot remove them
            raise NewerFile(f"{err}; or choose another --out") from None
        except (KeyError, ValueError, TypeError):
            raise ValueError(
                f"{manifest} is not a manifest nooverfit synthesize wrote; expected an empty "
                "--out or an earlier synthesis"
            ) from None
        listed = {c for c in clips if c.is_relative_to(out.resolve())}  # never outside out
    foreign = [p for p in sound_files(out) if p.resolve() not in listed]
    if foreign:
        raise ValueError(
            f"--out {out} holds {counted(len(foreign), 'sound file')} no manifest.csv there "
            f"lists (e.g. {foreign[0]}); expected an empty folder or an earlier synthesis"
        )
    check_new(manifest, overwrite=overwrite, holds="an earlier synthesis")
    return [manifest, *sorted(listed)] if manifest.exists() else []


def set_aside(out: Path, files: list[Path]) -> Path | None:
    """Move the files of an earlier synthesis in ``out`` (:func:`earlier_outputs`) into a
    new folder beside ``out``, keeping their places in it, until the synthesis replacing
    them is written: a run that fails puts them back (:func:`put_back`), one that succeeds
    removes them (:func:`drop_aside`). None when there are none."""
    if not files:
        return None
    # beside out, not in it (its sound files would be no manifest's): the same disk, so
    # each move is a rename
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}-replaced-", dir=out.resolve().parent))
    try:
        for path in files:
            if path.exists():
                moved = aside / path.resolve().relative_to(out.resolve())
                moved.parent.mkdir(parents=True, exist_ok=True)
                path.replace(moved)
    except BaseException:  # none half moved: those moved go back
        put_back(out, aside)
        raise
    return aside


def put_back(out: Path, aside: Path | None) -> None:
    """Return the files :func:`set_aside` moved into ``aside`` to their places in ``out``
    (the new synthesis's own are removed first), and remove ``aside``."""
    if aside is None:
        return
    for moved in sorted(p for p in aside.rglob("*") if p.is_file()):
        path = out / moved.relative_to(aside)
        path.parent.mkdir(parents=True, exist_ok=True)
        moved.replace(path)
    shutil.rmtree(aside, ignore_errors=True)


def drop_aside(aside: Path | None) -> None:
    """Remove the earlier synthesis :func:`set_aside` kept, once its replacement is written."""
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def write_manifest(path: Path, rows: list[ManifestRow]) -> None:
    from nooverfit._version import __version__

    # a CSV has no header block: the file's format and writer go in the last columns of
    # every row, where a reader of the clip columns alone does not meet them
    buf = io.StringIO()
    fields = [*ManifestRow.__dataclass_fields__, "format", "nooverfit"]
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                **asdict(row),
                "snr_db": f"{row.snr_db:.6f}",
                "gain": f"{row.gain:.8g}",
                "format": MANIFEST_FORMAT,
                "nooverfit": __version__,
            }
        )
    atomic_write_text(path, buf.getvalue())


def read_manifest(path: str | os.PathLike[str]) -> list[ManifestRow]:
    """The rows of a ``manifest.csv`` that ``synthesize_folder`` wrote.

    Raises:
        NewerFile: a row's ``format`` is newer than :data:`MANIFEST_FORMAT` (a newer
            nooverfit wrote it; checked before any other column is read).
        BadInput: a ``format`` that is no whole number from 1.
        KeyError, ValueError: a row lacks a column or holds no number where one belongs;
            a header without the manifest's columns (an empty file, or a table of the
            user's own named ``manifest.csv``: with no rows, it passed as a manifest and
            ``--overwrite`` removed it).
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        found = list(reader)
    for made, version in dict.fromkeys((r.get("nooverfit"), r.get("format")) for r in found):
        check_version(path, _version_of(version), newest=MANIFEST_FORMAT, made=made or "")
    missing = [c for c in ManifestRow.__dataclass_fields__ if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"{path} has no column {', '.join(missing)}; expected a manifest.csv")
    return [
        ManifestRow(
            r["clip"],
            r["label"],
            r["source"],
            r["noise"],
            int(r["offset"]),
            float(r["snr_db"]),
            float(r["gain"]),
            int(r["seed"]),
        )
        for r in found
    ]


def _version_of(cell: str | None) -> object:
    """A ``format`` cell as a number: 1 without the column (a manifest from before it was
    recorded), the cell unchanged when it holds no whole number (refused as such)."""
    if cell is None:
        return 1
    return int(cell) if cell.isdecimal() and cell.isascii() else cell
