"""`read_console`: a run's console output saved to a file (``python train.py > train.log``,
a notebook's output pasted into one).

Read are Keras's ``fit`` at verbose 1 or 2 (``Epoch 3/40`` and then the epoch's progress
line, ``... - loss: 0.41 - val_loss: 0.52``), the Hugging Face Trainer's printed dicts
(``{'eval_loss': 0.52, 'epoch': 3.0}``, read as its ``log_history``), and a loop's own
lines that name the epoch and its values (``Epoch [3/40], Loss: 0.41, Val Acc: 85.2%``,
``Epoch 3 | train_loss 0.41``, ``Epoch 003 train-loss 0.41 val-loss 0.52``, ``epoch 3:
val loss 0.52 (acc 0.81)``, a ``logging`` prefix with its date, ``Train Loss: 0.41``
and ``Val Loss: 0.52`` on lines of their own under ``Epoch 3/40``;
tqdm's bars, Lightning's ``TQDMProgressBar`` too, ``Epoch 3: 100%|...| 50/50 [...,
loss=0.41, val_loss=0.52]``; Lightning's default rich bar, written to a file, shows the
last epoch only); scikit-learn's MLP at ``verbose=True`` (:mod:`._sklearn_mlp`).
A bar redrawn with carriage returns and backspaces is read drawing by drawing, colours
removed. The epochs are numbered as printed (Keras from 1, Lightning from 0); a value
printed several times in an epoch is read as it last stood there (a bar's postfix shows
the last epoch's values until its own are in), but an epoch printed step by step alone
(``Epoch 1 step 10 loss 0.5``, no summary line) reads as its steps' mean; and
where two names read as one curve (the steps' ``loss``, the epoch's ``train_loss``), the
one printed last in the epoch is read.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from pathlib import Path

from nooverfit._words import counted
from nooverfit.history import History
from nooverfit.logs._file import log_text
from nooverfit.logs._sklearn_mlp import is_mlp_output, read_mlp_output
from nooverfit.logs._table import canonical, rows_to_history
from nooverfit.logs.huggingface import log_history

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Keras's line opening each epoch.
_KERAS_EPOCH = re.compile(r"Epoch (\d+)/\d+")
#: A drawing of Keras's bar: ``  12/2000 ━━━━ 1:23 42ms/step - loss: 0.41``.
_KERAS_BAR = re.compile(r"\d+/\d+\s.*\d(?:us|ms|s)/step\b.*")
#: The epoch a loop's line names: ``Epoch 3``, ``epoch: 3``, ``Epoch [3/40]``, ``epoch=3``.
_EPOCH = re.compile(r"\bepoch\b\s*[\[:=#]?\s*(\d+)(?:\s*/\s*\d+)?", re.IGNORECASE)
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf"
#: A piece that is a value alone.
_VALUE = re.compile(rf"(?:{_NUMBER})\s*%?", re.IGNORECASE)
#: A name opens a token, not a part of one: tried at each character of a long token, as
#: ``findall`` tries, the search was quadratic (49 s for one 16 KB word, on a line of no
#: values at all). It is never ``nan`` or ``inf``, a value: read as either, a piece of
#: NumPy's printed NaNs (``[nan nan ... nan]``) was split into names and values every
#: possible way, twice as many ways for each two more (exponential: no answer, on a line
#: of 100 of them). (No possessive quantifier: Python 3.10's re has none.)
_NAME = r"(?<![\w./()-])(?!(?:nan|inf)(?![\w./()-]))[A-Za-z_][\w./()]*(?:-[\w./()]+)*"
#: Values named inside a piece, by up to three words and a unit of percent: ``Epoch 3
#: train loss: 0.41 Acc: 0.9``, ``val_loss=0.52``, ``Val Acc (%): 80.1``.
_PAIR = re.compile(
    rf"({_NAME}(?: {_NAME}){{0,2}})(\s*\(%\))?\s*[:=]\s*({_NUMBER})\s*(%?)(?![\w.])",
    re.IGNORECASE,
)
#: A name and its value and nothing more: ``loss 0.41``, ``val acc 85.2%``.
_BARE = re.compile(rf"({_NAME}(?: {_NAME}){{0,2}})\s+({_NUMBER})\s*(%?)", re.IGNORECASE)
#: A piece that is names of one or two words and their values one after another,
#: separated by single spaces alone (``Epoch 003 train-loss 0.41 val loss 0.52``; not
#: prose, ``we got loss 0.3 and acc 0.9``).
_BARE_RUN = re.compile(rf"(?:{_NAME}(?: {_NAME})?\s+(?:{_NUMBER})(?:\s*%)?\s*)+", re.IGNORECASE)
#: The longest piece read as names and values with no other separator.
_LONGEST_RUN = 400
#: What separates a line's pieces: Keras's `` - ``, commas, bars, brackets, tabs, two
#: spaces or more, a colon after a number (``Epoch 3: loss 0.41``, ``step 100: loss 0.5``),
#: brackets around a name and its value (``val loss 0.52 (acc 0.81)``; not ``Acc (%)``),
#: a slash between a value and the next name (``loss:0.41/val_loss:0.52``: a name opens a
#: token, so ``val_loss`` after ``/`` was no name; not ``Epoch [3/40]``, ``42ms/step``, nor
#: after a name ending in digits, ``f1/val: 0.7``: split, ``val: 0.7`` read as a loss).
_PIECES = re.compile(
    r"\s+-\s+|[,|;\t\[\]]|\s{2,}|(?<=\d):\s+|\s\((?=[A-Za-z])|(?<=\d)\)|(?<=\d%)\)"
    r"|(?<=[\d%])(?<![A-Za-z_]\d)(?<![A-Za-z_]\d\d)(?<![A-Za-z_]\d{3})/(?=[A-Za-z_])"
)
#: A phase opening a name (``Train Loss``, ``val_loss``) or a piece (``Val: loss 0.52``).
_PHASE = re.compile(r"(train(?:ing)?|val(?:id|idation)?|test|eval)(?=\b|_)", re.IGNORECASE)
#: A name closed by its side (``Acc Train 0.9 Val 0.8``, ``Loss Val``): the metric, then
#: the side; a side alone after it in the piece names the same metric.
_SIDE_LAST = re.compile(r"(.*\S)\s+(?:train(?:ing)?|val(?:id|idation)?|test|eval)", re.IGNORECASE)
#: A word outside a line's values: prose (``Epoch 5: validation accuracy: 0.81, which is
#: the best we saw``) has many, a log line few (``INFO``, tqdm's ``it/s``, Keras's ``step``).
#: ``nan`` and ``inf`` are values, not words (``acc [0.91 nan 0.88]``, NumPy's print).
_WORD = re.compile(r"\b(?!(?i:nan|inf)\b)[A-Za-z]{2,}\b")
#: A step within the epoch a line names: ``step 10``, ``Step [100/600]``, ``iter: 20``,
#: ``Batch 20/50`` (not Keras's ``42ms/step``).
_STEP = re.compile(r"\b(?:step|iter(?:ation)?|batch)\b\s*[\[:=#]?\s*\d", re.IGNORECASE)
#: The most words a line may hold outside its epoch and values.
_MOST_WORDS = 3
#: Lines of each kind a file needs to be read as a console's output.
LEAST = 2


def console_lines(text: str) -> list[tuple[int, str]]:
    """Each drawing of ``text``'s lines, with its line number, backspaces and colours
    gone: a line redrawn after carriage returns (a progress bar) is each of its drawings
    in turn, which may span epochs (tqdm ends a line now and then only)."""
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = _ANSI.sub("", line).replace("\b", "")
        out += [(number, part.strip()) for part in line.split("\r") if part.strip()]
    return out


def is_console(text: str) -> bool:
    """Whether ``text`` reads as a console's output of training: :data:`LEAST` lines or
    more of Keras's epochs, of the Trainer's dicts, or of a loop's epochs with values;
    or one Keras epoch and its bar."""
    keras = trainer = loop = 0
    lines = console_lines(text)
    if is_mlp_output([line for _, line in lines]):
        return True
    for _, line in lines:
        if _KERAS_EPOCH.fullmatch(line):
            keras += 1
        elif keras and _KERAS_BAR.fullmatch(line):
            # an epoch and its bar: the first epoch's bar, redrawn for thousands of steps,
            # can fill the text read (after the warnings that come first when 2>&1)
            return True
        elif _trainer_entry(line) is not None:
            trainer += 1
        elif _EPOCH.search(line) and _pairs(line):
            loop += 1
        if max(keras, trainer, loop) >= LEAST:
            return True
    return False


def read_console(path: Path, *, columns: Mapping[str, str] | None = None) -> History:
    """Read a console's output (see the module docstring) into a :class:`History`."""
    lines = console_lines(log_text(path))
    if is_mlp_output([line for _, line in lines]):
        return read_mlp_output(lines, source=str(path), columns=columns)
    entries = [e for _, line in lines if (e := _trainer_entry(line)) is not None]
    if len(entries) >= LEAST:
        note = "read from console output: the Trainer's printed dicts as its log_history"
        return log_history(entries, source=str(path), columns=columns, notes=(note,))
    rows: list[dict[str, float]] = []
    numbers: list[int] = []
    steps: list[list[dict[str, float]] | None] = []  # each epoch's step lines, while all are
    keras_epoch: int | None = None
    for number, line in lines:
        if m := _KERAS_EPOCH.fullmatch(line):
            keras_epoch = int(m.group(1))
            continue
        pairs = _pairs(line)
        named = _EPOCH.search(line)
        epoch = int(named.group(1)) if named else keras_epoch
        if not pairs or epoch is None:
            continue
        step = _STEP.search(line) is not None
        if rows and rows[-1]["epoch"] == epoch:  # the epoch's values as they last stood
            # the names printed last first: where two name one curve (a step's ``loss``,
            # the epoch's closing ``train_loss``), the epoch's last line is read
            rows[-1] = {"epoch": float(epoch), **pairs} | {
                k: v for k, v in rows[-1].items() if k not in pairs
            }
            numbers[-1] = number
            held = steps[-1]
            if held is not None and (step or _trained(pairs)):  # (not validation alone)
                steps[-1] = [*held, pairs] if step else None
            continue
        rows.append({"epoch": float(epoch), **pairs})
        numbers.append(number)
        steps.append([pairs] if step else None)
    if not rows:
        raise ValueError(
            f"{path}: no epoch with values found in the console output; expected lines "
            "such as Keras's 'Epoch 3/40' and '... - loss: 0.41 - val_loss: 0.52', or "
            "'Epoch 3, train_loss: 0.41, val_loss: 0.52'"
        )
    notes = ["read from console output: epochs numbered as printed"]
    stepped = [i for i, held in enumerate(steps) if held is not None and len(held) > 1]
    for i in stepped:
        rows[i] |= _step_means(steps[i] or [])
    if stepped:
        notes.append(
            f"{counted(len(stepped), 'epoch')} printed only step by step (no epoch summary "
            "line): their training values are the mean of the steps printed, as Keras and "
            "Lightning average an epoch's loss; validation's, the last printed"
        )
    return rows_to_history(
        rows, columns=columns, source=str(path), lines=numbers, notes=tuple(notes)
    )


def _trained(pairs: Mapping[str, float]) -> list[str]:
    """The names of ``pairs`` read as a training curve (not validation, no step)."""
    read = {name: canonical(name.removesuffix(" %")) for name in pairs}
    return [k for k, n in read.items() if n is not None and not n.target.startswith("val_")]


def _step_means(lines: list[dict[str, float]]) -> dict[str, float]:
    """The values of an epoch printed step by step (``lines``: each step's values): each
    training value's mean over the steps printing it; validation's, left as it last stood
    (evaluated on the weights the epoch ended with)."""
    out = {}
    for name in {k for pairs in lines for k in _trained(pairs)}:
        values = [pairs[name] for pairs in lines if name in pairs]
        out[name] = math.fsum(values) / len(values)
    return out


def _pairs(line: str) -> dict[str, float]:
    """The values a line names, ``{name: value}``, its epoch left out. A name printed
    with a ``%`` after its value gets ``%`` after it (:func:`~nooverfit.logs._names.
    in_percent`'s sign); spaces and underscores in a name are one ``_`` (a bar's ``train
    loss`` and a print's ``train_loss`` are one value); a phase opening the line (``Val
    Loss: 0.5 Acc: 0.8``, ``Train: loss 0.4``) goes before each name without one."""
    out: dict[str, float] = {}
    if _words_left(line) > _MOST_WORDS:  # a sentence that names values is no log line
        return out
    phase = ""
    for piece in _PIECES.split(line):
        opening, piece = _opening(piece)
        phase = opening or phase
        found = _PAIR.findall(piece)
        if not found and _bare(piece):
            found = _BARE.findall(piece)
        metric = "loss"  # what a side alone names (Train 0.41 | Val 0.52: its loss)
        for name, *rest in found:
            value, percent = rest[-2:]
            percent = percent or (rest[0] if len(rest) == 3 else "")  # Acc (%): 85.2
            if re.search(r"\bepoch", name, re.IGNORECASE):
                continue
            side = _SIDE_LAST.fullmatch(name)  # Acc Train: a name closed by its side
            if _PHASE.fullmatch(name):  # (Acc Train 0.9 Val 0.8: Val names the accuracy)
                name = f"{name} {metric}"
            lead = _PHASE.match(name)
            opened = lead is not None and name[lead.end() : lead.end() + 1] == " "
            if side:  # the metric a side alone after it in the piece names
                metric = side.group(1)
            elif lead is not None and opened:
                metric = name[lead.end() + 1 :]
            if lead and opened:
                phase = lead.group(1)  # Train Loss: 0.41 Acc: 0.9 (the training accuracy)
            elif phase and not lead and not side:
                name = f"{phase} {name}"
            key = re.sub(r"[\s_]+", "_", name.strip())
            out[f"{key}{' %' if percent else ''}"] = float(value)
    return out


def _opening(piece: str) -> tuple[str, str]:
    """The phase opening ``piece`` with a colon (``Val: loss 0.52``), or ``""``, and the
    rest of the piece."""
    piece = piece.strip()
    lead = _PHASE.match(piece)
    colon = re.match(r"\s*:\s*", piece[lead.end() :]) if lead else None
    if lead is None or colon is None or _VALUE.fullmatch(piece[lead.end() + colon.end() :]):
        return "", piece  # (``Val: 0.52``: the phase names the value, its loss)
    return lead.group(1), piece[lead.end() + colon.end() :]


def _words_left(line: str) -> int:
    """How many words ``line`` holds outside its epoch, its values and their phases."""
    pieces = [_opening(p)[1] for p in _PIECES.split(_EPOCH.sub(" ", line))]
    return sum(len(_WORD.findall(_PAIR.sub(" ", p))) for p in pieces if not _bare(p))


def _bare(piece: str) -> bool:
    """Whether ``piece`` is a name and its value (:data:`_BARE`), or names and their
    values alone (:data:`_BARE_RUN`)."""
    piece = piece.strip()
    if _BARE.fullmatch(piece):
        return True
    return len(piece) <= _LONGEST_RUN and _BARE_RUN.fullmatch(piece) is not None


def _trainer_entry(line: str) -> dict[str, object] | None:
    """The Trainer's printed dict closing ``line`` (``{'loss': 0.69, 'epoch': 0.5}``, after
    a bar's drawing where the two share a line), or None."""
    start = line.find("{'")
    if start < 0 or not line.endswith("}") or "'epoch'" not in line:
        return None
    line = line[start:]
    try:
        entry = ast.literal_eval(line)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(entry, dict):
        return None
    epoch = entry.get("epoch")
    if not isinstance(epoch, (int, float)) or not math.isfinite(epoch):
        return None
    return {str(k): v for k, v in entry.items()}
