"""A saved model loaded with the preprocessing of its inputs, so that it predicts on raw
data as its training saw it: :func:`load_study_model` reads a study's ``best_model.pt`` or
a ``nooverfit train`` run's ``model.pt``, and the card beside it (``best_model.json``,
``model.json``: written by :mod:`nooverfit.saved_card`, whose names are re-exported here).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nooverfit.data.fitted import Columns, apply_scaling
from nooverfit.errors import BadInput, is_version, newer_nooverfit
from nooverfit.saved_card import CARD, FORMAT, encoding_of, model_card, save_card, sha256
from nooverfit.studies.results_file import check_finished

if TYPE_CHECKING:
    from torch import nn

    from nooverfit.config import RunConfig
    from nooverfit.raw_input import RawRows

__all__ = [
    "CARD",
    "FORMAT",
    "MADE_BY",
    "StudyModel",
    "check_scale",
    "encoding_of",
    "load_study_model",
    "model_card",
    "save_card",
]

#: The weights files a folder's model may be in, each with its card beside it (the name
#: with ``.json``), and the command that writes them: a study's recommendation, a train
#: run's kept weights. One loader reads both; only the file names differ.
MADE_BY = {"best_model.pt": "nooverfit study", "model.pt": "nooverfit train"}


def check_scale(raw: np.ndarray, trained: Sequence[float] | None, kind: str) -> None:
    """Refuse images or audio far off the scale the network trained on.

    A network fed pixels on another scale (scikit-learn's digits as 0-16 where the study
    trained on ``pixels / 16``) answers without complaint and loses accuracy: the study's
    digits model drops from 96.7 % to 94.7 % on its own test split. Raw samples more than
    one training span outside the training range are refused, and so are images whose
    values all fit in an eighth of it (pixels / 255 where the network trained on
    pixels / 16 span a sixteenth, and score 28 % where the right scale scores 98 %); a
    blank image (one value) passes. Audio is not checked for that (a quiet recording is
    still a recording), nor are tabular rows at all: new rows may rightly lie beyond the
    training pool's range.

    Raises:
        BadInput: names both ranges and the scale expected.
    """
    if kind == "tabular" or trained is None or raw.size == 0:
        return
    finite = raw[np.isfinite(raw)]
    if finite.size == 0:
        return
    lo, hi = trained
    span = max(hi - lo, 1e-12)
    low, high = float(finite.min()), float(finite.max())
    if low < lo - span or high > hi + span:
        raise BadInput(
            f"inputs range from {low:g} to {high:g}, but the network trained on values from "
            f"{lo:g} to {hi:g}; expected samples on that scale (as load_dataset gives them, "
            "e.g. digits' pixels / 16)"
        )
    if kind == "image" and 0 < high - low < span / 8:
        raise BadInput(
            f"inputs range from {low:g} to {high:g}, an eighth or less of the {lo:g} to "
            f"{hi:g} the network trained on; expected samples on that scale (as "
            "load_dataset gives them, e.g. digits' pixels / 16, not / 255)"
        )


class StudyModel:
    """A saved network (a study's recommendation, possibly an ensemble, or a train run's
    model) with its input preprocessing.

    Attributes:
        name: the recommendation's name in the report.
        classes: the class names; :meth:`predict_proba`'s columns are in this order.
        kind: ``"tabular"``, ``"image"`` or ``"audio"``.
        columns: the CSV columns raw rows must have (None: data without named columns,
            given as arrays).
        raw_shape: the shape of one raw sample (``(F,)`` raw numeric features for tabular
            data from arrays; ``(C, H, W)`` images as the data set's loader gives them).
        networks: the member networks (one for a single network), in eval mode.
        encodings: each network's scaling record (None: raw features as they are).
        weights: each network's weight in an ensemble's average of probabilities (a
            blend's differ; None: equal).
    """

    def __init__(
        self,
        card: dict[str, Any],
        networks: Sequence[nn.Module],
        weights: Sequence[float] | None = None,
    ) -> None:
        self.name: str = card["name"]
        self.classes: tuple[str, ...] = tuple(card["classes"])
        self.kind: str = card["kind"]
        self.columns = Columns.from_dict(card["columns"]) if card["columns"] else None
        self.raw_shape: tuple[int, ...] = tuple(card["raw_shape"])
        self.raw_range: list[float] | None = card.get("raw_range")  # absent in older cards
        self.image_medians: list[float] | None = card.get("image_medians")  # so is this
        self.networks = [n.eval() for n in networks]
        self.encodings = [
            card["encodings"][m["encoding"]] if m["encoding"] else None for m in card["members"]
        ]
        self.ensemble: bool = card["ensemble"]
        self.weights = None if weights is None else [float(w) for w in weights]

    def features(self, rows: Any, *, unknown: str = "error") -> np.ndarray:
        """The raw feature matrix of ``rows`` (see :meth:`predict_proba`), before scaling."""
        return self.read(rows, unknown=unknown).x

    def read(self, rows: Any, *, unknown: str = "error", id_column: str | None = None) -> RawRows:
        """``rows`` (see :meth:`predict_proba`) read once: the raw features, the notes on
        what reading filled in or ignored, a CSV file's labels and the cells of its
        ``id_column`` (:class:`~nooverfit.raw_input.RawRows`, which :meth:`scores` also
        takes)."""
        from nooverfit.raw_input import RawRows, read_rows

        if isinstance(rows, RawRows):
            return rows
        return read_rows(
            rows,
            columns=self.columns,
            raw_shape=self.raw_shape,
            kind=self.kind,
            unknown=unknown,
            classes=self.classes,
            id_column=id_column,
        )

    def scores(self, rows: Any, *, unknown: str = "error") -> tuple[np.ndarray, np.ndarray]:
        """``(labels, probabilities)`` of ``rows`` (as :meth:`predict_proba` takes them, or
        :meth:`read`'s): class indices ``(N,)`` and ``(N, C)``."""
        import torch

        from nooverfit.train import EVAL_CHUNK

        raw = self.read(rows, unknown=unknown).x
        check_scale(raw, self.raw_range, self.kind)
        outputs = []
        with torch.no_grad():
            for net, record in zip(self.networks, self.encodings, strict=True):
                x = torch.as_tensor(apply_scaling(raw, record) if record else raw)
                chunks = [net(x[i : i + EVAL_CHUNK]) for i in range(0, len(x), EVAL_CHUNK)]
                outputs.append(torch.cat(chunks) if chunks else net(x))
            if not self.ensemble:
                logits = outputs[0]  # the study scores a network by its logits' argmax
                return logits.argmax(1).numpy(), logits.softmax(-1).numpy()
            from nooverfit.studies.ensemble import mean_softmax

            # as Ensemble.forward(x).exp(), which the study scored an ensemble by
            probs = mean_softmax(outputs, self.weights).clamp_min(1e-12).log().exp()
            return probs.argmax(1).numpy(), probs.numpy()

    def warnings(self, rows: Any, *, unknown: str = "error") -> tuple[str, ...]:
        """What is odd about ``rows`` (as :meth:`read` takes them) that predicting does
        not refuse, one line each: images whose background is unlike every training
        image's, their ink likely inverted (:func:`~nooverfit.ink.polarity_warning`)."""
        if self.kind != "image":
            return ()
        from nooverfit.ink import polarity_warning

        read = self.read(rows, unknown=unknown)
        line = polarity_warning(read.x, self.image_medians, self.raw_range, files=read.files)
        return (line,) if line else ()

    def predict_proba(self, rows: Any, *, unknown: str = "error") -> np.ndarray:
        """Class probabilities ``(N, C)`` of raw ``rows``, columns in :attr:`classes` order.

        Args:
            rows: a CSV file's path (with the model's feature columns by name; others,
                such as the target, ignored), a sequence of dicts (column -> value), a
                pandas ``DataFrame``, or an array of raw samples ``(N, *raw_shape)``
                (flattened samples too; a ``.npy`` file's path works as well; for images,
                an image file's path or a folder's, read as the training images were).
                Tabular features are raw: categories as text, numbers as read, unscaled.
            unknown: a category a text column never had in training: ``"error"``
                (default) or ``"ignore"`` (all zeros in its one-hot block).

        Raises:
            BadInput: rows that do not match the model's data, naming what is expected.
        """
        return self.scores(rows, unknown=unknown)[1]

    def predict(self, rows: Any, *, unknown: str = "error") -> np.ndarray:
        """The predicted class names of raw ``rows`` (see :meth:`predict_proba`)."""
        labels = self.scores(rows, unknown=unknown)[0]
        return np.asarray(self.classes, dtype=object)[labels]


def load_study_model(folder: str | Path, *, module: nn.Module | None = None) -> StudyModel:
    """The saved model of a ``nooverfit study`` or ``nooverfit train`` output folder, ready
    for raw data.

    Args:
        folder: a study's ``--out`` folder (its recommendation: ``best_model.pt`` and
            ``best_model.json``) or a train run's (its kept weights: ``model.pt`` and
            ``model.json``; see :data:`MADE_BY`).
        module: your own network, for a study of a ``model_factory``'s networks: the
            weights load into it (nooverfit rebuilds its own networks itself).

    Raises:
        FileNotFoundError: no such folder.
        BadInput: a study interrupted while writing its files, a folder with neither
            layout (or both), one written before its card existed, a weights file that is
            not the one the card describes, a model that cannot be rebuilt here (a
            transfer network from a network loaded in Python).
    """
    from nooverfit._io import read_checkpoint

    root = Path(folder)
    if root.is_file():
        raise BadInput(
            f"{root} is a file, not a folder; expected a nooverfit study's or train run's "
            "--out folder"
        )
    if not root.is_dir():
        raise FileNotFoundError(
            f"folder {root} does not exist; expected a nooverfit study's or train run's --out"
        )
    check_finished(root)
    weights = _weights_file(root)
    path, made_by = weights.with_suffix(".json"), MADE_BY[weights.name]
    if not path.is_file():
        raise BadInput(
            f"{root} has {weights.name} but no {path.name} (written before saved models "
            "carried their preprocessing), so how its inputs were encoded is unknown; "
            f"expected a folder with both: {_again(made_by)}"
        )
    card = _read_card(path, made_by)
    if card["refused"]:
        raise BadInput(f"{root}'s saved model cannot predict here: {card['refused']}")
    try:
        if card["weights"]["sha256"] != sha256(weights):
            raise BadInput(
                f"{weights} is not the model {path} describes (its SHA-256 differs: another "
                f"run's, or a file written since); expected the pair {made_by} wrote together"
            )
        state = read_checkpoint(weights, what="model file")
        nets, shares = _networks(card, state, module, where=str(weights))
        return StudyModel(card, nets, shares)
    except (KeyError, TypeError, IndexError, AttributeError) as err:  # an edited card
        raise BadInput(
            f"{path} is damaged ({type(err).__name__}: {err}); expected the {path.name} "
            f"{made_by} wrote"
        ) from None


def _weights_file(root: Path) -> Path:
    """The one weights file of :data:`MADE_BY` in ``root``.

    Raises:
        BadInput: none (an unfinished study's folder said as such) or both.
    """
    found = [root / name for name in MADE_BY if (root / name).is_file()]
    if len(found) == 1:
        return found[0]
    if found:
        raise BadInput(
            f"{root} holds both a study's best_model.pt and a train run's model.pt; expected "
            "one command's --out folder (move one run's files elsewhere)"
        )
    if (root / "report" / "best_model.pt").is_file() and (root / "best.json").is_file():
        raise BadInput(  # nooverfit tune writes its recommendation as a study, in report/
            f"{root} is nooverfit tune's --out folder; expected the folder of its model: "
            f"{root / 'report'}"
        )
    if (root / "results.json").is_file():  # written before the model (by an older nooverfit)
        raise BadInput(
            f"{root} holds an unfinished study (its results.json, no best_model.pt: it was "
            "interrupted while writing its files); expected a finished one: run the same "
            "nooverfit study command again (same --out and options) to finish it"
        )
    if (root / "runs").is_dir():
        raise BadInput(
            f"{root} holds an unfinished study (its runs/, no best_model.pt yet); expected "
            "a finished one: run the same nooverfit study command again, which resumes "
            "from runs/"
        )
    raise BadInput(
        f"{root} has no best_model.pt or model.pt; expected the --out folder of nooverfit "
        "study (best_model.pt, best_model.json) or of nooverfit train (model.pt, model.json)"
    )


def _again(made_by: str) -> str:
    """How to get a saved model with its card again."""
    if made_by == "nooverfit study":
        return (
            "run the study again (the same --out resumes it when the nooverfit version is "
            "the same)"
        )
    return "run nooverfit train again, which writes both"


def _read_card(path: Path, made_by: str) -> dict[str, Any]:
    expected = f"expected the {path.name} {made_by} writes"
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BadInput(f"{path} is not readable JSON ({err}); {expected}") from None
    needed = ("format", "classes", "kind", "members", "encodings", "weights", "refused")
    if not isinstance(card, dict) or any(k not in card for k in needed):
        keys = ", ".join(needed)
        raise BadInput(f"{path} is not a model card; {expected}, with the keys {keys}")
    form = card["format"]
    if not is_version(form):
        raise BadInput(f"{path} has format {form!r}; expected a whole number from 1 to {FORMAT}")
    if form > FORMAT:
        made = f"{card.get('nooverfit', '?')}, format {form}"
        raise newer_nooverfit(path, made, f"formats up to {FORMAT}")
    return card  # format 1's files load too: stale biases folded, equal ensemble weights


def _networks(
    card: dict[str, Any], state: Any, module: nn.Module | None, *, where: str
) -> tuple[list[nn.Module], list[float] | None]:
    """The card's networks with ``state``'s weights loaded, and an ensemble's members'
    weights in its average (``state``'s ``weights``; equal where a file has none)."""
    from nooverfit.config import RunConfig
    from nooverfit.stale_bias import fold_stale_biases
    from nooverfit.studies.ensemble import Ensemble

    if module is None and card.get("custom"):
        raise BadInput(
            f"{where} holds the weights of your own network (the study's model_factory); "
            "expected load_study_model(folder, module=your_network)"
        )
    if module is not None:
        if card["ensemble"]:
            raise BadInput(f"{where} holds an ensemble; expected no module (it rebuilds it)")
        nets = [module]
    else:
        nets = [_member(card, RunConfig.from_dict(m["config"]), m, where) for m in card["members"]]
    target: nn.Module = Ensemble(nets) if card["ensemble"] else nets[0]
    try:
        # saved before layers feeding batch norm lost their bias: folded, same network
        target.load_state_dict(
            fold_stale_biases(target, state)
            if module is None and isinstance(state, dict)
            else state
        )
    except (RuntimeError, TypeError, AttributeError) as err:
        first = str(err).strip().splitlines()[0]
        raise BadInput(
            f"{where} does not fit the network its card describes ({first}); expected the "
            "weights saved with that card"
        ) from None
    if isinstance(target, Ensemble):
        return nets, target.weights.tolist()
    return nets, None


def _member(
    card: dict[str, Any], config: RunConfig, member: dict[str, Any], where: str
) -> nn.Module:
    """One member network, untrained, in the architecture its weights were saved from: a
    transfer network is the source's, prepared again for the card's classes and inputs."""
    from nooverfit.models import build_model
    from nooverfit.studies.transfer_stage import strategy_of
    from nooverfit.transfer.architecture import prepared

    in_shape = tuple(member["in_shape"])
    strategy = strategy_of(config)
    if strategy is None:
        return build_model(config, in_shape, len(card["classes"]), kind=card["kind"])
    source = card.get("source")
    if not isinstance(source, dict):
        raise BadInput(
            f"{where} holds a transfer network but its card records no source architecture; "
            "expected the card nooverfit study or train wrote with a transfer network"
        )
    try:
        return prepared(source, config, strategy, in_shape, card["kind"], len(card["classes"]))
    except (ValueError, KeyError) as err:
        raise BadInput(
            f"{where}'s transfer source cannot be rebuilt ({err}); expected a nooverfit or "
            "torchvision architecture"
        ) from None
