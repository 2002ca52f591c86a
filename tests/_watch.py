"""Helpers of the watch tests: a writer that appends to a log while ``nooverfit watch``
follows it, started once watch has looked at it."""

import importlib
import threading
import time
from pathlib import Path

WATCH = importlib.import_module("nooverfit.cli.watch")
LOGS = Path(__file__).parent / "fixtures" / "logs"


def once_watch_has(monkeypatch, name: str, enough=lambda result: True) -> threading.Event:
    """An event set once watch's ``name`` (``read_log`` or ``_stamp``) has returned a
    result ``enough`` accepts: a writer waits on it rather than sleeping a guessed time,
    since watch's first read can come half a second or more after it was started."""
    seen = threading.Event()
    real = getattr(WATCH, name)

    def spy(*args, **kwargs):
        result = real(*args, **kwargs)
        if enough(result):
            seen.set()
        return result

    monkeypatch.setattr(WATCH, name, spy)
    return seen


def write_slowly(
    log: Path,
    chunks: list[str] | list[tuple[Path, str]],
    pause: float = 0.05,
    after: threading.Event | None = None,
) -> threading.Thread:
    """Append ``chunks`` to ``log`` ``pause`` s apart in a thread (a ``(path, text)``
    chunk to ``path``: a run folder's files written in turn); first wait for ``after``
    when given (at most 30 s)."""

    def write() -> None:
        if after is not None:
            after.wait(30)
        for chunk in chunks:
            path, text = chunk if isinstance(chunk, tuple) else (log, chunk)
            time.sleep(pause)
            with path.open("a") as f:
                f.write(text)

    writer = threading.Thread(target=write)
    writer.start()
    return writer
