"""`canonical`: a logged column's name read as nooverfit's (``loss``, ``val_loss``,
``accuracy``, ``val_accuracy``, and ``X`` / ``val_X`` for other metrics).

Names understood: Keras (``loss``, ``val_acc``), Lightning (``train_loss_epoch``,
``val_loss``, ``train_acc_step``), TensorBoard tags (``train/epoch_loss``,
``validation/epoch_accuracy``, ``loss/val``), Hugging Face (``eval_loss``), and names
written as words (``Train Loss``, ``val-loss``, ``trainLoss``) or with the side at the
end (``loss_val``, ``accuracy_train``); ``holdout`` and ``cv`` name validation too, and
the abbreviations ``tr`` and ``va`` name the sides (``tr_loss``, ``va_loss``).
Lightning validating on several dataloaders suffixes each name with
``/dataloader_idx_N``: the first dataloader's curves are the validation curves, the
others' are kept as ``dataloader_N_<name>`` (:func:`loader_note` says so).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from nooverfit.errors import BadInput

_TRAIN = ("train", "training", "trn", "tr")
_VAL = ("val", "valid", "validation", "eval", "holdout", "heldout", "cv", "va", "dev")
_ALIASES = {"acc": "accuracy", "err": "error", "lr_epoch": "lr", "learning_rate": "lr"}
#: timm's top-1 accuracy (``eval_top1``, in percent) is accuracy; detectron2's and
#: mmdetection's ``total_loss``, the sum of the losses logged apart, is the loss.
_ALIASES |= {"top1": "accuracy", "total_loss": "loss"}
#: Accuracy under the names Keras and torchmetrics give it (``sparse_categorical_accuracy``,
#: ``binary_accuracy``, ``multiclassaccuracy``).
_ACCURACY = re.compile(r"(sparse_?)?(categorical_?|binary_?|multi(class|label)_?)?acc(uracy)?")
#: Step columns: they number rows, never a curve.
STEPS = ("step", "global_step", "iter", "iteration", "_step")  # _step: W&B's
_IGNORED = {"stop_reason", *STEPS, "wall_time", "walltime", "time", "timestamp", "created_at"}
_IGNORED |= {"_runtime", "_timestamp"}  # W&B's history export
#: Columns that number the runs of one log (the folds of a cross-validation written one
#: after another): no curve; ``join_runs`` names them where the epoch goes back.
RUN_KEYS = frozenset({"fold", "cv_fold", "run", "run_id", "seed", "trial", "repeat", "rep"})
_IGNORED |= RUN_KEYS
#: A W&B panel export's column: ``<run name> - <metric>``, with ``__MIN``/``__MAX`` for
#: the band drawn around a smoothed or grouped curve.
_WANDB = re.compile(r"(.+?) - (.+?)(__(?:min|max))?", re.IGNORECASE)
#: A unit of percent closing a name: ``(%)``, ``[%]``, ``%`` (also after ``_``: ``acc_%``),
#: or written as a word after a separator (``acc_pct``, ``Acc percent``).
_PERCENT = re.compile(
    r"([\s_-]*(\(\s*%\s*\)|\[\s*%\s*\]|%)|[\s_-]+(pct|percent))\s*$", re.IGNORECASE
)
#: Words joined by capitals (``trainLoss``, ``ValidAcc``, as hand-written loops name
#: them): each word two letters or more, so ``mAP`` or ``valAUC`` are no such name.
_CAMEL = re.compile(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)+")
#: Validation's side words that may name another held-out set beside the validation set
#: (a final holdout, a cross-validation's score): at one priority they come second.
_HELD = frozenset({"holdout", "heldout", "cv"})
#: Words that only group a log's values (``{"epoch": 3, "metrics": {"val_loss": ...}}``,
#: flattened to ``metrics/val_loss``; ``scalars/``, ``charts/`` as exports nest them):
#: skipped as a part of a name whose other parts name the curve, not only its side
#: (``Metric/val`` is the validation curve of a metric).
_GROUPS = frozenset({"metrics", "metric", "scalars", "scalar", "charts", "logs", "history"})
#: Lightning's suffix for the values of each of several validation dataloaders.
_LOADER = re.compile(r"[/.]dataloader_idx_(\d+)$")


def in_percent(name: str) -> bool:
    """Whether a logged name closes on a unit of percent (``val_err_pct``, ``Acc (%)``)."""
    wandb = _WANDB.fullmatch(name.strip())
    return bool(_PERCENT.search(wandb.group(2) if wandb else name))


@dataclass(frozen=True)
class Name:
    """A logged column mapped onto a nooverfit name, with its priority (0 = best).

    Priority 0 is an epoch-level value (``*_epoch``), 1 a plain name, 2 a step-level
    value (``*_step``) and 3 a batch-level one (``batch_*``); the lowest that exists wins.
    """

    target: str
    priority: int


def _spelled(name: str) -> str:
    """``name`` in lower case, its words joined by ``_``: words separated by spaces or
    dashes (``Train Loss``, ``val-loss``) or joined by capitals (``trainLoss``)."""
    name = name.strip()
    if _CAMEL.fullmatch(name):  # trainLoss, ValidAcc: words joined by capitals
        name = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name)
    return re.sub(r"[\s-]+", "_", name.lower())


def canonical(name: str) -> Name | None:
    """Map a logged column name onto nooverfit's names; ``None`` for bookkeeping columns."""
    # ``Train Loss``, ``val-loss``: spaces and dashes separate words as ``_`` does; a
    # unit of percent (``Val Acc (%)``) is no part of the name (the values say percent)
    wandb = _WANDB.fullmatch(name.strip())
    if wandb:  # W&B's panel export: "<run> - val_loss", its band "<run> - val_loss__MIN"
        if wandb.group(3):
            return None
        name = wandb.group(2)
    low = _spelled(_PERCENT.sub("", name))
    loader = _LOADER.search(low)
    if loader:  # val_loss/dataloader_idx_1: the second validation dataloader's val_loss
        read = canonical(low[: loader.start()])
        n = int(loader.group(1))
        if read is None or n == 0:
            return read
        # not val_*: another dataloader's curve is never taken for the validation curve
        return Name(f"dataloader_{n}_{read.target}", read.priority)
    # (Lightning's WandbLogger logs trainer/global_step)
    if low in _IGNORED or low == "epoch" or not low or re.split(r"[/.]", low)[-1] in _IGNORED:
        return None
    side = ""
    rest = []
    parts = re.split(r"[/.]", low)
    named = [p for p in parts if p and p not in _GROUPS and p not in _TRAIN + _VAL]
    for part in parts:
        if part in _GROUPS and named:
            continue
        if part in _TRAIN:
            side = "train"
        elif part in _VAL:
            side = "val"
        elif part:
            rest.append(part)
    base = "_".join(rest)
    priority = 1
    if base.endswith("_epoch"):
        base, priority = base[: -len("_epoch")], 0
    elif base.endswith("_step"):
        base, priority = base[: -len("_step")], 2
    for word in _TRAIN + _VAL:
        if base.startswith(word + "_"):
            side, base = ("val" if word in _VAL else "train"), base[len(word) + 1 :]
            break
    else:  # the side at the end: loss_val, accuracy_train (not dev: std_dev is no side)
        for word in _TRAIN + _VAL[:-1]:
            if not side and base.endswith("_" + word):
                side, base = ("val" if word in _VAL else "train"), base[: -len(word) - 1]
    if base.startswith("epoch_"):
        base = base[len("epoch_") :]
    elif base.startswith("batch_"):
        base, priority = base[len("batch_") :], 3
    base = _ALIASES.get(base, base)
    if base == "epoch":  # history/epoch, train/epoch (the Trainer's in W&B): no curve
        return None
    if _ACCURACY.fullmatch(base):  # Keras's and torchmetrics's accuracies are accuracy
        base = "accuracy"
    if not base:
        return None
    return Name(f"val_{base}" if side == "val" else base, priority)


#: Names of a log-likelihood loss (``val_nll``, ``train/cross_entropy``, Keras's
#: ``sparse_categorical_crossentropy`` metric): read as the loss where no column is
#: named ``loss`` (:func:`loss_standins`); the validation loss logged as ``val_nll`` was
#: passed over and the run decided on its accuracy (s30 i163).
LIKELIHOODS = frozenset(
    {"nll", "nll_loss", "neg_log_likelihood", "ce", "ce_loss", "xent", "xent_loss", "bce"}
    | {"bce_loss", "cross_entropy", "cross_entropy_loss", "crossentropy", "log_loss"}
    | {"logloss", "categorical_crossentropy", "sparse_categorical_crossentropy"}
    | {"binary_crossentropy"}
)


def loss_standins(found: Iterable[str], taken: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Columns to read as ``loss`` / ``val_loss`` where neither is among the targets
    already ``taken``: a log-likelihood logged under its own name (:data:`LIKELIHOODS`),
    the epoch-level value first as for any curve, as ``{target: (priority, logged)}``.
    Empty where the log names its losses."""
    taken = set(taken)
    standins: dict[str, tuple[int, str]] = {}
    for logged in found:
        name = canonical(logged)
        if name is None:
            continue
        side, base = (
            ("val_", name.target[4:]) if name.target.startswith("val_") else ("", name.target)
        )
        target = f"{side}loss"
        if base not in LIKELIHOODS or target in taken:
            continue
        if target not in standins or name.priority < standins[target][0]:
            standins[target] = (name.priority, logged)
    return standins


#: ``test`` as a word of a logged name (``Loss/test``, ``test_acc``, ``loss-test``).
_TEST = re.compile(r"(?<![a-z0-9])test(?![a-z0-9])")


def validation_from_test(found: Iterable[str], taken: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Columns to read as the validation curves where none of the targets already
    ``taken`` is one: the curves logged on a ``test`` set (``Loss/test``, as PyTorch's
    TensorBoard tutorial writes it; ``test_accuracy``), held out from training as a
    validation set is, as ``{val target: (priority, logged)}``. Empty where the log has a
    validation curve: a test curve beside it is then no stand-in."""
    if any(t.startswith("val_") for t in taken):
        return {}
    standins: dict[str, tuple[int, str]] = {}
    for logged in found:
        low = _spelled(logged)  # testLoss: test_loss, as canonical reads it
        if not _TEST.search(low) or canonical(logged) is None:
            continue
        name = canonical(_TEST.sub("val", low))
        if name is None or not name.target.startswith("val_"):
            continue
        if name.target not in standins or name.priority < standins[name.target][0]:
            standins[name.target] = (name.priority, logged)
    return standins


def is_epoch(name: str) -> bool:
    """Whether the column ``name`` is the epoch, perhaps under another case (``Epoch``)
    or under words that only group a log's values (``history/epoch``, as a JSON log
    nesting its values under ``history`` is flattened)."""
    parts = re.split(r"[/.]", name.strip().lower())
    return parts[-1] == "epoch" and all(p in _GROUPS for p in parts[:-1])


def run_key(name: str) -> bool:
    """Whether the column ``name`` numbers the runs of one log (:data:`RUN_KEYS`), its name
    read as :func:`canonical` reads it (``Run ID``, ``runId``: ``run_id``)."""
    return _spelled(name) in RUN_KEYS


def held_second(logged: str) -> bool:
    """Whether ``logged`` names validation's side by ``holdout``, ``heldout`` or ``cv`` only
    (``holdout_loss``, ``cvLoss``): where ``val_loss`` is logged beside it, ``val_loss`` is
    the validation curve whichever column comes first (Keras's CSVLogger sorts them)."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", logged.strip())
    words = set(re.split(r"[^a-z]+", spaced.lower()))
    return bool(words & _HELD) and not words & (set(_VAL) - _HELD)


def aliased_second(logged: str) -> bool:
    """Whether ``logged`` names its curve by a tool's alias (detectron2's ``total_loss``,
    timm's ``eval_top1``): where a column names the curve outright (``loss``,
    ``eval_acc``), that column is read whichever comes first."""
    words = re.sub(r"[^a-z0-9]+", "_", logged.strip().lower()).strip("_")
    return words.endswith(("total_loss", "top1"))


def loader_note(found: Iterable[str], mapped: Iterable[str]) -> str:
    """A note when the columns ``found`` hold curves of several Lightning validation
    dataloaders: which one is read as validation, and how to read another. Empty for one
    dataloader, or when a column the user ``mapped`` is another dataloader's."""
    found = list(found)
    loaders = sorted({n for c in found if (n := _loader(c)) is not None})
    if len(loaders) < 2 or any(_loader(c) for c in mapped):
        return ""
    others = [c for c in found if _loader(c)]
    # the example names a loss where one is logged: --val-col maps the validation loss
    losses = [c for c in others if (k := canonical(c)) and k.target.endswith("_val_loss")]
    other = (losses or others)[0]
    return (
        f"validation logged for {len(loaders)} dataloaders (dataloader_idx_"
        f"{', '.join(map(str, loaders))}): dataloader_idx_{loaders[0]}'s read as validation, "
        f"the others' kept as dataloader_N_<curve>; to diagnose another, pass e.g. "
        f"--val-col {other}"
    )


def _loader(column: str) -> int | None:
    """The dataloader a column is Lightning's value of (``val_loss/dataloader_idx_1``: 1)."""
    m = _LOADER.search(column.strip().lower())
    return None if m is None else int(m.group(1))


def rivals_note(found: Iterable[str], chosen: Mapping[str, tuple[int, str]]) -> str:
    """A note where more columns than the one read (``chosen``: ``{target: (priority,
    logged)}``) name the training or the validation loss at its priority (``loss`` and
    ``train/loss``; two runs' ``val_loss`` in a W&B export): which is read, and the flag
    that reads another. Empty where none does."""
    said = []
    for target, flag in (("loss", "--train-col"), ("val_loss", "--val-col")):
        if target not in chosen:
            continue
        priority, read = chosen[target]
        others = [c for c in found if c != read and canonical(c) == Name(target, priority)]
        if others:
            names = ", ".join(repr(c) for c in others)
            said.append(
                f"{target} read from {read!r}; {names} "
                f"{'names' if len(others) == 1 else 'name'} it too (pass {flag} to read another)"
            )
    return "; ".join(said)


def named_once(header: list[str], source: str) -> list[str]:
    """``header``, refused where two of its columns share a name that is read as a curve
    (``epoch,loss,loss,val_loss``): each row's cells are keyed by name, so the last of them
    was read and the other dropped without a word (s30 i165). Repeated names that are no
    curve (two ``time`` columns, unnamed index columns) are left to the last as before."""
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name in seen and name and canonical(name) is not None:
            raise BadInput(
                f"{source}: columns {seen[name]} and {i} of the header are both named "
                f"{name!r}; expected each curve's column named once (rename one, and pick "
                "the one to read with --train-col or --val-col)"
            )
        seen.setdefault(name, i)
    return header
