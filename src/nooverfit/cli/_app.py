"""The Typer application, the shared console and the bad-input guard."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from nooverfit.errors import redact
from nooverfit.validate import check_options

app = typer.Typer(
    name="nooverfit",
    help="Diagnose and fix overfitting in neural networks, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])

#: Exceptions that mean bad input: reported in one line with exit code 2.
BAD_INPUT = (
    ValueError,
    FileNotFoundError,
    NotADirectoryError,
    IsADirectoryError,
)


def guard(func: F) -> F:
    """Turn bad-input exceptions into a one-line error and exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
        try:
            check_options(func.__name__.removesuffix("_command"), **kwargs)
            return func(*args, **kwargs)
        except BAD_INPUT as err:
            message = err.args[0] if isinstance(err, KeyError) and err.args else err
            text = redact(str(message))  # no password reaches the terminal
            errors.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            errors.print("interrupted; finished results are saved", highlight=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def _root(
    threads: int = typer.Option(
        0,
        "--threads",
        help="CPU threads for torch (0: torch's default). 1 is often fastest for small "
        "networks, and on a CPU other programs share.",
        min=0,
    ),
) -> None:
    """Diagnose and fix overfitting in neural networks, with evidence."""
    if threads:
        import torch

        torch.set_num_threads(threads)
