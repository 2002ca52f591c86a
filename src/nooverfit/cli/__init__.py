"""The ``nooverfit`` command line: one module per command, each a thin adapter."""

from __future__ import annotations

from typing import Any

# Importing a command module registers its command on `app`.
from nooverfit.cli import audit as _audit  # noqa: F401
from nooverfit.cli import diagnose as _diagnose  # noqa: F401
from nooverfit.cli import predict as _predict  # noqa: F401
from nooverfit.cli import pretrain as _pretrain  # noqa: F401
from nooverfit.cli import study as _study  # noqa: F401
from nooverfit.cli import synthesize as _synthesize  # noqa: F401
from nooverfit.cli import train as _train  # noqa: F401
from nooverfit.cli import tune as _tune  # noqa: F401
from nooverfit.cli import watch as _watch  # noqa: F401
from nooverfit.cli._app import app, errors


def main() -> None:
    """Console-script entry point.

    Click's usage errors (an unknown option, a value out of range, a missing argument)
    print three lines of usage and hint by default; bad input here is one line and exit
    code 2 wherever it is caught, so they are reported like the guard's errors.
    """
    from typer.main import get_command

    try:
        code = get_command(app).main(prog_name="nooverfit", standalone_mode=False)
    except Exception as exc:
        err: Any = exc
        # Typer vendors its own copy of click in some versions: match click's exception
        # protocol (show, exit_code, format_message) rather than its classes.
        if not callable(getattr(err, "show", None)):
            if type(err).__name__ == "Abort":
                errors.print("aborted", highlight=False)
                raise SystemExit(1) from None
            raise
        if err.exit_code != 2 or type(err).__name__ == "NoArgsIsHelpError":
            err.show()  # the help of a bare `nooverfit`, or another click exception
        else:
            ctx = getattr(err, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            errors.print(
                f"error: {err.format_message()}{hint}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        raise SystemExit(err.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)


__all__ = ["app", "main"]
