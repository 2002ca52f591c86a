"""Skips for tests that need an optional extra (``pyproject.toml``'s optional-dependencies)
or an outside program: with it installed they run unchanged; without it they skip with a
reason naming what to install, instead of failing on the library's install hint."""

from __future__ import annotations

import functools
import importlib
import shutil

import pytest

#: The extra that installs each optional module.
EXTRAS = {
    "soundfile": "audio",
    "psycopg": "postgres",
    "tensorboard": "tensorboard",
    "lightning": "lightning",
    "keras": "dev",
}


@functools.cache
def installed(module: str) -> bool:
    """Whether ``module`` imports (a module that is present but fails to import counts as
    missing: the library's own guard reports it the same way)."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def reason(module: str) -> str:
    """Why a test skips without ``module``."""
    return f"{module} is not installed (pip install 'nooverfit[{EXTRAS[module]}]')"


def needs(module: str) -> pytest.MarkDecorator:
    """A mark that skips a test (or, as ``pytestmark``, a module) when ``module`` is missing."""
    return pytest.mark.skipif(not installed(module), reason=reason(module))


def require(module: str) -> None:
    """Skip the calling test (or module, at import) when ``module`` is missing."""
    if not installed(module):
        pytest.skip(reason(module), allow_module_level=True)


def needs_program(name: str, *, hint: str) -> pytest.MarkDecorator:
    """A mark that skips a test when the program ``name`` is not on the PATH."""
    return pytest.mark.skipif(
        shutil.which(name) is None, reason=f"{name} is not installed ({hint})"
    )
