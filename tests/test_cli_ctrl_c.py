"""Ctrl-C wherever Python delivers it: one line on what the command kept, exit code 130."""

import gc
import logging
import signal
import time
import weakref

import pytest
import typer

from nooverfit.cli._app import guard


@pytest.fixture(autouse=True)
def _terminal_sigint():
    """SIGINT as a terminal leaves it: Python's default handler. A job started in the
    background (a CI script's ``cmd &``) inherits SIGINT ignored, where ``CtrlC`` installs
    nothing (no Ctrl-C can reach it) and these tests would not see the handler at work."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _guarded(body):
    def study() -> None:  # named as the command whose line it prints
        body()

    return guard(study)


def test_ctrl_c_swallowed_by_a_destructor_stops_the_command(capsys):
    """A Ctrl-C delivered inside a weakref callback (SQLAlchemy's pool, torch's tensors)
    printed "Exception ignored ... KeyboardInterrupt" and the command carried on to its end:
    the interrupt was lost (seen once in five Ctrl-Cs of ``nooverfit tune``)."""
    finished = []

    def body() -> None:
        class Owner:
            pass

        def delivered_here(_: object) -> None:
            raise KeyboardInterrupt

        owner = Owner()
        ref = weakref.ref(owner, delivered_here)
        del owner
        gc.collect()
        for _ in range(500):  # the command's next steps, for up to 5 s
            time.sleep(0.01)
        finished.append(ref)

    with pytest.raises(typer.Exit) as stop:
        _guarded(body)()
    assert stop.value.exit_code == 130 and finished == []
    err = capsys.readouterr().err
    assert err.startswith("interrupted") and "Exception ignored" not in err
    assert "Traceback" not in err


def test_an_error_raised_after_ctrl_c_is_the_interrupt(capsys):
    """A Ctrl-C inside the import of an extension module (pandas, numpy) surfaces as an
    AttributeError of a partially initialized module: a traceback, exit code 1."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def body() -> None:
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            raise AttributeError("partially initialized module 'pandas'") from None

    with pytest.raises(typer.Exit) as stop:
        _guarded(body)()
    assert stop.value.exit_code == 130
    assert capsys.readouterr().err.startswith("interrupted")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_an_error_without_ctrl_c_is_still_a_bug_with_its_traceback():
    def body() -> None:
        raise AttributeError("a bug")

    with pytest.raises(AttributeError, match="a bug"):
        _guarded(body)()


def test_a_logged_interrupt_leaves_no_traceback(caplog):
    """SQLAlchemy's pool logs "Exception closing connection" with the KeyboardInterrupt's
    traceback before raising it again: it was printed above the command's one line."""
    pool = logging.getLogger("sqlalchemy.pool.impl.QueuePool")

    def body() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            pool.error("Exception closing connection %r", "<conn>", exc_info=True)
            pool.error("a real error, told")
            raise

    with pytest.raises(typer.Exit):
        _guarded(body)()
    assert [r.getMessage() for r in caplog.records] == ["a real error, told"]
    pool.error("after the command: told again")
    assert caplog.records[-1].exc_info is None and len(caplog.records) == 2


def test_ctrl_c_while_threads_imports_torch_says_so(monkeypatch, capsys):
    """``--threads`` imports torch while the options are read, before any command: a
    Ctrl-C there (a second or more, longer on a busy machine) exited 130 in silence."""
    import builtins

    from nooverfit.cli._app import _set_threads

    real = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "torch":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(typer.Exit) as stop:
        _set_threads(1)
    assert stop.value.exit_code == 130
    assert capsys.readouterr().err == (
        "interrupted before the command started; nothing was written\n"
    )
