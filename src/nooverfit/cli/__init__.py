"""The ``nooverfit`` command line: one module per command, each a thin adapter."""

from __future__ import annotations

# Importing a command module registers its command on `app`.
from nooverfit.cli import audit as _audit  # noqa: F401
from nooverfit.cli import diagnose as _diagnose  # noqa: F401
from nooverfit.cli import pretrain as _pretrain  # noqa: F401
from nooverfit.cli import study as _study  # noqa: F401
from nooverfit.cli import synthesize as _synthesize  # noqa: F401
from nooverfit.cli import train as _train  # noqa: F401
from nooverfit.cli import tune as _tune  # noqa: F401
from nooverfit.cli import watch as _watch  # noqa: F401
from nooverfit.cli._app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
