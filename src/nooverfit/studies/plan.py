"""The study's plan: its stages, in order, and which configurations each trains, for
each budget. Pure, no training (:mod:`.stages` runs a stage).

A *variant* is a configuration without its seed; every variant runs once per seed on that
seed's split. Stages follow the product: a baseline and each remedy alone over a grid,
transfer from a source, the combination of the remedies that helped (then the selection on
validation), a learning curve over training-set size and the checks of the data and of the
selected network. :func:`compare` is a plan of one stage: a candidate and its baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

from nooverfit.config import RunConfig

# the budgets live in .budget; plan.BUDGETS, plan.get_budget and plan.epochs_for stay
# public names (README: ``plan.BUDGETS["quick"].fixed()``)
from nooverfit.studies.budget import BUDGETS as BUDGETS
from nooverfit.studies.budget import StudyBudget as StudyBudget
from nooverfit.studies.budget import epochs_for as epochs_for
from nooverfit.studies.budget import get_budget as get_budget
from nooverfit.studies.labels import describe
from nooverfit.studies.transfer_stage import STUDY_STRATEGIES, transfer_config

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
    "cutout",
    "tta",
    "capacity",
    "linear",
    "inputs",
    "members",
    "periodic",
    "cosine",
)


def remedy_variants(
    baseline: RunConfig, budget: StudyBudget, *, tabular: bool = False, images: bool = False
) -> dict[str, list[RunConfig]]:
    """Each remedy alone on top of the baseline, over the budget's grid (the input
    encodings only for ``tabular`` data, cutout only for ``images``)."""
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
        # cutout, like augmentation, slows learning: judged at the augmented epochs
        "cutout": [
            b.replace(cutout=f, epochs=augmented, label=f"cutout={f:g}") for f in budget.cutout
        ]
        if images
        else [],
        "tta": [b.replace(tta=True, label="test-time shifts")] if images and budget.tta else [],
        "capacity": [b.replace(width=w, label=f"width={w}") for w in widths],
        # no hidden layer: logistic regression (models.mlp, depth 0) with a coupled L2
        # penalty, the objective of scikit-learn's LogisticRegression; where the signal is
        # linear and the rows few, tuned logistic regression beats the networks trained on
        # them (bench/tabular.py: birthwt, mode). See _linear for its rate and schedule.
        "linear": [_linear(b, v) for v in budget.linear] if tabular and b.model == "mlp" else [],
        "inputs": [b.replace(inputs=e, label=f"inputs {e}") for e in budget.inputs]
        if tabular
        else [],
        # TabM-mini members in one network, PLR embeddings (tabm.py; tabular MLPs only)
        "members": [b.replace(members=k, label=f"{k} members") for k in budget.members]
        if tabular and b.model == "mlp"
        else [],
        "periodic": [b.replace(periodic=True, label="PLR embeddings")]
        if tabular and b.model == "mlp" and budget.periodic
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


#: the linear rung's learning rate over the baseline's
LINEAR_RATE = 100.0


def _linear(baseline: RunConfig, l2: float) -> RunConfig:
    """The linear rung at coupled penalty ``l2`` (``loss += l2 / 2 * ||W||_F^2``, i.e.
    scikit-learn's ``C = 1 / (l2 * n_train)``), at :data:`LINEAR_RATE` times the rate,
    annealed to 0 along a half cosine over the baseline's epochs, so that Adam ends at the
    convex objective's minimum rather than wherever its last constant-size steps left it
    (bench/README.md, i58: at 10x the rate, constant, decoupled decay 0-1 and stopped by its
    curve, the rung trailed scikit-learn's logistic regression by 4 points on ``auto``; this
    one reaches it). A cosine run is not stopped by its curve (``engine.follow.follows``).
    """
    config = baseline.replace(depth=0, lr=LINEAR_RATE * baseline.lr, l2=l2, cosine=True)
    return config.replace(label=describe(config, baseline))


#: How many times a budget's size the largest must be for the size to stay on the learning
#: curve beside it: the budgets' grids step by 2 to 2.5 times, and a size within a quarter
#: of the largest (50 where the pool supplies 51 per class) is under a third of such a step
#: from it on the curve's log axis, a run that says nothing the largest does not.
NEAR_SIZE = 1.25


def learning_curve_sizes(budget: StudyBudget, available: int) -> list[int]:
    """The budget's per-class sizes that the training pool can supply, plus the largest
    (``available``), less those within :data:`NEAR_SIZE` of it (``n * NEAR_SIZE >
    available``): ``[5, 10, 20, 51]`` of the grid ``(5, 10, 20, 50)`` where the pool has 51
    per class, not ``[5, 10, 20, 50, 51]``."""
    return [*(n for n in budget.sizes if n * NEAR_SIZE <= available), available]


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
    joint search (:mod:`.search`, <= ``max_epochs``; ``grow``: trials may be wider, deeper
    or longer); the recommendation, on validation."""

    search: int = 0
    max_epochs: int = 600
    grow: bool = True
    images: bool = False  # the search may also try test-time shifts (nooverfit.shifts)


@dataclass(frozen=True)
class EnsembleStage:
    """Ensembles of the best trained variants by validation (:mod:`.ensemble`): trains
    nothing, scores each on every seed's validation set; the recommendation becomes the
    best ensemble where it beats the choice so far beyond noise.

    Attributes:
        sizes: how many of the best variants each ensemble averages.
        copies: most copies of the choice so far averaged (:mod:`.copies`).
        inputs: the other encoding of tabular features the copies are also trained on
            (:func:`~.copies.copy_candidates`; "" for none).
    """

    sizes: tuple[int, ...]
    copies: int = 0
    inputs: str = ""
    shifts: bool = False  # each candidate's test-time-shifted twin (studies/shifted.py)


@dataclass(frozen=True)
class UnlabeledStage:
    """The pool samples the training subset leaves unused, labelled by the choice so far,
    and a network trained on both per confidence threshold (:mod:`.unlabeled`); the
    recommendation becomes the best of them where it beats the choice beyond noise.

    Attributes:
        thresholds: the least confidence a pseudo-label needs, one run per value and seed.
    """

    thresholds: tuple[float, ...]


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
    | UnlabeledStage
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
    images: bool = False,
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
        images: whether to try cutout (image data).
    """
    variants = remedy_variants(baseline, budget, tabular=tabular, images=images)
    grids = tuple((name, tuple(cs)) for name, cs in variants.items() if cs)
    stages: list[Stage] = [RemediesStage(baseline, grids, budget.halving)]
    if transfer:
        stages.append(TransferStage(tuple(transfer_config(baseline, s) for s in STUDY_STRATEGIES)))
    if budget.search == 0 and tabular and budget.tabular_search > 0:
        stages.append(CombinationStage(budget.tabular_search, budget.max_epochs, grow=False))
    else:
        stages.append(
            CombinationStage(budget.search, budget.max_epochs, images=images and budget.tta)
        )
    if budget.ensembles:
        copies = budget.copies if tabular else 0
        mixed = budget.copy_inputs if tabular and copies >= 2 else ""
        shifts = images and budget.tta
        stages.append(EnsembleStage(budget.ensembles, copies, mixed, shifts=shifts))
    subset = baseline.train_per_class is not None or baseline.train_size is not None
    if budget.pseudo and subset:  # only a subset leaves pool samples to label
        stages.append(UnlabeledStage(tuple(budget.pseudo)))
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
        cutout=0.0,
        tta=False,
        label="baseline",
    )


def compare_stages(candidate: RunConfig, name: str = "") -> list[Stage]:
    """The plan of :func:`~nooverfit.studies.compare.compare`: one stage."""
    return [CompareStage(unregularized(candidate), candidate, name)]
