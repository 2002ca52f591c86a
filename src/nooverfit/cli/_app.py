"""The Typer application, the shared console, the options every command takes and the
bad-input guard."""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from nooverfit._words import counted
from nooverfit.cli._ctrl_c import CtrlC
from nooverfit.errors import BAD_INPUT, MissingExtra, Reported, redact
from nooverfit.validate import RULES, check_options

console = Console()
errors = Console(stderr=True)


def _set_threads(value: int | None) -> None:
    if value:
        # before the command: a Ctrl-C here exited with code 130 and said nothing
        with told_ctrl_c(lambda: "interrupted before the command started; nothing was written"):
            import torch  # only when asked: importing torch takes a second or more

        torch.set_num_threads(value)


def _set_quiet(value: bool) -> None:
    console.quiet = value  # errors still go to stderr, --json output to stdout
    logging.getLogger("nooverfit").setLevel(logging.ERROR if value else logging.NOTSET)


def _set_verbose(value: bool) -> None:
    if value:
        logging.getLogger("nooverfit").setLevel(logging.INFO)


#: The root's options that every command accepts too (``nooverfit train --threads 1``).
COMMON: dict[str, Callable[[Any], None]] = {
    "threads": _set_threads,
    "quiet": _set_quiet,
    "verbose": _set_verbose,
}


def _show_flags_as_flags(params: list[Any]) -> None:
    # Typer 0.29 writes "<bool>" beside a flag, which reads as if it took a value.
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class _Group(TyperGroup):
    """The root command; it gives every command a copy of the common options."""

    def get_params(self, ctx: Any) -> Any:
        params = super().get_params(ctx)
        _show_flags_as_flags(params)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None or any(p.name in COMMON for p in command.params):
            return command
        for param in self.params:
            if param.name in COMMON:
                shared = copy.copy(param)
                shared.expose_value = False  # the command's function does not take it
                # The root's callback ran first with the root's values; a command's flag
                # only adds to them.
                shared.callback = lambda c, p, value, set=COMMON[param.name]: value and set(value)
                if param.name == "quiet" and not any("--json" in p.opts for p in command.params):
                    vars(shared)["help"] = "Print nothing but errors."  # (no --json to keep)
                command.params.append(shared)
        _show_flags_as_flags([*command.params, command.get_help_option(ctx)])
        return command


app = typer.Typer(
    name="nooverfit",
    cls=_Group,
    help="Diagnose and fix overfitting in neural networks, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's formatter imports pygments and markdown-it,
    # a fifth of --help's start-up (issue 18); tables and progress still use rich.
    rich_markup_mode=None,
)


def command_line(ctx: typer.Context, *, omit: tuple[str, ...] = ()) -> str:
    """The command as the user typed it, options they left at defaults left out: what a
    report shows under "Reproduce" (``sys.argv`` would also work, but not under a test
    runner or when called from Python). Parameters named in ``omit`` are left out too."""
    import shlex

    parts = ["nooverfit", *(c.info_name or "" for c in reversed(_chain(ctx)))]
    for param in ctx.command.params:
        name = param.name or ""
        source = ctx.get_parameter_source(name)
        if name in omit or not param.expose_value or source is None:
            continue
        if source.name != "COMMANDLINE":
            continue
        value = ctx.params[name]
        if getattr(param, "is_flag", False):
            if value or param.secondary_opts:
                parts.append(param.opts[0] if value else param.secondary_opts[0])
        elif getattr(param, "param_type_name", "") == "argument":
            parts.append(str(value))
        else:
            parts += [param.opts[0], str(value)]
    return shlex.join(parts)


def _chain(ctx: Any) -> list[Any]:
    chain = []
    while ctx is not None and ctx.parent is not None:  # the root is "nooverfit" itself
        chain.append(ctx)
        ctx = ctx.parent
    return chain


F = TypeVar("F", bound=Callable[..., Any])


#: What Ctrl-C leaves, by command: every write is atomic, so no file is half-written, but
#: only a study and a tuning study keep what they finished before writing their results.
INTERRUPTED = {
    "study": "interrupted; the runs finished so far are kept, and the same command resumes "
    "from them",
    "tune": "interrupted; the finished trials are kept in the study's storage, and the "
    "same command resumes from them",
    "train": "interrupted before the first epoch finished; nothing was written (files "
    "from an earlier run are unchanged)",
    "pretrain": "interrupted before pretraining finished; nothing was written (files from "
    "an earlier run are unchanged)",
    "": "interrupted; no file was left half-written",
}


def interrupted(command: str, options: dict[str, Any]) -> str:
    """What a Ctrl-C in ``command`` kept: for a study, how many finished runs its store
    holds (runs train in batches and are stored as each batch ends)."""
    out = options.get("out")
    if command != "study" or out is None:
        return INTERRUPTED.get(command, INTERRUPTED[""])
    from nooverfit.studies.store import RunStore

    runs = Path(out) / "runs"
    kept = RunStore(runs).records()
    if not kept:
        return (
            "interrupted before the first batch of runs finished; no run was kept (runs are "
            "stored as each batch ends), and files of an earlier study are unchanged"
        )
    verb = "is" if len(kept) == 1 else "are"
    # the fused engine trains a batch's runs together: a batch cut short trains again
    # whole, to the same numbers (session.train); the sequential one only its missing runs
    fused = options.get("engine") != "sequential"
    again = " (on the fused engine the batch cut short trains again whole, to the same numbers)"
    again = again if fused else ""
    from nooverfit.studies.results_file import unfinished

    unwritten = (
        f"; {out}'s files are not all written (its report.html says so at the top), which "
        "it finishes"
        if unfinished(out)
        else ""
    )
    return (
        f"interrupted; the {counted(len(kept), 'run')} finished so far {verb} kept in {runs}, "
        f"and the same command resumes from them{again}{unwritten}"
    )


@contextlib.contextmanager
def told_ctrl_c(say: Callable[[], str]) -> Iterator[None]:
    """A Ctrl-C within: the line ``say()`` returns, exit code 130. An error raised after
    the Ctrl-C is read as it (an import it broke; see :class:`.CtrlC`)."""
    with CtrlC() as ctrl_c:
        try:
            yield
        except (typer.Exit, typer.Abort):
            raise  # the command's own exit (train's Ctrl-C says what it kept)
        except (KeyboardInterrupt, Exception) as err:
            if not (isinstance(err, KeyboardInterrupt) or ctrl_c.seen):
                raise
            errors.print(say(), highlight=False)
            raise typer.Exit(130) from None


def guard(func: F) -> F:
    """Turn bad-input exceptions and a missing optional extra into a one-line error and
    exit code 2 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
        with told_ctrl_c(lambda: interrupted(func.__name__, kwargs)):
            try:
                check_options(func.__name__.removesuffix("_command"), **kwargs)
                return func(*args, **kwargs)
            except Reported as err:  # its cause is printed above it
                errors.print(
                    f"[bold red]error:[/] {escape(str(err))}", highlight=False, soft_wrap=True
                )
                raise typer.Exit(1) from None
            except (*BAD_INPUT, MissingExtra) as err:
                message = err.args[0] if isinstance(err, KeyError) and err.args else err
                # no password reaches the terminal; brackets in a path are text, not markup
                text = escape(redact(str(message)))
                errors.print(f"[bold red]error:[/] {text}", highlight=False, soft_wrap=True)
                raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _show_version(value: bool) -> None:
    if value:
        from nooverfit import __version__
        from nooverfit.formats import summary

        typer.echo(f"nooverfit {__version__}\n{summary()}")
        raise typer.Exit()


@app.callback()
def _root(
    threads: int = typer.Option(
        0,
        "--threads",
        help="CPU threads for torch (0: torch's default). 1 is often fastest for small "
        "networks, and on a CPU other programs share.",
        min=0,
        # checked while parsing: its callback sets torch's threads before the guard checks
        # the options, and torch.set_num_threads(100000) crashed (segmentation fault)
        max=int(RULES["threads"].high),
    ),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print nothing but errors (and --json output)."
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also print the library's progress messages."
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_show_version, help="Print the version."
    ),
) -> None:
    """Diagnose and fix overfitting in neural networks, with evidence."""
    for name, value in (("threads", threads), ("quiet", quiet), ("verbose", verbose)):
        COMMON[name](value)
