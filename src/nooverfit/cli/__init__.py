"""The ``nooverfit`` command line: one module per command, each a thin adapter."""

from __future__ import annotations

from nooverfit.cli import train as _train  # noqa: F401  (registers the command)
from nooverfit.cli import tune as _tune  # noqa: F401  (registers the command)
from nooverfit.cli._app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
