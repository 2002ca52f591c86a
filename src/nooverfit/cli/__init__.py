"""The ``nooverfit`` command line: one module per command, each a thin adapter."""

from __future__ import annotations

from nooverfit.cli import pretrain as _pretrain  # noqa: F401  (registers the command)
from nooverfit.cli import train as _train  # noqa: F401  (registers the command)
from nooverfit.cli._app import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
