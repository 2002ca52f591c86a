"""Loaders for the built-in data sets: digits, synthetic, CSV files, image folders and
torchvision's MNIST, Fashion-MNIST and CIFAR-10 (read from disk; downloaded only on request).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit.data.columns import (
    decimal_comma,
    encode_columns,
    split_names,
    stray_words_warning,
)
from nooverfit.data.dataset import Dataset, register_dataset
from nooverfit.data.fitted import record_columns
from nooverfit.data.labels import merge_spellings, natural
from nooverfit.errors import BadInput

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
            f"{err.start}); expected a UTF-8 CSV file with a header row"
        ) from None
    except csv.Error as err:
        raise BadInput(f"CSV file {path} cannot be parsed ({err}); expected a CSV file") from None
    except OSError as err:  # unreadable: permissions, a device, an I/O error
        raise BadInput(f"CSV file {path} cannot be read ({err.strerror or err})") from None
    if not rows or not rows[0]:
        raise BadInput(f"CSV file {path} is empty; expected a header row and data rows")
    kept = [k for k in range(1, len(rows)) if rows[k]]
    return [h.strip() for h in rows[0]], [rows[k] for k in kept], [first[k] for k in kept]


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
            raise BadInput(f"{path} row {n} has {len(row)} fields, expected {len(header)}")


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
        ValueError: no target given, the target column is missing, or a feature column
            holds a number outside float32's range or text with too many distinct values.
    """
    if not arg:
        raise ValueError("csv data needs a path: expected --data csv:PATH")
    path = Path(arg)
    if not path.is_file():
        raise FileNotFoundError(f"CSV file not found: {path}")
    header, body, numbers = read_numbered(path)  # numbered as the file numbers them
    check_unique(path, header)
    if target is None or target not in header:
        what = "no target column given" if target is None else f"no column {target!r}"
        raise ValueError(
            f"{what} in {path}; expected --target COLUMN, one of: {', '.join(header)}"
        )
    if not body:
        raise ValueError(f"CSV file {path} has a header but no data rows")
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
    labels = [row[t].strip() for row in body]
    if unlabeled := [numbers[r] for r, v in enumerate(labels) if not v]:
        # an empty label is no class: it would be learned as one and scored as one
        n, rows = len(unlabeled), "rows" if len(unlabeled) > 1 else "row"
        shown = ", ".join(map(str, unlabeled[:5])) + (", ..." if n > 5 else "")
        raise BadInput(
            f"{n} {rows} of {path} {'have' if n > 1 else 'has'} an empty {target!r} "
            f"({rows} {shown}); "
            "expected a label in every row (fill those rows or remove them)"
        )
    labels = merge_spellings(labels)  # 2 and 2.0 are one class
    classes = sorted(set(labels), key=natural)
    lookup = {c: k for k, c in enumerate(classes)}
    y = np.array([lookup[v] for v in labels], dtype=np.int64)
    groups = np.array([row[g].strip() for row in body]) if group is not None else None
    # recorded for saved models, which encode new rows alike (data/fitted.py)
    columns = record_columns(names, cells, encoded, x, target)
    return Dataset(f"csv:{path}", x, y, tuple(classes), "tabular", groups=groups, columns=columns)


def load_folder(arg: str | None, *, image_size: int | None = None, **_: Any) -> Dataset:
    """An image folder in torchvision ``ImageFolder`` layout (``ROOT/<class>/<image>``).

    Images are converted to grayscale when all are grayscale (else RGB) and resized to
    ``image_size`` (default: the first image's size), scaled to [0, 1].
    """
    from PIL import Image
    from torchvision.datasets import ImageFolder

    if not arg:
        raise ValueError("folder data needs a path: expected --data folder:PATH")
    root = Path(arg)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder not found: {root}")
    try:
        folder = ImageFolder(str(root))
    except (FileNotFoundError, RuntimeError) as err:
        sound = any(p.suffix.lower() in (".wav", ".flac") for p in root.rglob("*"))
        hint = f" (sound files: --data speech:{root})" if sound else ""
        raise ValueError(
            f"{root} is not an image folder ({err}); expected ROOT/<class>/<image>{hint}"
        ) from None
    images = []
    for path, _ in folder.samples:
        try:
            with Image.open(path) as image:
                images.append(image.copy())  # loads the pixels and closes the file
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:  # damaged
            raise BadInput(
                f"{path} is not a readable image ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else 'unreadable'}); expected "
                "PNG/JPEG/... images in ROOT/<class>/"
            ) from None
    mode = "L" if all(im.mode in ("L", "1", *_DEEP) for im in images) else "RGB"
    size = (image_size, image_size) if image_size else images[0].size
    arrays = [_scaled(im, mode, size) for im in images]
    x = np.stack(arrays)
    x = x[:, None] if mode == "L" else x.transpose(0, 3, 1, 2)
    y = np.array([label for _, label in folder.samples], dtype=np.int64)
    return Dataset(
        f"folder:{root}", x, y, tuple(folder.classes), "image", groups=_folder_groups(folder)
    )


#: Pillow's modes of 16- and 32-bit integer grayscale (16-bit PNG and TIFF files).
_DEEP = ("I;16", "I;16B", "I;16L", "I;16N", "I")


def _scaled(image: Any, mode: str, size: tuple[int, int]) -> np.ndarray:
    """One image as float32 in [0, 1], ``(H, W)`` for mode ``"L"``, ``(H, W, 3)`` for
    ``"RGB"``: 8-bit images divided by 255, 16-bit grayscale by 65535 (converting those
    to 8 bits first saturated every value above 255 to white)."""
    if image.mode in _DEEP:
        gray = np.asarray(image.convert("I").convert("F").resize(size), dtype=np.float32)
        gray = np.clip(gray / 65535.0, 0.0, 1.0)
        return gray if mode == "L" else np.repeat(gray[..., None], 3, axis=-1)
    return np.asarray(image.convert(mode).resize(size), dtype=np.float32) / 255.0


def _folder_groups(folder: Any) -> np.ndarray | None:
    """Each image's group: the sub-folder under its class folder (``ROOT/<class>/<group>/``),
    or None when the images sit directly in their class folders (the "group" would be the
    class itself, and a gap per group a gap per class)."""
    root = Path(folder.root)
    found = []
    for path, label in folder.samples:
        inside = Path(path).relative_to(root / folder.classes[label]).parts
        found.append(inside[0] if len(inside) > 1 else None)
    if all(g is None for g in found):
        return None
    return np.array([g if g is not None else "(class folder)" for g in found])


_TORCHVISION = {
    "mnist": ("MNIST", "MNIST/raw"),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST/raw"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py"),
}


def _torchvision_loader(name: str) -> Any:
    cls_name, where = _TORCHVISION[name]

    def load(
        arg: str | None = None, *, data_dir: str | None = None, download: bool = False, **_: Any
    ) -> Dataset:
        import torchvision.datasets as tvd

        _no_argument(name, arg)
        root = Path(data_dir or "data")
        cls = getattr(tvd, cls_name)
        parts = []
        try:
            for train in (True, False):
                parts.append(cls(str(root), train=train, download=download))
        except RuntimeError:
            raise FileNotFoundError(
                f"{name} files not found under {root / where}; put them there, or pass "
                f"--download to fetch them (or --data-dir DIR)"
            ) from None
        xs, ys = [], []
        for part in parts:
            data = np.asarray(part.data, dtype=np.float32) / 255.0
            xs.append(data[:, None] if data.ndim == 3 else data.transpose(0, 3, 1, 2))
            ys.append(np.asarray(part.targets, dtype=np.int64))
        classes = tuple(str(c) for c in parts[0].classes)
        return Dataset(name, np.concatenate(xs), np.concatenate(ys), classes, "image")

    return load


register_dataset("digits", load_digits, description="scikit-learn's 8x8 digits (built in)")
register_dataset("synthetic", load_synthetic, description="make_classification tabular data")
register_dataset("csv", load_csv, description="csv:PATH with --target COLUMN")


def load_flipped_folder(arg: str | None, *, image_size: int | None = None, **_: Any) -> Dataset:
    """:func:`load_folder`, named ``folder+flip:PATH``: the same images, whose augmentation
    also flips them left-right (:data:`nooverfit.data.augment.POLICIES`); for classes
    that are themselves in a mirror (photos of objects), never for digits or text."""
    import dataclasses

    dataset = load_folder(arg, image_size=image_size)
    return dataclasses.replace(dataset, name=f"folder+flip:{dataset.name.partition(':')[2]}")


register_dataset(
    "folder", load_folder, description="folder:PATH, ImageFolder layout (never flipped)"
)
register_dataset(
    "folder+flip",
    load_flipped_folder,
    description="folder+flip:PATH, ImageFolder layout, augmented with left-right flips",
)
for _name in _TORCHVISION:
    register_dataset(_name, _torchvision_loader(_name), description="torchvision, from --data-dir")
