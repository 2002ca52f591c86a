"""`CtrlC`: a Ctrl-C during a command stops it, wherever Python delivers the interrupt.

Python raises ``KeyboardInterrupt`` in whatever code runs when SIGINT arrives. Three
places turn it into something other than the command's one line and exit code 130:

- a destructor or weakref callback (SQLAlchemy's connection pool, torch's tensors) cannot
  raise: Python prints "Exception ignored in ... KeyboardInterrupt" with a traceback and
  carries on, so the Ctrl-C is lost (seen in ``nooverfit tune``: the search ran to its
  end). The interrupt is raised again in the command's own code instead, silently.
- an extension module being imported (pandas, numpy) turns it into an ``AttributeError``
  or ``ImportError`` of a "partially initialized module", a traceback ending in an error
  that is not the user's. Any error raised after a Ctrl-C is read as the Ctrl-C.
- a library that catches it to log it (SQLAlchemy's "Exception closing connection") logs
  the interrupt's traceback before raising it again. Log records carrying a
  ``KeyboardInterrupt`` are dropped: the command says in one line what the interrupt kept.
"""

from __future__ import annotations

import _thread
import logging
import signal
import sys
import threading
from typing import Any


def _not_an_interrupt(record: logging.LogRecord) -> bool:
    """A log handler's filter: False for a record carrying a ``KeyboardInterrupt``."""
    return not (record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt))


class CtrlC:
    """Within ``with CtrlC() as ctrl_c:``, ``ctrl_c.seen`` says whether SIGINT arrived;
    an interrupt a destructor swallowed is raised again, and log records of an interrupt
    are dropped (see the module's docstring). Everything is restored on exit."""

    def __init__(self) -> None:
        self.seen = False
        self._handler: Any = None
        self._hook = sys.unraisablehook
        self._handlers: list[logging.Handler] = []
        self._later: threading.Timer | None = None

    def __enter__(self) -> CtrlC:
        # a handler of the caller's own (a test runner, an embedding program) is left alone
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._handler = signal.signal(signal.SIGINT, self._on_sigint)
        self._hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable
        self._handlers = [
            h for h in logging.getLogger().handlers if _not_an_interrupt not in h.filters
        ]
        for handler in self._handlers:
            handler.addFilter(_not_an_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._later is not None:  # not delivered once the command is over (i153)
            self._later.cancel()
        for handler in self._handlers:
            handler.removeFilter(_not_an_interrupt)
        sys.unraisablehook = self._hook
        if self._handler is not None:
            signal.signal(signal.SIGINT, self._handler)

    def _on_sigint(self, signum: int, frame: object) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def _unraisable(self, unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.seen = True
            # delivered again once this hook has returned: from here, interrupt_main would
            # raise it inside the hook, where it is swallowed again
            self._later = threading.Timer(0.05, _thread.interrupt_main)
            self._later.daemon = True
            self._later.start()
            return
        self._hook(unraisable)
