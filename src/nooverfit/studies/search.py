"""The combination stage's joint search: the remedies that helped, capacity and the
schedule searched together by Optuna's TPE sampler over a small trial budget, in rounds of
several trials that the fused engine trains side by side.

Remedies overlap (together they usually need less of each), and a regularized network can
afford more capacity and more steps than the baseline: on digits at 10 images per class a
wider, deeper CNN with batch norm, augmentation and a cosine-annealed rate over more steps
reached 94 % test accuracy where each remedy alone on the small baseline stayed near 90 %
(``bench/small_data.py``). One hand-set "weaker" step cannot find that; a joint search can.

The search sees validation scores only. Its first round is :func:`~.combine.combine`'s
candidates (the helpful remedies together, lightly re-tuned), so it never does worse than
that; later rounds are TPE's. Which trial is recommended is not decided here: the stage
puts every trial in the combination level of :func:`~.select.choose`, where the best must
beat the best single remedy by the seed-paired noise margin (ties keep the simpler one).

The sampler is seeded, so the same scores give the same trials (Optuna's TPE is
deterministic under a seed and a fixed order of trials).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from nooverfit.config import RunConfig
from nooverfit.studies.combine import combine
from nooverfit.studies.curves import ValidationCurve, validation_curve
from nooverfit.studies.labels import describe
from nooverfit.studies.select import Score, best

#: the fields a remedy's chosen setting sets, searched between off, half and the choice
_KNOBS: dict[str, tuple[str, ...]] = {
    "l2": ("l2", "weight_decay"),
    "dropout": ("dropout",),
    "label_smoothing": ("label_smoothing",),
    "mixup": ("mixup",),
    "ema": ("ema",),
    "augment": ("augment",),
    "cutout": ("cutout",),
}
#: the most proposals asked for one round before it trains what it has
_ASKS = 50
#: the most epochs a searched schedule multiplies the baseline's by
STEPS = (1, 2, 4)


@dataclass(frozen=True)
class Space:
    """The searched dimensions, each a field of :class:`RunConfig` (or ``"steps"``, the
    factor of the epochs) and its choices; the first choice of each is the merged
    combination's own value.

    Attributes:
        dims: ``(name, choices)`` pairs in a fixed order (the sampler's order).
    """

    dims: tuple[tuple[str, tuple[Any, ...]], ...]

    @property
    def size(self) -> int:
        """How many points the space holds."""
        n = 1
        for _, choices in self.dims:
            n *= len(choices)
        return n


def _levels(field: str, value: float) -> tuple[float, ...]:
    """A knob's choices: the chosen value, half of it, off (duplicates dropped); a
    weight average's decay is kept or off (half a decay averages almost nothing), and
    augmentation may also go to full strength (the remedy alone is judged at the
    baseline's steps, where strong augmentation has not paid off yet)."""
    if field == "ema":
        return (value, 0.0)
    if field == "augment":
        return tuple(dict.fromkeys((value, 1.0, 0.0)))
    return tuple(dict.fromkeys((value, float(f"{value / 2:.2g}"), 0.0)))


def search_space(
    baseline: RunConfig,
    merged: RunConfig,
    chosen: dict[str, RunConfig],
    *,
    max_epochs: int,
    grow: bool = True,
    shifts: bool = False,
) -> Space:
    """The dimensions of the joint search around ``merged`` (the helpful remedies
    together): each helpful remedy's knob (chosen, half, off; see :func:`_levels`),
    batch norm, width (the merged width, twice the baseline's and the baseline's), depth
    (one block or layer more), for a CNN two convolutions per block, the cosine-annealed
    rate, the learning rate (x1, x3) and the steps (the epochs times 1, 2 or 4, at most
    ``max_epochs``), and with ``shifts`` (images) test-time shifts on or off. Pure.

    ``grow=False`` (the quick budget's search on tabular data) leaves out what makes a
    trial dearer than the baseline: twice the width, one more layer, two convolutions per
    block and more steps; the width is then the merged one or the baseline's.
    """
    dims: list[tuple[str, tuple[Any, ...]]] = []
    for remedy in chosen:
        for field in _KNOBS.get(remedy, ()):
            value = getattr(merged, field)
            if value > 0:
                dims.append((field, _levels(field, value)))
    if shifts and not any(n == "augment" for n, _ in dims):  # see invariant()
        dims.append(("augment", tuple(dict.fromkeys((merged.augment, 1.0)))))
    dims.append(("batchnorm", (merged.batchnorm, not merged.batchnorm)))
    widths: tuple[int, ...] = (merged.width, 2 * baseline.width, baseline.width)
    if not grow:
        widths = (merged.width, baseline.width)
    if len(set(widths)) > 1:
        dims.append(("width", tuple(dict.fromkeys(widths))))
    if grow:
        dims.append(("depth", (merged.depth, merged.depth + 1)))
    if grow and merged.model == "cnn":  # VGG-style blocks of two convolutions (models.cnn)
        dims.append(("convs", tuple(dict.fromkeys((merged.convs, 2)))))
    dims.append(("cosine", (merged.cosine, not merged.cosine)))
    dims.append(("lr", (merged.lr, 3 * merged.lr)))  # batch norm affords a larger step
    most = max(max_epochs, merged.epochs)
    steps = tuple(f for f in STEPS if f == 1 or merged.epochs * f <= most)
    if grow and len(steps) > 1:
        dims.append(("steps", steps))
    if merged.early_stopping is not None:
        dims.append(("early_stopping", (merged.early_stopping, None)))
    if shifts:  # an ensemble of shifted copies at test time (nooverfit.shifts)
        dims.append(("tta", (merged.tta, not merged.tta)))
    return Space(tuple(dims))


def invariant(baseline: RunConfig, merged: RunConfig, *, max_epochs: int) -> RunConfig:
    """The image trial of the first round: ``merged`` trained on shifted images at full
    strength, with batch norm, twice the baseline's width, two convolutions per block, the
    cosine-annealed rate at three times the step, for the most steps the search allows.

    The augment remedy alone is judged at the baseline's epochs, where augmentation has not
    paid off yet (on digits' whole pool, 30 epochs: every augmented variant lost to the
    baseline), so the search would never try it otherwise; this trial is that remedy given
    the capacity and the steps to pay off (``bench/augment_digits.py``: 99.47 % test on
    digits' whole pool, seeds 3 and 0). It is one more trial: selection still decides.
    A point of :func:`search_space` with ``shifts`` and ``grow``.
    """
    most = max(max_epochs, merged.epochs)
    factor = max(f for f in STEPS if f == 1 or merged.epochs * f <= most)
    return merged.replace(
        augment=1.0,
        batchnorm=True,
        width=max(merged.width, 2 * baseline.width),
        convs=2 if merged.model == "cnn" else merged.convs,
        cosine=True,
        lr=3 * merged.lr,
        epochs=merged.epochs * factor,
    )


def apply(merged: RunConfig, point: dict[str, Any]) -> RunConfig:
    """``merged`` with the searched values of ``point`` (``steps`` multiplies the epochs)."""
    changes = {k: v for k, v in point.items() if k != "steps"}
    epochs = merged.epochs * int(point.get("steps", 1))
    return merged.replace(**changes, epochs=epochs)


def objective(s: Score) -> float:
    """What the sampler maximizes: mean validation accuracy, then (by a hair) lower
    validation loss, so that ties on a small validation set still order the trials."""
    loss = s.val_loss if s.val_loss < float("inf") else 100.0
    return s.val_accuracy - 1e-4 * min(loss, 100.0)


def name(config: RunConfig, baseline: RunConfig, merged: RunConfig) -> str:
    """A trial's name: what it changes relative to the baseline, with its depth and its
    steps where those differ."""
    parts = [describe(config, baseline)]  # its depth among them
    if config.lr != baseline.lr:
        parts.append(f"lr={config.lr:g}")
    if config.epochs > merged.epochs:
        parts.append(f"{config.epochs // merged.epochs}x steps")
    return " + ".join(p for p in parts if p != "baseline") or "baseline"


Evaluate = Callable[[Sequence[RunConfig]], Sequence[Score]]


def joint_search(
    baseline: RunConfig,
    chosen: dict[str, RunConfig],
    evaluate: Evaluate,
    *,
    trials: int,
    round_size: int = 4,
    max_epochs: int = 600,
    seed: int = 0,
    grow: bool = True,
    shifts: bool = False,
) -> list[tuple[RunConfig, Score]]:
    """Train and score :func:`~.combine.combine`'s candidates, then ``trials`` more
    proposed by TPE in rounds of ``round_size``, each round trained as one batch.

    Args:
        baseline: the unregularized configuration.
        chosen: the selected variant of each remedy that beat the baseline.
        evaluate: trains configurations (one batch, labelled with their :func:`name`)
            and returns their validation scores.
        trials: how many configurations TPE proposes after the first round (0: the
            first round only).
        round_size: trials per round (each round waits for the scores of the last).
        max_epochs: the most epochs a trial may train.
        seed: the sampler's seed.
        grow: whether trials may be wider, deeper or train longer (:func:`search_space`).
        shifts: whether to search test-time shifts too (image data).

    Returns:
        Every distinct configuration tried, with its score, in the order tried (labels
        set to their :func:`name`).
    """
    if not chosen:
        return []
    first = [c.replace(label="") for c in combine(baseline, chosen)]
    merged = first[0]
    if shifts and grow:  # images: augmentation given what it needs to pay off
        first.append(invariant(baseline, merged, max_epochs=max_epochs))
    tried: dict[RunConfig, Score] = {}  # unlabelled configurations

    def run(configs: list[RunConfig]) -> None:
        fresh = [c for c in dict.fromkeys(configs) if c not in tried]
        if fresh:  # trained under their names (a run's key includes its label)
            named = [c.replace(label=name(c, baseline, merged)) for c in fresh]
            tried.update(zip(fresh, evaluate(named), strict=True))

    run(first)
    space = search_space(baseline, merged, chosen, max_epochs=max_epochs, grow=grow, shifts=shifts)
    if trials > 0 and space.size > 1:
        _tpe_rounds(merged, space, run, tried, trials, round_size, seed)
    return [(c.replace(label=name(c, baseline, merged)), s) for c, s in tried.items()]


def _tpe_rounds(
    merged: RunConfig,
    space: Space,
    run: Callable[[list[RunConfig]], None],
    tried: dict[RunConfig, Score],
    trials: int,
    round_size: int,
    seed: int,
) -> None:
    import optuna

    optuna.logging.set_verbosity(logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=round_size)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    distributions: dict[str, optuna.distributions.BaseDistribution] = {
        n: optuna.distributions.CategoricalDistribution(list(range(len(c)))) for n, c in space.dims
    }
    # What is known already (the first round) teaches the sampler before it proposes.
    for config, s in tried.items():
        point = _point_of(config, merged, space)
        if point is not None:
            study.add_trial(
                optuna.trial.create_trial(
                    params=point, distributions=distributions, value=objective(s)
                )
            )
    proposed = 0
    while proposed < trials and len(tried) < space.size:
        batch: list[tuple[optuna.trial.Trial, RunConfig]] = []
        for _ in range(_ASKS):  # a point tried before is told its score, not trained again
            if len(batch) == min(round_size, trials - proposed):
                break
            trial = study.ask(distributions)
            c = apply(merged, {n: choices[trial.params[n]] for n, choices in space.dims})
            if c in tried:
                study.tell(trial, objective(tried[c]))
            elif any(c == other for _, other in batch):
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                batch.append((trial, c))
        if not batch:
            break
        proposed += len(batch)
        run([c for _, c in batch])
        for trial, c in batch:
            study.tell(trial, objective(tried[c]))


def _point_of(config: RunConfig, merged: RunConfig, space: Space) -> dict[str, int] | None:
    """The indices of ``config``'s values in ``space`` (None: it lies outside)."""
    point = {}
    for n, choices in space.dims:
        value = config.epochs // merged.epochs if n == "steps" else getattr(config, n)
        if n == "steps" and config.epochs % merged.epochs:
            return None
        if value not in choices:
            return None
        point[n] = choices.index(value)
    return point


def progress_curve(scores: Sequence[Score]) -> ValidationCurve:
    """The search's knob, its trial budget, as a validation curve: after each number of
    trials (the first round's included, in the order tried), the scores of the best
    configuration so far (:func:`~.select.best`). Its chosen value is the number of
    trials that found the best; at the grid's edge, more trials may find better."""
    if not scores:
        raise ValueError("progress_curve needs at least one trial")
    leaders = [scores[best(scores[: n + 1])] for n in range(len(scores))]
    curve = validation_curve(
        "search_trials",
        [float(n + 1) for n in range(len(scores))],
        leaders,
        [s.accuracy_std for s in leaders],
    )
    # the best so far never gets worse with more trials: no side over- or underfits
    return dataclasses.replace(curve, regions=("fit",) * len(leaders))
