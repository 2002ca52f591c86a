"""Options shared by several commands (data set, split, device, the remedies' framework),
declared once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from nooverfit.errors import BadInput

if TYPE_CHECKING:
    from nooverfit.data.tensors import SplitData

For = Annotated[
    str | None,
    typer.Option(
        "--for",
        help="Write the remedies for nooverfit, keras, pytorch, lightning or hf (default: the "
        "framework that wrote the log; plain words where the log does not say).",
    ),
]


def check_for(framework: str | None) -> None:
    """Refuse a ``--for`` that names no framework (before the log is read).

    Raises:
        BadInput: naming the value and the frameworks expected.
    """
    from nooverfit.remedy_words import FRAMEWORKS

    if framework is not None and framework not in FRAMEWORKS:
        raise BadInput(f"--for got {framework!r}; expected one of {', '.join(FRAMEWORKS)}")


Data = Annotated[
    str,
    typer.Option(
        "--data",
        help="Data set: digits, synthetic, csv:PATH, folder:PATH (never flipped; "
        "folder+flip:PATH for classes that mirror), mnist, ...",
    ),
]
Target = Annotated[str | None, typer.Option(help="Label column of a csv: data set.")]
Ignore = Annotated[
    str | None,
    typer.Option(
        help="Columns of a csv: data set to leave out of the features, separated by commas "
        "(identifiers, free text, leaks of the label)."
    ),
]
Groups = Annotated[
    str | None,
    typer.Option(
        "--groups",
        help="Group column of a csv: data set (a patient, a site), kept out of the features.",
    ),
]
SplitByGroup = Annotated[
    bool,
    typer.Option(
        "--split-by-group",
        help="Keep each group (--groups COLUMN, or image sub-folders ROOT/<class>/<group>/) "
        "wholly in one of training pool, validation and test.",
    ),
]
DataDir = Annotated[
    str, typer.Option("--data-dir", help="Where torchvision data sets are stored.")
]
Download = Annotated[
    bool, typer.Option("--download", help="Download a torchvision data set if missing.")
]
TestSize = Annotated[
    float, typer.Option("--test", help="Test set: a fraction of all rows (<1) or a count.")
]
ValSize = Annotated[
    float,
    typer.Option(
        "--val",
        help="Validation set: a fraction (<1) of the rows left after --test, or a count.",
    ),
]
Classes = Annotated[
    str | None,
    typer.Option(help="Keep only these classes, e.g. 5-9 or cat,dog (relabelled from 0)."),
]
Seed = Annotated[int, typer.Option(help="Seed of the split, initialization and data order.")]
Device = Annotated[
    str | None, typer.Option(help="Torch device (default: cuda if available, else cpu).")
]


def _size(value: float) -> float | int:
    return int(value) if value >= 1 else value


def load_data(
    data: str,
    *,
    target: str | None,
    ignore: str | None = None,
    groups: str | None = None,
    split_by_group: bool = False,
    data_dir: str,
    download: bool,
    test: float,
    val: float,
    seed: int,
    device: str | None,
    classes: str | None = None,
) -> SplitData:
    """Load the data set the shared options describe, keep its ``classes`` (``--classes``,
    as a study keeps them: the subset is what is split) and split it."""
    from nooverfit.data.dataset import load_dataset
    from nooverfit.data.split import split_dataset
    from nooverfit.data.tensors import prepare

    dataset = load_dataset(
        data,
        target=target,
        data_dir=data_dir,
        download=download,
        **({"ignore": ignore} if ignore else {}),
        **group_options(groups, split_by_group),
    )
    if classes is not None:
        from nooverfit.transfer.pretrain import subset_classes

        dataset = subset_classes(dataset, classes)
    split = split_dataset(dataset, test=_size(test), val=_size(val), seed=seed)
    return prepare(dataset, split, device=device)


def group_options(groups: str | None, split_by_group: bool) -> dict[str, object]:
    """The loader options of ``--groups`` and ``--split-by-group``, only where given (a
    study's identity holds its data options)."""
    return {
        **({"group": groups} if groups else {}),
        **({"split_by_group": True} if split_by_group else {}),
    }
