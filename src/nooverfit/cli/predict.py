"""``nooverfit predict``: a study's recommended model, or a train run's model, on new raw
data."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nooverfit._words import counted
from nooverfit.cli._app import app, console, errors, guard
from nooverfit.errors import BadInput, check_new

if TYPE_CHECKING:
    import numpy as np

    from nooverfit.saved_model import StudyModel

#: files of a study's or a train run's folder that --out must not replace
_RUN_FILES = (
    *("results.json", "best_model.pt", "best_model.json", "report.html"),
    *("history.csv", "metrics.json", "model.pt", "model.json"),
)


@app.command("predict")
@guard
def predict_command(
    folder: Annotated[
        Path,
        typer.Argument(help="A nooverfit study's --out folder, or a nooverfit train run's."),
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            help="Raw rows: a CSV file (or csv:PATH) with the model's feature columns, "
            "a .npy array of samples (images, audio, tabular data from arrays), or for an "
            "image model an image file or a folder of them (FOLDER/<class>/ images are "
            "also scored).",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="CSV file of predictions (default: printed to stdout)."),
    ] = None,
    unknown: Annotated[
        str,
        typer.Option(
            help="A category a text column never had in training: error, or ignore "
            "(all zeros in that column's one-hot block)."
        ),
    ] = "error",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing --out file.")
    ] = False,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id",
            metavar="COLUMN",
            help="A column of the --data CSV file (an identifier) to write first, beside "
            "each row's prediction, as written.",
        ),
    ] = None,
) -> None:
    """Predict with the recommended model of a study (best_model.pt), or a train run's
    model (model.pt), on raw data, encoded as its training data was; writes one row per
    input row (an image: its file first; a CSV row: its --id column first, if given): the
    predicted class and the probability of each class. A missing numeric cell (empty, NA,
    nan) takes the training median, an unseen category with --unknown ignore is all zeros,
    and a column the model does not use is ignored: each is said in a note on stderr. An
    existing --out is refused unless --overwrite (never the --data file or the folder's own
    files)."""
    from nooverfit.data.fitted import UNKNOWN
    from nooverfit.saved_model import load_study_model

    if unknown not in UNKNOWN:  # before the model is loaded or the data read
        raise BadInput(f"--unknown must be one of {', '.join(UNKNOWN)}, got {unknown!r}")
    if str(data).startswith("csv:"):  # study's and train's spelling of the same file
        data = Path(str(data)[4:])
    _check_out(out, data=data, folder=folder, overwrite=overwrite)
    model = load_study_model(folder)
    written = ["prediction", *(f"p_{c}" for c in model.classes)]
    if id_column in written:  # a second column of that name would shadow the prediction's
        raise BadInput(
            f"--id {id_column} is a column predict writes ({', '.join(written)}); expected "
            "another column (rename it in the --data file)"
        )
    # the file read once: features, notes, labels and the --id column
    rows = model.read(data, unknown=unknown, id_column=id_column)
    labels, probs = model.scores(rows)
    for note in rows.notes:  # on stderr: stdout may be the predictions
        errors.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    for line in model.warnings(rows):  # said, not acted on: the images predicted as given
        errors.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # which row each is, first: an image's file, or the --id column's cell
    first, names = ("file", rows.files) if rows.files else (id_column, rows.ids)
    writer.writerow([*([first] if names else []), *written])
    for i, (label, row) in enumerate(zip(labels, probs, strict=True)):
        name = [names[i]] if names else []
        writer.writerow([*name, model.classes[label], *(f"{p:.6g}" for p in row)])
    if out is None:  # the predictions on stdout, what it says on stderr
        typer.echo(buffer.getvalue(), nl=False)
    else:
        from nooverfit._io import atomic_write_text

        atomic_write_text(out, buffer.getvalue())
        console.print(f"wrote {counted(len(labels), 'prediction')} of {model.name} to {out}")
    scored = _scored(model, labels, rows.labels)
    if scored:
        (console if out is not None else errors).print(scored, soft_wrap=True)


def _scored(
    model: StudyModel, labels: np.ndarray | Sequence[int], truth: Sequence[str] | None
) -> str:
    """How many rows the model got right, where the rows came with their labels ("" where
    none did). Labels are compared as training read them (2 and 2.0 are one class); rows
    with an empty label are not scored, and a label no class names (a typo, a new class)
    can only be wrong: the line says which. A missing-value marker (``NA``, ``?``) is no
    label, as in training (:func:`~nooverfit.data.labels.missing_label`)."""
    if truth is None:
        return ""
    from nooverfit.data.labels import missing_label, same_label

    pairs = [
        (model.classes[k], t) for k, t in zip(labels, truth, strict=True) if not missing_label(t)
    ]
    if not pairs:
        return ""
    right = sum(same_label(p, t) for p, t in pairs)
    where = f"the {model.columns.target!r} column" if model.columns else "the class folders"
    skipped = len(truth) - len(pairs)
    unlabeled = f"; {counted(skipped, 'row')} without a label not scored" if skipped else ""
    strangers = [t for _, t in pairs if not any(same_label(c, t) for c in model.classes)]
    if strangers:
        names = ", ".join(repr(t) for t in sorted(set(strangers))[:3])
        more = ", ..." if len(set(strangers)) > 3 else ""
        unlabeled += (
            f"; {counted(len(strangers), 'row')} with a label the model never had "
            f"({names}{more}), counted wrong"
        )
    return f"accuracy on {where}: {right / len(pairs):.4f} ({right}/{len(pairs)}{unlabeled})"


def _check_out(out: Path | None, *, data: Path, folder: Path, overwrite: bool) -> None:
    """Refuse an --out that would replace the input or one of the folder's files, even with
    --overwrite, and any other existing file without it."""
    if out is None:
        return
    resolved = out.resolve()
    if data.exists() and resolved == data.resolve():
        raise BadInput(f"--out {out} is the --data file; expected another file for predictions")
    if resolved in {(folder / name).resolve() for name in _RUN_FILES}:
        raise BadInput(
            f"--out {out} is a file of the model's folder {folder}; expected another file"
        )
    check_new(out, overwrite=overwrite)  # before loading the model: nothing lost
