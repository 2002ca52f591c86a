"""How much a study trains: the named budgets (``quick``, ``standard``, ``thorough``) and
the epochs a run on a given training set gets under one. Pure, no training."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from nooverfit.stopping import STANDARD_CRITERIA


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
        copy_inputs: the other encoding of tabular features the copies are also trained
            on, where the choice reads standardized features ("" for none; see
            :mod:`.copies`): 2 more runs per seed.
        mixup: mixup's alpha grid (:mod:`nooverfit.mixing`).
        ema: decay grid of the moving average of the weights (:mod:`nooverfit.averaging`).
        inputs: encodings of tabular features tried against the standard scaling
            (:data:`nooverfit.data.tabular.SCALINGS`; tabular data and nooverfit's own
            networks only, since an encoding changes the input width): ``ple``, and
            ``onehot`` for numeric columns whose repeated values are codes more than
            measurements (s29 i157: a scanner panel's prices; see the bench README).
        linear: coupled L2 penalties of the linear rung (tabular MLPs only): the
            network without hidden layer, logistic regression, at a hundred times the
            rate, annealed (:func:`nooverfit.studies.plan._linear`); () for none. 5 runs
            per seed of a linear model, from 0 (no penalty) to 1 (scikit-learn's ``C`` of
            0.01 on 100 training rows: ``C = 1 / (l2 * n_train)``).
        augment_epochs: epochs of the augment remedy's runs, as a multiple of the
            baseline's (a remedy that slows learning is not judged at the baseline's
            epoch); None: the data's own
            (:func:`~nooverfit.data.augment_audio.augment_epochs`).
        cosine: whether to try a cosine-annealed learning rate, alone and with each
            augmentation strength (off in ``quick``: on digits it did not change the default
            study's recommendation and cost 7 % more steps; see ``bench/small_data.py``).
        search: trials of the combination stage's joint search (:mod:`.search`; 0: none).
        tabular_search: trials of that search on tabular data (nooverfit's networks) where
            ``search`` is 0, over the knobs, batch norm, the cosine rate and the learning
            rate only (no wider, deeper or longer trials: ``grow=False`` of
            :func:`~.search.search_space`), so that a small tabular study stays cheap.
            0 in every budget: on ``bench/tabular.py``'s 8 design sets, 8 such trials in
            the quick budget ran on the 3 where a remedy helped (mroz, oj, womenlf), cost
            +34 to +43 % of the study's optimizer steps there and changed no
            recommendation (no trial beat the best remedy by the noise margin).
        pseudo: confidence thresholds of the pseudo-labels remedy (:mod:`.unlabeled`),
            tried where a training subset of images leaves pool images unused; () for
            none (``quick``: the default study keeps its cost).
        cutout: grid of the cutout remedy, the side of the erased square as a fraction of
            the image side (images only; :func:`nooverfit.data.augment.cutout`); none in
            ``quick``.
        tta: whether to try test-time shifts (images only; :mod:`nooverfit.shifts`), as a
            remedy, in the joint search (with full augmentation, :func:`~.search.invariant`)
            and as the ensemble stage's untrained twins (:mod:`.shifted`); off in ``quick``.
        members: TabM-mini member counts tried as a remedy (one MLP holding ``k``
            members with their own input signs and output layers, :mod:`nooverfit.tabm`;
            tabular MLPs only); () in every budget: on ``bench/tabular.py``'s design sets
            (i46) the 4-member network never won validation alone and cost 2-3x the
            study's CPU through the ``torch.func`` engine.
        periodic: whether to try PLR embeddings of the features as a remedy (trainable
            frequencies, :mod:`nooverfit.tabm`); off in every budget, for the same
            measurement.
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
    copy_inputs: str = "ple16"
    reference: int | None = None
    follow: float | None = None
    min_epochs: int = 10
    min_steps: int = 200
    halving: float | None = None
    mixup: tuple[float, ...] = (0.2, 0.4)
    ema: tuple[float, ...] = (0.99, 0.999)
    inputs: tuple[str, ...] = ("ple", "onehot")
    linear: tuple[float, ...] = (0.0, 0.001, 0.01, 0.1, 1.0)
    augment_epochs: float | None = None
    cosine: bool = False
    search: int = 0
    tabular_search: int = 0
    pseudo: tuple[float, ...] = ()
    cutout: tuple[float, ...] = ()
    tta: bool = False
    members: tuple[int, ...] = ()
    periodic: bool = False

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
        pseudo=(0.5, 0.9),
        cutout=(0.25, 0.5),
        tta=True,
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
        pseudo=(0.5, 0.9),
        cutout=(0.25, 0.375, 0.5),
        tta=True,
    ),
}


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
