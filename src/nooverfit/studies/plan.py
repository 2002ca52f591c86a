"""The study's plan: its stages, in order, and which configurations each trains, for
each budget. Pure, no training (:mod:`.stages` runs a stage).

A *variant* is a configuration without its seed; every variant runs once per seed on that
seed's split. Stages follow the product: a baseline and each remedy alone over a grid,
transfer from a source, the combination of the remedies that helped (then the selection on
validation), a learning curve over training-set size and the checks of the data and of the
selected network. :func:`compare` is a plan of one stage: a candidate and its baseline.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from nooverfit.config import RunConfig
from nooverfit.stopping import STANDARD_CRITERIA
from nooverfit.studies.transfer_stage import STUDY_STRATEGIES, transfer_config


@dataclass(frozen=True)
class StudyBudget:
    """How much a study trains.

    Attributes:
        epochs: the fewest epochs per run (long enough for the baseline to overfit).
        steps: optimizer steps per run: runs on small training sets get more epochs, up
            to ``max_epochs``, until they take this many steps (None: always ``epochs``).
        max_epochs: the most epochs ``steps`` can ask for.
        reference: training samples at which runs train ``epochs`` (see :func:`epochs_for`).
        follow, min_epochs, min_steps: see :class:`~nooverfit.engine.follow.Follow`.
        halving: share of the epochs after which grid points clearly behind stop (None:
            never; see :mod:`.halving`).
        l2: lambda grid of the L2 remedy.
        dropout: rate grid of the dropout remedy.
        widths: smaller widths of the capacity remedy (as fractions of the baseline width).
        augment: strength grid of the augmentation remedy.
        stopping: early-stopping criteria tried.
        sizes: training images per class of the learning curve.
        weight_decay: decoupled weight-decay grid, the L2 remedy's form for Adam (AdamW;
            Loshchilov & Hutter, ICLR 2019: coupled L2 is weak under Adam).
        smoothing: label-smoothing grid.
        ensembles: sizes of the ensembles of the best variants (see :mod:`.ensemble`).
        copies: most copies of the choice so far averaged (:mod:`.copies`; tabular data
            only, where it was measured; < 2: none).
        mixup: mixup's alpha grid (:mod:`nooverfit.mixing`).
        ema: decay grid of the moving average of the weights (:mod:`nooverfit.averaging`).
        inputs: encodings of tabular features tried against the standard scaling
            (:data:`nooverfit.data.tabular.SCALINGS`; tabular data and nooverfit's own
            networks only, since an encoding changes the input width).
        augment_epochs: epochs of the augment remedy's runs, as a multiple of the
            baseline's (a remedy that slows learning is not judged at the baseline's
            epoch); None: the data's own
            (:func:`~nooverfit.data.augment_audio.augment_epochs`).
        cosine: whether to try a cosine-annealed learning rate, alone and with each
            augmentation strength (off in ``quick``: on digits it did not change the default
            study's recommendation and cost 7 % more steps; see ``bench/small_data.py``).
        search: trials of the combination stage's joint search (:mod:`.search`; 0: none).
    """

    epochs: int
    l2: tuple[float, ...]
    dropout: tuple[float, ...]
    widths: tuple[float, ...]
    augment: tuple[float, ...]
    stopping: tuple[str, ...]
    sizes: tuple[int, ...]
    steps: int | None = None
    max_epochs: int = 600
    weight_decay: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
    smoothing: tuple[float, ...] = (0.1, 0.2)
    ensembles: tuple[int, ...] = (3, 5, 9)
    copies: int = 4
    reference: int | None = None
    follow: float | None = None
    min_epochs: int = 10
    min_steps: int = 200
    halving: float | None = None
    mixup: tuple[float, ...] = (0.2, 0.4)
    ema: tuple[float, ...] = (0.99, 0.999)
    inputs: tuple[str, ...] = ("ple",)
    augment_epochs: float | None = None
    cosine: bool = False
    search: int = 0

    def fixed(self) -> StudyBudget:
        """This budget as before issue 21: fixed epochs, no curve following, no halving."""
        return dataclasses.replace(self, reference=None, follow=None, halving=None)


BUDGETS: dict[str, StudyBudget] = {
    "quick": StudyBudget(
        epochs=100,
        l2=(1e-5, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1),
        dropout=(0.1, 0.3, 0.5, 0.7),
        widths=(1 / 16, 1 / 4),
        augment=(0.5, 1.0),
        stopping=("patience:10", "gl:5", "up:3"),
        sizes=(5, 10, 20, 50),
        steps=400,
        reference=200,
        follow=2.0,
        halving=0.5,
    ),
    "standard": StudyBudget(
        epochs=150,
        l2=(1e-6, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1),
        dropout=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7),
        widths=(1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2),
        augment=(0.25, 0.5, 0.75, 1.0),
        stopping=("patience:5", "patience:10", "patience:20", "gl:2", "gl:5", "pq:1", "up:3"),
        sizes=(5, 10, 20, 50, 100),
        steps=1500,
        weight_decay=(0.003, 0.01, 0.03, 0.1, 0.2, 0.3, 1.0, 3.0, 10.0),
        smoothing=(0.05, 0.1, 0.2, 0.3),
        mixup=(0.1, 0.2, 0.4, 1.0),
        ema=(0.9, 0.99, 0.995, 0.999),
        cosine=True,
        reference=200,
        follow=2.0,
        halving=0.5,
        search=8,
    ),
    "thorough": StudyBudget(
        epochs=300,
        l2=tuple(10.0 ** (k / 4) for k in range(-24, -3)),
        dropout=(0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
        widths=(1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2),
        augment=(0.25, 0.5, 0.75, 1.0),
        stopping=STANDARD_CRITERIA,
        sizes=(5, 10, 20, 50, 100, 200),
        steps=4000,
        max_epochs=1500,
        weight_decay=tuple(10.0 ** (k / 4) for k in range(-12, 5)),
        smoothing=(0.05, 0.1, 0.15, 0.2, 0.3),
        ensembles=(3, 5, 9, 15),
        mixup=(0.05, 0.1, 0.2, 0.3, 0.4, 0.7, 1.0),
        ema=(0.8, 0.9, 0.95, 0.99, 0.999),
        cosine=True,
        reference=200,
        follow=2.0,
        halving=0.5,
        search=16,
    ),
}

#: Remedies in report order; each regularizes more as its value grows, except capacity.
REMEDIES = (
    "l2",
    "dropout",
    "label_smoothing",
    "mixup",
    "ema",
    "batchnorm",
    "early_stopping",
    "augment",
    "capacity",
    "inputs",
    "cosine",
)


def get_budget(name: str | StudyBudget) -> StudyBudget:
    """Return the budget called ``name`` (a ``StudyBudget`` passes through); ``ValueError`` lists
    the choices."""
    if isinstance(name, StudyBudget):
        return name
    if name not in BUDGETS:
        raise ValueError(f"budget must be one of {', '.join(BUDGETS)}, got {name!r}")
    return BUDGETS[name]


def epochs_for(budget: StudyBudget, train_samples: int, batch_size: int) -> int:
    """Epochs of a run on ``train_samples`` images: ``budget.epochs``, or more when a run
    needs them to take ``budget.steps`` optimizer steps (at most ``budget.max_epochs``).

    Five images per class take two steps an epoch, fifty take sixteen: a fixed number of
    epochs would leave the smallest training sets undertrained and bias the learning curve.

    With ``budget.reference``, ``epochs * sqrt(reference / train_samples)`` (at least
    ``min_epochs``): steps grow as the square root of the size, not as the size, since an
    unregularized network's best epoch comes sooner on more data (the default study's
    baseline: epoch 29-54 at 200 images, 14-81 at 1,050; a 2,019-row tabular set: 2).
    """
    per_epoch = max(1, math.ceil(train_samples / batch_size))
    wanted = math.ceil(budget.steps / per_epoch) if budget.steps is not None else 0
    if budget.reference is None:
        return max(budget.epochs, min(wanted, budget.max_epochs))
    sized = math.ceil(budget.epochs * math.sqrt(budget.reference / max(1, train_samples)))
    return min(max(sized, wanted, budget.min_epochs), budget.max_epochs)


def remedy_variants(
    baseline: RunConfig, budget: StudyBudget, *, tabular: bool = False
) -> dict[str, list[RunConfig]]:
    """Each remedy alone on top of the baseline, over the budget's grid (the input
    encodings only for ``tabular`` data)."""
    b = baseline
    widths = sorted(
        {max(4, int(b.width * f)) for f in budget.widths if int(b.width * f) < b.width}
    )
    # L2 under Adam in its decoupled form (weight decay, as AdamW applies it); SGD keeps
    # the coupled penalty, which is what weight decay means there.
    l2 = (
        [b.replace(weight_decay=v, label=f"weight decay={v:g}") for v in budget.weight_decay]
        if b.optimizer != "sgd"
        else [b.replace(l2=v, label=f"l2={v:g}") for v in budget.l2]
    )
    augmented = max(1, round(b.epochs * (budget.augment_epochs or 1.0)))
    variants = {
        "l2": l2,
        "dropout": [b.replace(dropout=p, label=f"dropout={p:g}") for p in budget.dropout],
        "label_smoothing": [
            b.replace(label_smoothing=e, label=f"label smoothing={e:g}") for e in budget.smoothing
        ],
        "mixup": [b.replace(mixup=a, label=f"mixup={a:g}") for a in budget.mixup],
        "ema": [b.replace(ema=d, label=f"weight average={d:g}") for d in budget.ema],
        "batchnorm": [b.replace(batchnorm=True, label="batchnorm")],
        "early_stopping": [
            b.replace(early_stopping=c, label=f"early stopping {c}") for c in budget.stopping
        ],
        "augment": [
            b.replace(augment=s, epochs=augmented, label=f"augment={s:g}") for s in budget.augment
        ],
        "capacity": [b.replace(width=w, label=f"width={w}") for w in widths],
        "inputs": [b.replace(inputs=e, label=f"inputs {e}") for e in budget.inputs]
        if tabular
        else [],
    }
    if budget.cosine:
        # annealed alone, and with each augmentation strength: augmented batches are
        # noisier, and their gain shows once the rate settles
        variants["cosine"] = [
            b.replace(cosine=True, label="cosine lr"),
            *(
                b.replace(
                    cosine=True, augment=s, epochs=augmented, label=f"cosine lr + augment={s:g}"
                )
                for s in budget.augment
            ),
        ]
    return variants


def learning_curve_sizes(budget: StudyBudget, available: int) -> list[int]:
    """The budget's per-class sizes that the training pool can supply, plus the largest."""
    sizes = [n for n in budget.sizes if n < available]
    return [*sizes, available] if available not in sizes else sizes


@dataclass(frozen=True)
class RemediesStage:
    """The baseline and each remedy alone over the budget's grid, trained as one batch.

    Attributes:
        baseline: the unregularized configuration.
        grids: each remedy's configurations, in report order (see :data:`REMEDIES`).
        halving: when grid points clearly behind stop (:mod:`.halving`; None: never).
    """

    baseline: RunConfig
    grids: tuple[tuple[str, tuple[RunConfig, ...]], ...]
    halving: float | None = None


@dataclass(frozen=True)
class TransferStage:
    """Each transfer strategy from the study's source, against the baseline."""

    configs: tuple[RunConfig, ...]


@dataclass(frozen=True)
class CombinationStage:
    """The helpful remedies together (:func:`~.combine.combine`), ``search`` trials of the
    joint search (:mod:`.search`, <= ``max_epochs``); the recommendation, on validation."""

    search: int = 0
    max_epochs: int = 600


@dataclass(frozen=True)
class EnsembleStage:
    """Ensembles of the best trained variants by validation (:mod:`.ensemble`): trains
    nothing, scores each on every seed's validation set; the recommendation becomes the
    best ensemble where it beats the choice so far beyond noise.

    Attributes:
        sizes: how many of the best variants each ensemble averages.
        copies: most copies of the choice so far averaged (:mod:`.copies`).
    """

    sizes: tuple[int, ...]
    copies: int = 0


@dataclass(frozen=True)
class LearningCurveStage:
    """Baseline and recommendation over training-set size (:func:`learning_curve_sizes`).

    Attributes:
        budget: the sizes and the steps each size trains for.
        fixed_epochs: the user's epochs, which every size keeps (None: the budget's steps).
    """

    budget: StudyBudget
    fixed_epochs: int | None


@dataclass(frozen=True)
class ChecksStage:
    """The data audit of the first seed's split and, on synthesized data, the shortcut
    check of the baseline's and the recommendation's networks."""


@dataclass(frozen=True)
class CompareStage:
    """A given candidate against its baseline, on one split: the recommendation is the
    candidate, whatever validation says.

    Attributes:
        baseline: the candidate with every remedy off (:func:`unregularized`).
        candidate: the configuration reported on.
        name: how the report names the candidate ("" for what it changes).
    """

    baseline: RunConfig
    candidate: RunConfig
    name: str = ""


Stage = (
    RemediesStage
    | TransferStage
    | CombinationStage
    | EnsembleStage
    | LearningCurveStage
    | ChecksStage
    | CompareStage
)


def study_stages(
    baseline: RunConfig,
    budget: StudyBudget,
    *,
    transfer: bool = False,
    learning_curve: bool = True,
    fixed_epochs: int | None = None,
    tabular: bool = False,
) -> list[Stage]:
    """The stages of a study of ``baseline``, in the order they run.

    Args:
        baseline: the unregularized configuration (its epochs already sized).
        budget: the grids and sizes.
        transfer: whether the study has a source to transfer from.
        learning_curve: whether to train the learning curve (only for a per-class
            training-set size).
        fixed_epochs: epochs the user fixed (None: each learning-curve size gets the
            budget's steps).
        tabular: whether to try the input encodings (tabular data, nooverfit's networks).
    """
    variants = remedy_variants(baseline, budget, tabular=tabular)
    grids = tuple((name, tuple(cs)) for name, cs in variants.items() if cs)
    stages: list[Stage] = [RemediesStage(baseline, grids, budget.halving)]
    if transfer:
        stages.append(TransferStage(tuple(transfer_config(baseline, s) for s in STUDY_STRATEGIES)))
    stages.append(CombinationStage(budget.search, budget.max_epochs))
    if budget.ensembles:
        stages.append(EnsembleStage(budget.ensembles, budget.copies if tabular else 0))
    if learning_curve and baseline.train_per_class is not None:
        stages.append(LearningCurveStage(budget, fixed_epochs))
    stages.append(ChecksStage())
    return stages


def unregularized(config: RunConfig) -> RunConfig:
    """``config`` with every remedy off: no L2, weight decay, dropout, batch norm,
    augmentation or early stopping; same model, optimizer, epochs, data and seed."""
    return config.replace(
        l2=0.0,
        weight_decay=0.0,
        dropout=0.0,
        label_smoothing=0.0,
        mixup=0.0,
        ema=0.0,
        batchnorm=False,
        augment=0.0,
        early_stopping=None,
        cosine=False,
        label="baseline",
    )


def compare_stages(candidate: RunConfig, name: str = "") -> list[Stage]:
    """The plan of :func:`~nooverfit.studies.compare.compare`: one stage."""
    return [CompareStage(unregularized(candidate), candidate, name)]
