"""`Dataset`: an in-memory labelled data set, and the registry that loads one by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from nooverfit.data.audio_io import NoiseBank
    from nooverfit.data.fitted import Columns
    from nooverfit.data.shortcut import ShortcutProbes

KINDS = ("image", "tabular", "audio")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Features and integer labels held in memory.

    Attributes:
        name: the spec it was loaded from (e.g. ``"digits"``, ``"csv:data.csv"``).
        x: features, float32; ``(N, C, H, W)`` for images, ``(N, F)`` for tabular data,
            ``(N, T)`` for audio.
        y: labels in ``0 .. len(classes) - 1``, int64, shape ``(N,)``.
        classes: class names, indexed by label.
        kind: ``"image"``, ``"tabular"`` or ``"audio"`` (selects augmentation defaults).
        groups: optional group name per sample (for the data audit's group gaps).
        train_groups: when set, splits hold out whole groups (speakers): the training
            pool has this many groups, validation and test the others
            (:func:`~nooverfit.data.split.split_dataset`).
        whole_groups: the groups are units whose samples are not independent (the mixes
            of one source recording, the clips of one speaker), so splits keep each group
            wholly in one of train pool, validation and test, stratified by class as far
            as the groups allow; set by the loader (``speech:PATH``). Default False: split
            per sample, groups only described (image sub-folders, CSV group columns).
        noise: the background-noise bank a synthesized data set was mixed with (the
            audio augmentation mixes training clips with it).
        probes: the shortcut-check probes of a synthesized data set.
        columns: how a CSV file's columns became ``x`` (one-hot categories), so that new
            rows are encoded alike (:mod:`nooverfit.data.fitted`); None for other data.
        lines: the line of its CSV file each sample's row starts at (the header is line 1;
            a quoted cell holding a line break moves the rows after it further down), so
            that the data audit names rows as an editor numbers them; None for other data.
        paths: the file each sample was read from, relative to its image folder
            (``cat/001.png``), so that the data audit names images as the user finds them
            rather than by an index in the loader's order; None for other data.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    classes: tuple[str, ...]
    kind: str
    groups: np.ndarray | None = None
    train_groups: int | None = None
    whole_groups: bool = False
    noise: NoiseBank | None = None
    probes: ShortcutProbes | None = None
    columns: Columns | None = None
    lines: np.ndarray | None = None
    paths: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.x) == 0:
            raise ValueError(f"data set {self.name!r} is empty; expected at least one sample")
        if len(self.x) != len(self.y):
            raise ValueError(
                f"data set {self.name!r} has {len(self.x)} samples but {len(self.y)} labels"
            )
        for what, per in (("lines", self.lines), ("paths", self.paths)):
            if per is not None and len(per) != len(self.y):
                raise ValueError(
                    f"data set {self.name!r} has {len(self.y)} samples but {len(per)} {what}"
                )
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if not np.isfinite(self.x).all():
            raise ValueError(f"data set {self.name!r} has NaN or infinite feature values")

    def __len__(self) -> int:
        return len(self.y)

    @classmethod
    def from_arrays(
        cls,
        x: Any,
        y: Any,
        *,
        name: str = "arrays",
        classes: Sequence[str] | None = None,
        kind: str | None = None,
    ) -> Dataset:
        """A data set from in-memory features and labels (numpy arrays or tensors).

        Args:
            x: features, ``(N, C, H, W)`` images or ``(N, F)`` tabular rows.
            y: integer labels ``0 .. K-1``, shape ``(N,)``.
            name: shown in reports.
            classes: class names (default ``"0" .. "K-1"``).
            kind: ``"image"``, ``"tabular"`` or ``"audio"`` (default: image for 4-D ``x``,
                else tabular).
        """
        xa = np.asarray(x.cpu() if hasattr(x, "cpu") else x, dtype=np.float32)
        ya = _labels(np.asarray(y.cpu() if hasattr(y, "cpu") else y).reshape(-1))
        count = int(ya.max()) + 1 if len(ya) else 0
        names = tuple(classes) if classes is not None else tuple(str(c) for c in range(count))
        if len(names) < count:
            raise ValueError(f"{len(names)} class names given but labels go up to {count - 1}")
        return cls(name, xa, ya, names, kind or ("image" if xa.ndim == 4 else "tabular"))

    @classmethod
    def from_loader(cls, loader: Iterable[Any], **kwargs: Any) -> Dataset:
        """A data set from every ``(x, y)`` batch of a loader (e.g. a PyTorch
        ``DataLoader``), held in memory; ``kwargs`` as for :meth:`from_arrays`."""
        xs, ys = [], []
        for batch in loader:
            x, y = batch[0], batch[1]
            xs.append(np.asarray(x.cpu() if hasattr(x, "cpu") else x, dtype=np.float32))
            ys.append(np.asarray(y.cpu() if hasattr(y, "cpu") else y))
        if not xs:
            raise ValueError("the loader yielded no batches; expected (x, y) batches")
        return cls.from_arrays(np.concatenate(xs), np.concatenate(ys), **kwargs)

    def filled(self, rows: Any) -> np.ndarray:
        """The features with each missing numeric cell of a CSV file filled with the median
        of its column's present values in ``rows`` (a split's training rows), never over
        validation or test rows (:mod:`nooverfit.data.impute`); ``x`` itself where no
        cell is missing."""
        if self.columns is None or self.columns.width != self.x.shape[-1]:
            return self.x
        from nooverfit.data.impute import fill_from

        return fill_from(self.x, self.columns, np.asarray(rows, dtype=np.int64))

    @property
    def in_shape(self) -> tuple[int, ...]:
        """Shape of one sample."""
        return tuple(int(s) for s in self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _labels(raw: np.ndarray) -> np.ndarray:
    """``raw`` as int64 class labels; whole numbers >= 0 only (a cast alone turned 0.5 and
    1.7 into classes 0 and 1, and text failed with numpy's own words)."""
    expected = "expected integer class labels 0 .. K-1"
    if raw.dtype == bool:
        return raw.astype(np.int64)
    if not np.issubdtype(raw.dtype, np.number):
        hint = "map them to numbers, e.g. np.unique(y, return_inverse=True)"
        raise ValueError(f"labels must be numbers, got {raw.dtype} values; {expected} ({hint})")
    if len(raw) and not np.isfinite(raw).all():
        raise ValueError(f"labels hold NaN or infinite values; {expected}")
    if len(raw) and (raw.min() < 0 or not np.array_equal(raw, np.round(raw))):
        wrong = raw[(raw < 0) | (raw != np.round(raw))][0]
        raise ValueError(
            f"labels must be whole numbers >= 0, got {wrong}; {expected} (nooverfit trains "
            "classifiers: bin a regression target first)"
        )
    return raw.astype(np.int64)


Loader = Callable[..., Dataset]
_REGISTRY: dict[str, tuple[Loader, str]] = {}


def register_dataset(name: str, loader: Loader, *, description: str = "") -> None:
    """Make ``load_dataset(name)`` (or ``name:ARG``) call ``loader``.

    The loader receives the part after the colon as ``arg`` (``None`` without one) and the
    keyword options given to :func:`load_dataset`.
    """
    _REGISTRY[name] = (loader, description)


def list_datasets() -> dict[str, str]:
    """Return the registered data set names and their descriptions, sorted by name."""
    return {name: _REGISTRY[name][1] for name in sorted(_REGISTRY)}


def _file_hint(path: Path) -> str:
    """What an unknown data set name that is a file's path is told: ``csv:PATH`` for a
    text file, what it is for any other (a NumPy archive is no CSV file either)."""
    from nooverfit.errors import describe_file

    try:
        with path.open("rb") as f:
            kind = describe_file(f.read(4096), path)
    except OSError:
        kind = "a text file"  # unreadable: load_csv says why
    if kind == "a text file":
        return f"; for that file, csv:{path}"
    return f"; {path} is {kind}, not a CSV file (csv:PATH) or an image folder (folder:PATH)"


def load_dataset(spec: str, **options: Any) -> Dataset:
    """Load a data set by name or spec.

    Args:
        spec: ``"digits"``, ``"synthetic"``, ``"csv:PATH"``, ``"folder:PATH"``, ``"mnist"``,
            ``"fashion-mnist"``, ``"cifar10"``, or any name added with
            :func:`register_dataset`.
        **options: loader options, e.g. ``target`` for CSV files, ``data_dir`` and
            ``download`` for torchvision data sets, ``n_samples`` for ``synthetic``.
            ``split_by_group=True`` (any data set with groups: a CSV's ``group`` column,
            image sub-folders) keeps each group wholly in one of training pool, validation
            and test (:func:`keep_groups_whole`).

    Raises:
        ValueError: unknown name or bad options, with the expected form.
        FileNotFoundError: a file or folder that does not exist.
    """
    if not isinstance(spec, str):  # a DataFrame, an array, a Path: no name to look up
        hint = (
            "; write it to a file first (df.to_csv('data.csv', index=False)), then 'csv:data.csv'"
            if hasattr(spec, "to_csv")
            else f"; for that file, 'csv:{spec}'"
            if isinstance(spec, Path) and spec.is_file()
            else ""
        )
        raise ValueError(
            f"data must be a data set name such as 'digits' or 'csv:PATH' (or a Dataset), "
            f"got a {type(spec).__name__}{hint}"
        )
    name, sep, arg = spec.partition(":")
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        path = Path(spec)  # a file or folder given without its kind
        hint = (
            _file_hint(path)
            if path.is_file()
            else f"; for that folder, folder:{spec}"
            if path.is_dir()
            else ""
        )
        if not hint and _looks_like_path(spec):  # a file name with no such file
            from nooverfit.errors import BadInput, relative_to_cwd

            where = relative_to_cwd(path)
            raise BadInput(
                f"no file or folder {spec!r}{where}; expected a CSV file "
                f"as csv:PATH (with --target COLUMN), an image folder as folder:PATH, or a "
                f"data set: {known}"
            )
        raise ValueError(
            f"unknown data set {spec!r}; expected one of: {known} (csv:PATH, ...){hint}"
        )
    loader, _ = _REGISTRY[name]
    whole = bool(options.pop("split_by_group", False))
    _check_options(loader, options)
    dataset = loader(arg if sep else None, **options)
    return keep_groups_whole(dataset) if whole else dataset


def _looks_like_path(spec: str) -> bool:
    """Whether ``spec`` reads as a file's or folder's path rather than a data set's name:
    it has a folder (``data/x``, ``~/x``) or a file's suffix (``train.csv``)."""
    return "/" in spec or "\\" in spec or bool(Path(spec).suffix)


def keep_groups_whole(dataset: Dataset) -> Dataset:
    """``dataset`` with its groups kept whole by every split (``whole_groups``): the
    opt-in for groups a loader only describes (a CSV's group column, image sub-folders),
    whose rows are not independent (one patient's visits, one site's images): a per-sample
    split could put a patient's rows in training and in test, and score the memory of that
    patient as accuracy on new ones.

    Raises:
        BadInput: a data set without groups.
    """
    import dataclasses

    from nooverfit.errors import BadInput

    if dataset.groups is None:
        raise BadInput(
            f"data set {dataset.name!r} has no groups to keep whole; expected csv:PATH with "
            "--groups COLUMN, or folder:PATH with ROOT/<class>/<group>/ sub-folders"
        )
    return dataclasses.replace(dataset, whole_groups=True)


#: loader options that name a column of a table
_COLUMN_OPTIONS = frozenset({"target", "ignore", "group"})


def _check_options(loader: Loader, options: dict[str, Any]) -> None:
    """Refuse an option no registered loader takes (``seedz=1`` was swallowed by the
    loaders' ``**_``, which exists so that every loader accepts the options common to the
    command line). A loader whose own ``**kwargs`` is not ``**_`` reads them itself."""
    import inspect

    def named(f: Loader) -> tuple[set[str], bool]:
        params = inspect.signature(f).parameters.values()
        free = any(p.kind is p.VAR_KEYWORD and p.name != "_" for p in params)
        return {p.name for p in params if p.kind is not p.VAR_KEYWORD}, free

    if named(loader)[1]:
        return
    # a CSV's column options given for other data were silently ignored
    given = {k for k in _COLUMN_OPTIONS & set(options) if options[k]}
    if idle := sorted(given - named(loader)[0]):
        raise ValueError(
            f"{', '.join(idle)} names a CSV column, but this data set has no columns; "
            "expected it only with csv:PATH data"
        )
    known = set().union(*(named(f)[0] for f, _ in _REGISTRY.values())) - {"arg"}
    if unknown := sorted(set(options) - known):
        raise ValueError(
            f"unknown data set option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; expected study options or loader options such as "
            f"{', '.join(sorted(known))}"
        )
