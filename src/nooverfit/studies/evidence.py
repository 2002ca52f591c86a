"""How sure a study's result is: seed-paired differences against the baseline, with a
t confidence interval over seeds, and the baseline's verdict on every seed.

Each seed has its own split, initialization and data order, and every variant of a study
trains on every seed; so ``variant - baseline`` on one seed cancels the split's luck, and
the spread of those differences over seeds is the noise a user would see on rerunning.
With ``n`` seeds the interval is ``mean +- t(1 - (1 - level) / 2, n - 1) * sd / sqrt(n)``
(``sd`` with ``n - 1`` in the denominator): wide for three seeds, by design. A gain whose
interval contains 0 is within noise. Pure computation on a :class:`StudyResult`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nooverfit.studies.select import score

if TYPE_CHECKING:
    from nooverfit.studies.result import StudyResult, Variant

#: Confidence level of every interval in the report.
LEVEL = 0.95


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom.

    Uses ``scipy.stats.t.ppf`` (scipy is a dependency of scikit-learn and of nooverfit).

    Raises:
        ValueError: if ``p`` is not in (0, 1) or ``df`` < 1.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p!r}")
    if df < 1:
        raise ValueError(f"df must be an integer >= 1, got {df!r}")
    from scipy.stats import t

    return float(t.ppf(p, df))


@dataclass(frozen=True)
class Interval:
    """Mean of paired differences and its t confidence interval over seeds.

    Attributes:
        mean: mean difference (accuracy, a fraction: 0.01 is one point).
        low, high: bounds of the interval (NaN with fewer than two seeds).
        sd: sample standard deviation of the differences (``n - 1``; NaN for one seed).
        level: confidence level (0.95).
        n: number of seeds.
    """

    mean: float
    low: float
    high: float
    sd: float
    level: float
    n: int

    @property
    def within_noise(self) -> bool:
        """Whether the interval contains 0 (or, with one seed, whether there is none)."""
        return not (self.low > 0 or self.high < 0)

    @property
    def flat(self) -> bool:
        """Whether every seed gave the same difference (a zero-width interval, up to
        rounding): there is no spread to measure the noise by."""
        return self.n >= 2 and self.sd <= 1e-9

    @property
    def reading(self) -> str:
        """``"better"``, ``"worse"``, ``"within noise"``, ``"no change"`` (the same
        accuracy on every seed), ``"the same on every seed"`` (a zero-width interval of a
        nonzero difference: not evidence of a gain by itself) or
        ``"one seed: no interval"``."""
        if abs(self.mean) <= 1e-12 and (self.n < 2 or self.flat):
            return "no change"
        if self.n < 2:
            return "one seed: no interval"
        if self.flat:
            return "the same on every seed"
        if self.within_noise:
            return "within noise"
        return "better" if self.mean > 0 else "worse"


def t_interval(
    values: Sequence[float],
    *,
    level: float = LEVEL,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> Interval:
    """The t confidence interval of the mean of ``values`` (differences, one per seed),
    cut to the ``bounds`` the mean can take (a difference of accuracies lies in [-1, 1]:
    with two seeds the t interval can reach beyond them, which no reader can use)."""
    n = len(values)
    if n == 0:
        raise ValueError("t_interval needs at least one value")
    mean = math.fsum(values) / n
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, level, n)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = t_quantile(1 - (1 - level) / 2, n - 1) * sd / math.sqrt(n)
    low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
    return Interval(mean, low, high, sd, level, n)


@dataclass(frozen=True)
class PairedDifference:
    """``candidate - baseline`` on each seed, and its interval.

    Attributes:
        name: the candidate variant's name (e.g. ``"dropout=0.3"``).
        role: ``"recommended"``, a remedy's name, or the stage of another variant
            (``"combination"``; ``"tuned"`` in a tuning report).
        metric: ``"val_accuracy"`` (kept epoch) or ``"test_accuracy"``.
        seeds: the seeds, in order.
        candidate, baseline: the metric on each seed.
        interval: the mean difference and its t interval over seeds.
        selected: whether the study's selection counted the candidate as helping (a
            remedy's ``helped``: seed-paired validation gain of more than
            :data:`~nooverfit.studies.select.MARGIN` standard errors); None where the
            difference is not a remedy's.
        rows: the validation samples of each seed's split (empty if unknown).
    """

    name: str
    role: str
    metric: str
    seeds: tuple[int, ...]
    candidate: tuple[float, ...]
    baseline: tuple[float, ...]
    interval: Interval
    selected: bool | None = None
    rows: tuple[int, ...] = ()

    @property
    def per_seed(self) -> tuple[float, ...]:
        """The difference on each seed."""
        return tuple(c - b for c, b in zip(self.candidate, self.baseline, strict=True))


def paired(
    name: str,
    role: str,
    metric: str,
    seeds: Sequence[int],
    candidate: Sequence[float],
    baseline: Sequence[float],
    *,
    level: float = LEVEL,
    selected: bool | None = None,
    rows: Sequence[int] = (),
) -> PairedDifference:
    """Pair ``candidate`` with ``baseline`` seed by seed and interval the differences
    (``selected`` and ``rows``: see :class:`PairedDifference`)."""
    if not len(seeds) == len(candidate) == len(baseline):
        raise ValueError(
            f"one value per seed expected: {len(seeds)} seeds, {len(candidate)} candidate "
            f"and {len(baseline)} baseline values"
        )
    diffs = [c - b for c, b in zip(candidate, baseline, strict=True)]
    return PairedDifference(
        name,
        role,
        metric,
        tuple(seeds),
        tuple(candidate),
        tuple(baseline),
        t_interval(diffs, level=level, bounds=(-1.0, 1.0)),  # accuracies: fractions
        selected,
        tuple(rows),
    )


@dataclass(frozen=True)
class SeedVerdict:
    """The diagnosis of one seed's baseline run."""

    seed: int
    verdict: str
    onset_epoch: int | None


@dataclass(frozen=True)
class Evidence:
    """The paired evidence of a study.

    Attributes:
        seeds: the study's seeds.
        level: the confidence level of every interval.
        test: recommended - baseline, test accuracy (scored once per seed).
        validation: recommended - baseline, validation accuracy.
        remedies: each remedy's best setting - baseline, validation accuracy, ranked by
            the evidence: mean paired difference, best first (the order selection uses);
            one remedy alone each, so not the ensembles.
        ensembles: the ensemble stage's choice - baseline (its members may be remedies and
            combinations: not ranked among the remedies alone), same order.
        combinations: each combination - baseline, validation accuracy, same order.
        verdicts: the baseline's verdict on every seed.
        verdict: the verdict most seeds got (ties: the first seed's among the tied).
        agree: how many seeds got ``verdict``.
    """

    seeds: tuple[int, ...]
    level: float
    test: PairedDifference
    validation: PairedDifference
    remedies: tuple[PairedDifference, ...]
    combinations: tuple[PairedDifference, ...]
    verdicts: tuple[SeedVerdict, ...]
    verdict: str
    agree: int
    ensembles: tuple[PairedDifference, ...] = ()

    @property
    def unanimous(self) -> bool:
        """Whether every seed's baseline got the same verdict."""
        return self.agree == len(self.verdicts)

    @property
    def share(self) -> str:
        """How many seeds got :attr:`verdict`, in words: "all 3 seeds", "2 of 3 seeds
        (the majority)", "1 of 2 seeds (a tie; the first seed's)"."""
        n = len(self.verdicts)
        if self.unanimous:
            return f"all {n} seeds" if n > 1 else "its one seed"
        if 2 * self.agree > n:
            return f"{self.agree} of {n} seeds (the majority)"
        return f"{self.agree} of {n} seeds (no majority; the first seed's of the most common)"


def val_per_seed(result: StudyResult, variant: Variant) -> tuple[float, ...]:
    """A variant's kept-epoch validation accuracy on each seed, in the study's seed order
    (diverged runs count 0, as in :func:`nooverfit.studies.select.score`; an ensemble's
    are its own scores, kept in its ``Score``)."""
    if len(variant.score.val_per_seed) == len(result.settings.seeds):
        return tuple(variant.score.val_per_seed)
    return tuple(score([result.runs[k].history]).val_accuracy for k in variant.runs)


def evidence(result: StudyResult, *, level: float = LEVEL) -> Evidence:
    """The seed-paired evidence of ``result``: differences against its baseline with
    t intervals, the remedies ranked by them, and the baseline's verdict per seed."""
    seeds = tuple(result.settings.seeds)
    base_val = val_per_seed(result, result.baseline)

    sizes = {sp.seed: len(sp.val) for sp in result.splits}
    rows = tuple(sizes[s] for s in seeds) if all(s in sizes for s in seeds) else ()

    def against_baseline(
        variant: Variant, role: str, selected: bool | None = None
    ) -> PairedDifference:
        return paired(
            variant.name,
            role,
            "val_accuracy",
            seeds,
            val_per_seed(result, variant),
            base_val,
            level=level,
            selected=selected,
            rows=rows,
        )

    def ranked(diffs: list[tuple[PairedDifference, float]]) -> tuple[PairedDifference, ...]:
        # Higher mean difference first, then lower validation loss: select.best's order.
        return tuple(d for d, _ in sorted(diffs, key=lambda t: (-t[0].interval.mean, t[1])))

    measured = [
        (o, (against_baseline(o.chosen, o.remedy, o.helped), o.chosen.score.val_loss))
        for o in result.remedies
    ]
    remedies = ranked([d for o, d in measured if o.chosen.stage != "ensemble"])
    # An ensemble stage's best is not its selection (the most accurate of those that beat
    # the choice so far, select.pick_ensemble): only the recommended ensemble
    # reads "selected", and it is shown even when no stage's best by accuracy was it.
    rec = result.recommended
    shown = [(o.chosen, o.remedy) for o in result.remedies if o.chosen.stage == "ensemble"]
    if rec.stage == "ensemble" and all(v.name != rec.name for v, _ in shown):
        shown.append((rec, "ensemble"))
    ensembles = ranked(
        [
            (against_baseline(v, role, True if v.name == rec.name else None), v.score.val_loss)
            for v, role in shown
        ]
    )
    combinations = ranked(
        [(against_baseline(v, v.stage), v.score.val_loss) for v in result.combinations]
    )
    rec_test, base = result.test["recommended"], result.test["baseline"]
    test = paired(
        result.recommended.name,
        "recommended",
        "test_accuracy",
        tuple(result.settings.seeds),
        rec_test.per_seed,
        base.per_seed,
        level=level,
    )
    verdicts = tuple(
        SeedVerdict(
            seed=result.runs[k].config.seed,
            verdict=result.runs[k].diagnosis.verdict.value,
            onset_epoch=result.runs[k].diagnosis.onset_epoch,
        )
        for k in result.baseline.runs
    )
    counts = Counter(v.verdict for v in verdicts)
    top = max(counts.values())
    majority = next(v.verdict for v in verdicts if counts[v.verdict] == top)
    return Evidence(
        seeds=seeds,
        level=level,
        test=test,
        validation=against_baseline(result.recommended, "recommended"),
        remedies=remedies,
        combinations=combinations,
        verdicts=verdicts,
        verdict=majority,
        agree=top,
        ensembles=ensembles,
    )
