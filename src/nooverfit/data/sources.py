"""Loaders for the built-in data sets: digits, synthetic and CSV files (image folders and
torchvision's data sets: :mod:`nooverfit.data.image_sources`).
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit._words import counted
from nooverfit.data.columns import (
    decimal_comma,
    encode_columns,
    is_missing,
    split_names,
    stray_words_warning,
    units_warning,
)
from nooverfit.data.dataset import Dataset, register_dataset
from nooverfit.data.dates import date_warning
from nooverfit.data.fitted import record_columns
from nooverfit.data.labels import (
    category_warning,
    measured_warning,
    merge_spellings,
    missing_label,
    natural,
    spelling_warning,
)
from nooverfit.errors import BadInput, describe_file, relative_to_cwd
from nooverfit.feature_columns import feature_columns
from nooverfit.label_copies import label_copies, label_copy_warnings
from nooverfit.logged import AUDITED

log = logging.getLogger(__name__)


def _no_argument(name: str, arg: str | None) -> None:
    """Reject ``NAME:ARG`` for a data set that takes no argument."""
    if arg is not None:
        raise ValueError(f"data set {name} takes no argument, got {name}:{arg}; expected {name}")


def load_digits(arg: str | None = None, **_: Any) -> Dataset:
    """scikit-learn's 1,797 8x8 digit images, scaled to [0, 1] (``pixels / 16``)."""
    _no_argument("digits", arg)
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None]  # (N, 1, 8, 8)
    return Dataset(
        "digits", x, bunch.target.astype(np.int64), tuple(str(c) for c in range(10)), "image"
    )


def load_synthetic(
    arg: str | None = None,
    *,
    n_samples: int = 1000,
    n_features: int = 20,
    n_informative: int = 5,
    n_classes: int = 2,
    noise: float = 0.05,
    seed: int = 0,
    **_: Any,
) -> Dataset:
    """A tabular classification problem from ``sklearn.datasets.make_classification``.

    Args:
        n_samples: number of samples (default 1000).
        n_features: number of features (default 20).
        n_informative: informative features (default 5; at most ``n_features``).
        n_classes: number of classes (default 2).
        noise: fraction of labels flipped at random (default 0.05).
        seed: generator seed.
    """
    _no_argument("synthetic", arg)
    from sklearn.datasets import make_classification

    informative = min(n_informative, n_features)
    x, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=informative,
        n_redundant=min(2, n_features - informative),
        n_classes=n_classes,
        flip_y=noise,
        random_state=seed,
    )
    return Dataset(
        "synthetic",
        x.astype(np.float32),
        y.astype(np.int64),
        tuple(str(c) for c in range(n_classes)),
        "tabular",
    )


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header (stripped) and non-empty rows of a UTF-8 CSV file (see
    :func:`read_numbered`)."""
    header, body, _ = read_numbered(path)
    return header, body


def read_numbered(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """The header (stripped) and non-empty rows of a UTF-8 CSV file, and each row's number
    in the file (the header being row 1; blank lines are skipped but counted). The
    separator is guessed from the first two lines (``,``, ``;``, tab, ``|`` or space).

    Raises:
        BadInput: not UTF-8 text, not parseable as CSV, unreadable, or empty.
    """
    from nooverfit.logs.text import separator

    try:
        text = path.read_text(encoding="utf-8-sig")
        lines = text.splitlines()
        # Any common separator (";" is Excel's in many locales), guessed as for logs.
        sep = separator(*lines[:2]) if lines else ","
        # The file's own lines, so that a quoted cell keeps its line break and each row
        # is numbered at its first line (csv.reader counts the lines it has read).
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        rows, first, read = [], [], 0
        for row in reader:
            rows.append(row)
            first.append(read + 1)
            read = reader.line_num
    except UnicodeDecodeError as err:
        raise BadInput(
            f"CSV file {path} is not UTF-8 text (byte {err.object[err.start]:#04x} at offset "
            f"{err.start}{_what_it_is(err.object, path)}); expected a UTF-8 CSV file with a "
            "header row"
        ) from None
    except csv.Error as err:
        raise BadInput(f"CSV file {path} cannot be parsed ({err}); expected a CSV file") from None
    except OSError as err:  # unreadable: permissions, a device, an I/O error
        raise BadInput(f"CSV file {path} cannot be read ({err.strerror or err})") from None
    if "\x00" in text:  # valid UTF-8 all the same: its "columns" were control bytes
        raise BadInput(
            f"CSV file {path} is {describe_file(text[:4096].encode())}, not text; expected a "
            "UTF-8 CSV file with a header row"
        )
    if not rows or not rows[0]:
        raise BadInput(f"CSV file {path} is empty; expected a header row and data rows")
    # blank lines, and lines of spaces only, are no rows (a file's end padded by an editor)
    kept = [k for k in range(1, len(rows)) if rows[k] and (len(rows[k]) > 1 or rows[k][0].strip())]
    return [nfc(h.strip()) for h in rows[0]], [rows[k] for k in kept], [first[k] for k in kept]


#: How to make a CSV file of what :func:`~nooverfit.errors.describe_file` says a file that
#: is not UTF-8 text is (other kinds are named alone; the generic ones not at all).
_TO_CSV = {
    "a NumPy .npz archive": " (numpy.savez), not a table",
    "a zip archive": ", as an Excel workbook (.xlsx) is; save it as 'CSV UTF-8'",
    "a gzip file": "; decompress it first (gunzip)",
    "UTF-16 text": ", as Excel's 'Unicode Text' is; save it as 'CSV UTF-8'",
    "an old Excel workbook (.xls)": "; save it as 'CSV UTF-8'",
    "a Parquet file": "; save it as CSV (pandas's df.to_csv(path, index=False))",
    "an Arrow (Feather) file": "; save it as CSV (pandas's df.to_csv(path, index=False))",
}
_GENERIC = ("a file that is not UTF-8 text", "a binary file", "a text file", "an empty file")


def _what_it_is(data: bytes, path: Path) -> str:
    """What a file that is not UTF-8 text most likely is (:func:`describe_file`, from its
    first bytes and its name), and how to make it a CSV file; empty where nothing says."""
    kind = describe_file(data[:4096], path)
    return "" if kind in _GENERIC else f": {kind}{_TO_CSV.get(kind, '')}"


def nfc(name: str) -> str:
    """A column's name in Unicode's composed form (NFC): ``étiquette`` typed on a
    keyboard is NFC, a header written on macOS or by some exporters may spell the same
    letters decomposed (``e`` and a combining accent), which matched no name the user
    typed while the message listed one that looked the same."""
    return unicodedata.normalize("NFC", name)


def check_rows(
    path: Path,
    header: Sequence[str],
    body: Sequence[Sequence[str]],
    numbers: Sequence[int] | None = None,
) -> None:
    """Raise ``BadInput`` (a ``ValueError``) at the first row of ``body`` whose field count
    differs from the header's (rows numbered as in the file, the header being row 1:
    ``numbers``, or 2, 3, ...)."""
    for r, row in enumerate(body):
        if len(row) != len(header):
            n = numbers[r] if numbers is not None else r + 2
            raise BadInput(
                f"{path} row {n} has {counted(len(row), 'field')}, expected {len(header)}"
            )


def check_nonempty(path: Path, body: Sequence[Sequence[str]]) -> None:
    """Refuse a CSV file with a header and no data rows, in the one wording every command
    uses (study, train and audit read it as data, predict as rows to score).

    Raises:
        BadInput: naming the file and what was expected.
    """
    if not body:
        raise BadInput(
            f"CSV file {path} has a header but no data rows; expected one row per sample "
            "below the header"
        )


def check_unique(path: Path, header: Sequence[str], names: Sequence[str] | None = None) -> None:
    """Refuse a header that names a column twice (all of them, or those of ``names``): a
    column looked up by its name would be the first of the two, silently (a second
    ``label`` column would even be a feature holding the label).

    Raises:
        BadInput: naming the column and both positions (1-based).
    """
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen and (names is None or name in names):
            raise BadInput(
                f"CSV file {path} has two columns named {name!r} (columns {seen[name] + 1} "
                f"and {i + 1}); expected unique column names (rename one)"
            )
        seen.setdefault(name, i)


def load_csv(
    arg: str | None,
    *,
    target: str | None = None,
    group: str | None = None,
    ignore: str | Sequence[str] | None = None,
    **_: Any,
) -> Dataset:
    """A CSV file with a header; feature columns and a ``target`` label column. Numeric
    columns are read as they are, text columns one-hot encoded (see
    :mod:`nooverfit.data.columns`).

    The separator is guessed from the first two lines (``,``, ``;``, tab, ``|`` or space).

    An optional ``group`` column (any text) is kept out of the features and becomes
    ``Dataset.groups`` (for the data audit's group gaps). Columns named in ``ignore`` (a
    list, or names separated by commas: identifiers, free text, leaks of the label) are
    left out.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: no target given, the target column is missing, a row has no label
            (empty, or a missing-value marker such as ``NA``:
            :func:`~nooverfit.data.labels.missing_label`), or a feature column holds a
            number outside float32's range or text with too many distinct values.
    """
    if not arg:
        raise ValueError("csv data needs a path: expected --data csv:PATH")
    path = Path(arg)
    if path.is_dir():
        raise BadInput(
            f"{path} is a folder; expected csv:PATH naming a CSV file (folder:PATH reads a "
            "folder of images)"
        )
    if not path.is_file():
        where = relative_to_cwd(path)
        raise FileNotFoundError(
            f"CSV file not found: {path}{where}; expected csv:PATH naming an existing CSV "
            "file with a header row"
        )
    header, body, numbers = read_numbered(path)  # numbered as the file numbers them
    check_unique(path, header)
    target, group = (None if c is None else nfc(c) for c in (target, group))
    ignore = nfc(ignore) if isinstance(ignore, str) else ignore and [nfc(c) for c in ignore]
    if target is None or target not in header:
        what = "no target column given" if target is None else f"no column {target!r}"
        raise ValueError(
            f"{what} in {path}; expected --target COLUMN, one of: {', '.join(header)}"
        )
    check_nonempty(path, body)
    if group is not None and (group not in header or group == target):
        raise ValueError(
            f"no group column {group!r} in {path}; expected --groups COLUMN, one of: "
            f"{', '.join(h for h in header if h != target)}"
        )
    left_out = split_names(ignore, header) if isinstance(ignore, str) else ignore
    unknown = [c for c in left_out or () if c not in header or c in (target, group)]
    if unknown:
        raise BadInput(
            f"no feature column {unknown[0]!r} to ignore in {path}; expected --ignore with "
            f"some of: {', '.join(h for h in header if h not in (target, group))}"
        )
    t = header.index(target)
    g = header.index(group) if group is not None else -1
    dropped = {header.index(c) for c in left_out or ()}
    # a delimiter closing every line (some exporters write one) makes a column with no
    # name and no value: no feature, and the audit named it column ''
    blank = {
        i
        for i, h in enumerate(header)
        if not h and i not in (t, g) and all(len(row) <= i or not row[i].strip() for row in body)
    }
    if blank:
        log.warning(
            "%s: %s with no name and no value (a delimiter closing each line) left out",
            path,
            counted(len(blank), "column"),
        )
    dropped |= blank
    features = [i for i in range(len(header)) if i not in (t, g) and i not in dropped]
    if not features:  # nothing to learn from: every network and audit check needs a column
        kept_out = ", ".join(repr(header[i]) for i in sorted({t, g, *dropped} - {-1}))
        raise BadInput(
            f"{path} has no feature column (only {kept_out}, the label, group or ignored "
            "columns); expected at least one column to learn the label from"
        )
    check_rows(path, header, body, numbers)
    # Numeric columns as they are, text columns one-hot (data/columns.py).
    names, cells = [header[i] for i in features], [[row[i] for row in body] for i in features]
    x, encoded = encode_columns(names, cells, order=natural, where=f" of {path}", numbers=numbers)
    numeric = set(encoded)  # a numeric column keeps its own name; a text one "name=value"
    for name, column in zip(names, cells, strict=True):
        if (comma := decimal_comma(column)) is not None:  # read as categories: say so
            log.warning(
                "column %r of %s holds numbers written with a comma (%r), read as text "
                "categories (one-hot, no order); expected plain numbers with a decimal point "
                "(2.5, 1500) to read them as numbers",
                name,
                path,
                comma,
            )
        if note := stray_words_warning(name, f" of {path}", column, numbers):
            log.warning("%s", note)  # a column of numbers one-hot for a few words
        if note := units_warning(name, f" of {path}", column):
            log.warning("%s", note)  # a column of numbers one-hot for their unit
        if note := date_warning(name, f" of {path}", [c for c in column if not is_missing(c)]):
            log.warning("%s", note)  # a column of dates one-hot, no order (data/dates.py)
        # a text column's "Red" and "red": two one-hot columns, said (data/labels.py)
        note = "" if name in numeric else category_warning(column, name=name, where=f" of {path}")
        if note:
            log.warning("%s", note)
    labels = [row[t].strip() for row in body]
    if unlabeled := [r for r, v in enumerate(labels) if missing_label(v)]:
        # a missing label (empty, "NA", "?") is no class: it would be learned as one and
        # scored as one
        n, rows = len(unlabeled), "rows" if len(unlabeled) > 1 else "row"
        shown = ", ".join(str(numbers[r]) for r in unlabeled[:5]) + (", ..." if n > 5 else "")
        markers = sorted({labels[r] for r in unlabeled})
        if markers == [""]:
            what = f"an empty {target!r} ({rows} {shown})"
        else:  # "NA", "?": what the file wrote, so the rows can be found
            written = ", ".join(repr(m) for m in markers[:3]) + (", ..." * (len(markers) > 3))
            what = f"a missing {target!r} ({written}; {rows} {shown})"
        raise BadInput(
            f"{n} {rows} of {path} {'have' if n > 1 else 'has'} {what}; "
            "expected a label in every row (fill those rows or remove them)"
        )
    labels = merge_spellings(labels)  # 2 and 2.0 are one class
    if note := measured_warning(labels, target=target, where=f" of {path}"):
        log.warning("%s", note)  # a regression target read as classes
    if note := spelling_warning(labels, target=target, where=f" of {path}"):
        log.warning("%s", note)  # "Yes" and "yes": two classes, said (data/labels.py)
    classes = sorted(set(labels), key=natural)
    lookup = {c: k for k, c in enumerate(classes)}
    y = np.array([lookup[v] for v in labels], dtype=np.int64)
    groups = np.array([row[g].strip() for row in body]) if group is not None else None
    # recorded for saved models, which encode new rows alike (data/fitted.py)
    columns = record_columns(names, cells, encoded, x, target)
    lines = np.array(numbers, dtype=np.int64)  # for the audit's rows (audit_rows.py)
    dataset = Dataset(
        f"csv:{path}", x, y, tuple(classes), "tabular", groups=groups, columns=columns, lines=lines
    )
    # a column that is the label, or a one-to-one relabelling of it: said (label_copies.py)
    found = label_copies(feature_columns(dataset), y, dataset.classes, target=target)
    for line in label_copy_warnings(found, where=f" of {path}"):
        log.warning("%s", line, extra={AUDITED: True})  # a study's audit says it too
    return dataset


register_dataset("digits", load_digits, description="scikit-learn's 8x8 digits (built in)")
register_dataset("synthetic", load_synthetic, description="make_classification tabular data")
register_dataset("csv", load_csv, description="csv:PATH with --target COLUMN")
