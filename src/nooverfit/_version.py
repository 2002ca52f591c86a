"""The installed package's version, read once from its metadata (pyproject.toml is the one
place it is written), and a digest of the code that runs (:func:`code_digest`)."""

from __future__ import annotations

import functools
import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

try:
    __version__ = version("nooverfit")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"


@functools.cache
def code_digest() -> str:
    """A digest of this package's code (:func:`tree_digest` of its folder): the version stays
    the same between releases while the code changes, so a study's stored runs are reused
    only by the code that trained them (after an upgrade from source, or in an edited
    checkout, resuming is refused instead of mixing in stale runs)."""
    return tree_digest(Path(__file__).parent)


def tree_digest(root: Path) -> str:
    """The first 12 hex digits of a SHA-256 over the modules and templates under ``root``
    (``.py`` and ``.html`` files, their paths and bytes; compiled caches left out)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".html") and "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]
