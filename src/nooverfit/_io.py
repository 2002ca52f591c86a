"""Safe file I/O: atomic writes (a crash or Ctrl-C never leaves a half-written result
behind), output paths checked before the work, checkpoints read with their errors named."""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nooverfit.errors import BadInput, describe_file


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once at import (reading it means setting it, which is not
#: safe while other threads create files).
_UMASK = _read_umask()


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on POSIX, so readers see either the old or the new file. The file
    gets the permissions a plain ``open`` would give it (``mkstemp`` makes it private):
    the replaced file's own where there was one, else 0666 less the umask.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        try:
            mode = target.stat().st_mode & 0o777
        except OSError:
            mode = 0o666 & ~_UMASK
        os.chmod(tmp, mode)
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_save(path: str | os.PathLike[str], obj: Any) -> Path:
    """``torch.save(obj)`` to ``path`` atomically, the same bytes for the same ``obj``
    (saved to a file, torch names the archive inside after the temporary file's random
    name, so the bytes and their SHA-256 would change on every write)."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return atomic_write(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (NaN written as null)."""
    return atomic_write_text(path, json.dumps(_jsonable(data), indent=2, allow_nan=False) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return _jsonable(value.item())
    return value


#: files that mark a folder as a nooverfit study's: its results, its model, and its run
#: store's identity (``studies.store.IDENTITY``: a study interrupted before its results)
STUDY_MARKS = ("results.json", "best_model.pt", "runs/identity.json")


def refuse_a_study(
    out: Path, *, expected: str, marks: tuple[str, ...] = STUDY_MARKS, holds: str = "study"
) -> None:
    """Refuse an ``--out`` holding a study's ``marks`` (any of them), whatever
    ``--overwrite``: another command's files among a study's leave ``predict`` two models
    to choose from, and the study's own rerun refuses files it did not write.

    Args:
        out: the output folder.
        expected: what the message asks for instead of a new folder ("an earlier train
            run's (one command's model to a folder)").
        marks: the files looked for, relative to ``out``.
        holds: what the files mark the folder as, for the message (``"tuning"``:
            :func:`refuse_a_tuning`).

    Raises:
        BadInput: naming the files found.
    """
    if found := [n for n in marks if (out / n).is_file()]:
        raise BadInput(
            f"--out {out} holds a nooverfit {holds} ({', '.join(found)}); expected a new "
            f"folder or {expected}"
        )


#: files that mark a folder as a ``nooverfit train`` run's (of ``train_run.FILES``: its
#: model and its metrics, both, as :func:`nooverfit.study_files.check_study_out` asks)
TRAIN_MARKS = ("model.pt", "metrics.json")


def refuse_a_train_run(out: Path, *, expected: str) -> None:
    """Refuse an ``--out`` holding a train run's :data:`TRAIN_MARKS`, whatever
    ``--overwrite``, as :func:`refuse_a_study` refuses a study's: another command's files
    beside its model leave ``predict`` two to choose from.

    Args:
        out: the output folder.
        expected: what the message asks for instead of a new folder.

    Raises:
        BadInput: naming the run's files.
    """
    if all((out / n).is_file() for n in TRAIN_MARKS):
        raise BadInput(
            f"--out {out} holds a nooverfit train run ({', '.join(TRAIN_MARKS)}); expected a "
            f"new folder or {expected}"
        )


#: files that mark a folder as a ``nooverfit tune`` run's (its best configuration and that
#: configuration's history; ``tune.db`` only where the study is stored in the folder)
TUNE_MARKS = ("best.json", "best_history.csv")


def refuse_a_tuning(out: Path, *, expected: str) -> None:
    """Refuse an ``--out`` holding a tuning's :data:`TUNE_MARKS` (either), whatever
    ``--overwrite``, as :func:`refuse_a_study` refuses a study's: a run written there
    replaced the tuning's ``plots/history.png`` and left its report beside the run's
    model.

    Raises:
        BadInput: naming the tuning's files found.
    """
    refuse_a_study(out, expected=expected, marks=TUNE_MARKS, holds="tuning")


def check_output(path: str | os.PathLike[str], *, folder: bool, option: str = "--out") -> Path:
    """Check, before any work, that ``path`` can be written; create nothing.

    Args:
        path: the output path.
        folder: True for an output folder, False for an output file.
        option: the option that named it, for the error.

    Raises:
        BadInput: an existing file where a folder is expected (or a folder where a file
            is), a parent that is a file, or a location this process cannot write.
    """
    target = Path(path)
    if folder and target.exists() and not target.is_dir():
        raise BadInput(f"{option} {target} is an existing file; expected a folder")
    if not folder and target.is_dir():
        raise BadInput(f"{option} {target} is a folder; expected a file path")
    # The nearest part that exists must be a folder we can create files in.
    existing = target if folder and target.is_dir() else target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{option} {target}: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".nooverfit-probe.", dir=existing)
    except OSError as err:
        raise BadInput(
            f"{option} {target} cannot be written ({err.strerror or err}); expected a "
            "writable location"
        ) from None
    os.close(fd)
    os.unlink(probe)
    return target


def remove_stale_tmp(folder: str | os.PathLike[str]) -> int:
    """Delete the ``.*.tmp`` files a killed :func:`atomic_write` left in ``folder`` (not
    below it); return how many. Only one process may write a folder at a time."""
    root = Path(folder)
    if not root.is_dir():
        return 0
    stale = [p for p in root.glob(".*.tmp") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


#: What reading a damaged or foreign checkpoint raises inside ``torch.load`` (its
#: unpickler and zip reader check little, so the fuzz tests found most of these).
UNREADABLE = (
    EOFError,
    RuntimeError,
    ValueError,
    OSError,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
    OverflowError,
    MemoryError,
    struct.error,
)


#: The checkpoints nooverfit writes into a folder (a study's, a train run's), named first.
_SAVED = ("best_model.pt", "model.pt")


def read_checkpoint(path: str | os.PathLike[str], *, what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU, its failures as :class:`BadInput`.

    Args:
        path: the file.
        what: what the file should be, for the error (e.g. ``"--pretrained file"``).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        BadInput: a folder, or not a checkpoint (truncated, empty, text, another format),
            or one that ``weights_only`` refuses as unsafe (it would run code when unpickled).
    """
    import pickle
    import warnings

    import torch

    file = Path(path)
    if file.is_dir():  # exists: "does not exist" would send the user looking for a typo
        # a train run's or a study's --out: the checkpoint in it, named
        held = sorted(file.glob("*.pt"), key=lambda p: (p.name not in _SAVED, p.name))
        inside = f" (it holds {held[0]}{', ...' if len(held) > 1 else ''})" if held else ""
        raise BadInput(f"{what} {file} is a folder; expected a checkpoint file{inside}")
    if not file.is_file():
        raise FileNotFoundError(f"{what} {file} does not exist")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before failing
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "GLOBAL" in str(err):  # a class or function: unpickling it could run code
            raise BadInput(
                f"{what} {file} was refused as unsafe: it names Python objects that "
                "weights_only loading does not allow; expected tensors (a state dict or a "
                "file from nooverfit pretrain/train)"
            ) from None
        raise not_a_checkpoint(what, file) from None
    except UNREADABLE:
        raise not_a_checkpoint(what, file) from None


def not_a_checkpoint(what: str, file: Path) -> BadInput:
    """The one error for a file that ``torch.load`` cannot read as a checkpoint, whatever
    it failed on (the unpickler's complaint about an image, the zip reader's about a
    truncated file): ``"<what> <file> is not a readable PyTorch checkpoint (a PNG image);
    expected a file written by torch.save"``."""
    return BadInput(
        f"{what} {file} is not a readable PyTorch checkpoint ({_kind(file)}); "
        "expected a file written by torch.save"
    )


def _kind(file: Path) -> str:
    try:
        with file.open("rb") as handle:
            return describe_file(handle.read(64), file)
    except OSError:
        return "unreadable"


def require_text(path: str | os.PathLike[str], *, expected: str) -> None:
    """Refuse a binary file (NUL bytes in its first 4 KiB) where a text file is read.

    Raises:
        BadInput: naming what the file looks like (an image, a zip, an executable...).
    """
    with Path(path).open("rb") as handle:
        head = handle.read(4096)
    if b"\x00" in head:
        raise BadInput(f"{path} is {describe_file(head)}, not text; expected {expected}")
