"""Running the plan's stages (:mod:`.plan`): each stage trains its runs through the
:class:`~nooverfit.studies.session.StudySession` and adds what it found to the
:class:`Findings`, which :func:`~nooverfit.studies.run.run_plan` turns into the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from nooverfit.config import RunConfig
from nooverfit.data.keywords import keyword_probes
from nooverfit.studies import plan
from nooverfit.studies.curves import (
    learning_curve,
)
from nooverfit.studies.ensemble import Members
from nooverfit.studies.findings import Findings, selection_levels
from nooverfit.studies.findings import add_curve as _add_curve
from nooverfit.studies.findings import outcome as _outcome
from nooverfit.studies.halving import stage_halving
from nooverfit.studies.remedy_curves import capacity_curve, remedy_curves
from nooverfit.studies.result import Variant
from nooverfit.studies.search import joint_search, progress_curve
from nooverfit.studies.select import (
    Score,
    best,
    choose,
    kept_row,
    pick_ensemble,
    score,
)
from nooverfit.studies.session import StudySession
from nooverfit.studies.shifted import prefer_shifts, shifted_twins


def run_stage(stage: plan.Stage, session: StudySession, found: Findings) -> None:
    """Train ``stage``'s runs and record what they show in ``found``."""
    if isinstance(stage, plan.RemediesStage):
        _remedies(stage, session, found)
    elif isinstance(stage, plan.TransferStage):
        _transfer(stage, session, found)
    elif isinstance(stage, plan.CombinationStage):
        _combination(stage, session, found)
    elif isinstance(stage, plan.EnsembleStage):
        _ensemble(stage, session, found)
    elif isinstance(stage, plan.UnlabeledStage):
        from nooverfit.studies.unlabeled import run_unlabeled

        run_unlabeled(stage, session, found, lambda v, s: _network(session, found, v, s))
    elif isinstance(stage, plan.LearningCurveStage):
        _learning_curve(stage, session, found)
    elif isinstance(stage, plan.ChecksStage):
        _checks(session, found)
    elif isinstance(stage, plan.CompareStage):
        _compare(stage, session, found)
    else:  # pragma: no cover - a new stage type without its runner
        raise TypeError(f"no runner for stage {stage!r}")


def _remedies(stage: plan.RemediesStage, session: StudySession, found: Findings) -> None:
    baseline = stage.baseline
    configs = [baseline, *(c for _, cs in stage.grids for c in cs)]
    session.expect(len(set(configs)) * len(session.seeds))  # each trained once
    session.train(configs, judge=stage_halving(stage.grids, stage.halving))
    base = session.variant(baseline, "baseline", baseline)
    found.baseline = base
    found.variants.append(base)
    by_stage: dict[str, list[Variant]] = {}
    for name, grid in stage.grids:
        variants = [session.variant(c, name, baseline) for c in grid]
        by_stage[name] = variants
        found.variants += variants
        outcome = _outcome(name, variants, base)
        if outcome.helped:
            found.chosen[name] = outcome.chosen.config
        found.outcomes.append(outcome)
    found.validation_curves = remedy_curves(base, by_stage)
    found.capacity = capacity_curve(base, by_stage.get("capacity", []))


def _transfer(stage: plan.TransferStage, session: StudySession, found: Findings) -> None:
    session.expect(len(stage.configs) * len(session.seeds))
    session.train_transfer(stage.configs)
    baseline = found.base.config
    found.transfer = [
        session.variant(c, "transfer", baseline, name=c.label) for c in stage.configs
    ]
    found.outcomes.append(_outcome("transfer", found.transfer, found.base))
    if session.source is not None:  # what each strategy froze, for the report
        from nooverfit.studies.transfer_stage import strategy_of, transfer_words

        strategies = [strategy_of(c) or "" for c in stage.configs]
        data = session.data[session.seeds[0]]
        found.extras["transfer"] = transfer_words(session.source, data, baseline, strategies)


def _combination(stage: plan.CombinationStage, session: StudySession, found: Findings) -> None:
    baseline = found.base.config
    known = {v.config.replace(label=""): v.config for v in found.variants}

    def evaluate(configs: Sequence[RunConfig]) -> list[Score]:
        # a configuration trained before (a remedy alone) is scored from its runs
        configs = [known.get(c.replace(label=""), c) for c in configs]
        fresh = sum(c.replace(label="") not in known for c in configs)
        session.expect(fresh * len(session.seeds), more=True)  # the search's next round
        session.train(configs)
        return [score([r.history for r in session.runs(c)]) for c in configs]

    trials = joint_search(
        baseline,
        found.chosen,
        evaluate,
        trials=stage.search,
        max_epochs=stage.max_epochs,
        seed=session.seeds[0],
        grow=stage.grow,
        shifts=stage.images,
    )
    found.combinations = [
        session.variant(c, "combination", baseline, name=c.label)
        for c, _ in trials
        if c.replace(label="") not in known  # a remedy alone is no combination
    ]
    if stage.search > 0 and len(trials) >= 2:  # what the trial budget bought
        curve = progress_curve([s for _, s in trials])
        found.validation_curves = (*found.validation_curves, curve)
    scratch = [*found.variants, *found.combinations]
    found.best_scratch = scratch[best([v.score for v in scratch])]
    # From the simplest up: a remedy alone (or a transfer strategy) must beat the baseline,
    # a combination the best single remedy, each beyond the seeds' noise; ties keep the
    # simpler (select.choose). The linear rung, where it scores at least the baseline,
    # is simpler still (select.linear_leads).
    levels = selection_levels(found.base, found.variants[1:], found.transfer, found.combinations)
    level, index = choose([[v.score for v in lv] for lv in levels])
    found.recommended = levels[level][index]


def _ensemble(stage: plan.EnsembleStage, session: StudySession, found: Findings) -> None:
    from nooverfit.studies import ensemble
    from nooverfit.studies.copies import copy_candidates

    # Members come from the variants trained from scratch on every seed (a transfer
    # strategy's network needs its source to be rebuilt).
    pool = [*found.variants, *found.combinations]
    if found.recommended is not None:  # members read one input encoding: the choice's
        pool = [v for v in pool if v.config.inputs == found.recommended.config.inputs]
    kept = [[kept_row(r.history) for r in session.runs(v.config)] for v in pool]
    trained = {v.config for v in pool}  # the copies' choice may be a left-out twin
    pool = [pool[i] for i in ensemble.distinct([v.config for v in pool], kept)]
    tried = ensemble.candidates(
        [v.config for v in pool], [v.name for v in pool], [v.score for v in pool], stage.sizes
    )
    if not tried or found.recommended is None:
        return
    # The copies of the choice so far (trained from scratch; else of the best variant that
    # was), the knob their number. Against the choice itself, whose runs they share but
    # for the initial weights, the seed-paired difference is nearly free of noise. On fgl
    # (bench/tabular.py) the best variant by validation (inputs ple) and its copies were
    # 6 points ahead of the baseline but within noise; the baseline's 4 copies lowered its
    # log loss beyond noise and gained 1.3 test points.
    top = found.recommended
    if top.stage == "transfer" or top.config not in trained:
        top = found.best_scratch or next(v for v in pool if v.config == tried[0].configs[0])

    def as_variant(members: Members, s: Score) -> Variant:
        runs = tuple(r.config.key for c in members.runs for r in session.runs(c))
        first = next(v for v in (*pool, top) if v.config == members.runs[0])
        found.ensembles[members.name] = members
        return Variant(members.name, "ensemble", members.configs[0], s, first.verdict, runs)

    variants = []
    for members in tried:
        epochs = sum(v.score.epochs for v in pool if v.config in members.configs)
        s = ensemble.score_members(session, members, epochs / len(members.configs))
        variants.append(as_variant(members, s))
    found.outcomes.append(_outcome("ensemble", variants, found.base))
    if len(variants) >= 2:  # the ensemble's knob: how many of the best networks it averages
        sizes = [len(found.ensembles[v.name].configs) for v in variants]
        _add_curve(found, "ensemble_size", [float(k) for k in sizes], [v.score for v in variants])
    inputs = stage.inputs if top.config.inputs == "standard" else ""  # see .copies
    # none of a linear choice: an annealed convex fit, its copies reach the same weights
    copies_of = stage.copies if top.config.depth > 0 else 0
    made = copy_candidates(session, top.config, top.name, copies_of, top.score.epochs, inputs)
    copies = [as_variant(m, s) for m, s in made]
    plain = copies[: max(0, stage.copies - 1)]  # then the copies in both encodings
    if copies:
        found.outcomes.append(_outcome("copies", copies, found.base))
        counts = [1.0, *(float(len(found.ensembles[v.name].configs)) for v in plain)]
        _add_curve(found, "copies", counts, [top.score, *(v.score for v in plain)])
    if len(copies) > len(plain) + 1:  # the knob: copies of the choice besides 2 on ple16
        both = copies[len(plain) :]
        per = [len(found.ensembles[v.name].configs) - 2.0 for v in both]
        _add_curve(found, "mixed_copies", per, [v.score for v in both])
    # An ensemble is the most complex candidate: it must beat the choice so far, on
    # accuracy or, at no loss of accuracy, on log loss (measured on bench/tabular.py's
    # design data: mroz's ensemble ties the baseline's validation accuracy, lowers its
    # log loss 0.047 nats and gains 1.9 test points); of those that do, the most accurate
    # (select.pick_ensemble).
    every = [*variants, *copies]
    twins: dict[str, Variant] = {}  # a plain candidate's name -> its shifted twin
    if stage.shifts:  # test-time shifts after training (studies/shifted.py)
        single = [] if found.recommended.stage == "transfer" else [found.recommended]
        plain = [*single, *every]
        pairs = [found.ensembles.get(v.name) or Members((v.config,), (v.name,)) for v in plain]
        for m, t, s in shifted_twins(session, pairs, [v.score.epochs for v in plain]):
            twins[m.name] = as_variant(t, s)
        if twins:
            found.outcomes.append(_outcome("shifted", list(twins.values()), found.base))
    pick = pick_ensemble([v.score for v in [*every, *twins.values()]], found.recommended.score)
    if pick is not None:
        found.recommended = [*every, *twins.values()][pick]
    shifted = twins.get(found.recommended.name)
    if shifted is not None and prefer_shifts(shifted.score, found.recommended.score):
        found.recommended = shifted
    from nooverfit.studies.blend import run_blend

    run_blend(session, found)  # the linear rung's share of the choice (tabular)


def _learning_curve(
    stage: plan.LearningCurveStage, session: StudySession, found: Findings
) -> None:
    dataset = session.dataset
    # The largest per-class size every seed's training pool can supply.
    available = min(
        int((dataset.y[session.data[s].split.pool] == c).sum())
        for s in session.seeds
        for c in range(dataset.num_classes)
    )
    sizes = plan.learning_curve_sizes(stage.budget, available)
    if len(sizes) < 2 or found.best_scratch is None:
        return
    # The recommendation's own curve where it is one network trained from scratch; else
    # (an ensemble, a transferred or pseudo-labelled network) the best such network's.
    rec, scratch = found.recommended, [*found.variants, *found.combinations]
    single = rec is not None and rec.stage != "ensemble" and rec in scratch
    other = rec.config if single and rec is not None else found.best_scratch.config
    series = {"baseline": found.base.config}
    names: dict[str, str] = {}  # a series whose own name does not say which network it is
    if other != found.base.config:
        series["recommended" if single else "best single network"] = other
        if not single:
            names["best single network"] = found.best_scratch.name

    def sized(c: RunConfig, n: int) -> RunConfig:
        # Each size trains for the budget's steps, unless the user fixed the epochs; a
        # configuration that trains longer than the baseline (augment_epochs) keeps its ratio.
        steps = plan.epochs_for(stage.budget, n * dataset.num_classes, c.batch_size)
        longer = min(
            round(steps * c.epochs / found.base.config.epochs),
            max(stage.budget.max_epochs, c.epochs),  # the budget's most, or c's own
        )
        return c.replace(train_per_class=n, epochs=stage.fixed_epochs or longer)

    configs = list(dict.fromkeys(sized(c, n) for c in series.values() for n in sizes))
    session.expect(
        sum(1 for c in configs for s in session.seeds if c.replace(seed=s).key not in session.done)
    )
    session.train(configs)
    scores: dict[str, list[Score]] = {
        name: [score([r.history for r in session.runs(sized(c, n))]) for n in sizes]
        for name, c in series.items()
    }
    found.learning = learning_curve(sizes, scores, names=names)


def _checks(session: StudySession, found: Findings) -> None:
    import numpy as np

    from nooverfit.audit import audit
    from nooverfit.data.split import Split

    # The first seed's split, with the baseline's training set as "train": how well it
    # covers the validation and test data, and any leakage.
    seed = session.seeds[0]
    split = session.data[seed].split
    train = session.train_indices(found.base.config)[seed]
    used = Split(
        pool=np.asarray(train, dtype=np.int64), val=split.val, test=split.test, seed=split.seed
    )
    # With groups, the baseline network's accuracy per group on the unused training-pool
    # samples and the validation set: groups heard in training against those never heard.
    measured = np.concatenate([np.setdiff1d(split.pool, used.pool), split.val])
    model = session.model(found.base.config.replace(seed=seed))
    found.extras["audit"] = audit(
        session.dataset,
        used,
        model=model,
        group_index=measured,
        pool=split.pool,
        scaling=found.base.config.inputs,  # the baseline network's own inputs
        warn_balance=False,  # the class-balance warnings are class_scores' (said once)
    ).to_dict()
    # For synthesized data: did each network learn the keywords, or the noise they were
    # mixed with?
    probes = keyword_probes(session.dataset, seed=seed)
    if probes is None or found.recommended is None:
        return
    found.extras["shortcut"] = {
        role: probes.check(_network(session, found, v, seed), seed=seed).to_dict()
        for role, v in (("baseline", found.base), ("recommended", found.recommended))
    }


def _network(session: StudySession, found: Findings, variant: Variant, seed: int) -> nn.Module:
    """The trained network of ``variant``'s run on ``seed`` (an ensemble's: all of its
    members' networks, averaged)."""
    members = found.ensembles.get(variant.name) if variant.stage == "ensemble" else None
    if members is None:
        return session.model(variant.config.replace(seed=seed))
    from nooverfit.studies import ensemble

    return ensemble.assemble(session, members, seed)


def _compare(stage: plan.CompareStage, session: StudySession, found: Findings) -> None:
    session.expect(2 * len(session.seeds))
    session.train([stage.baseline, stage.candidate])
    found.baseline = session.variant(stage.baseline, "baseline", stage.baseline)
    found.recommended = session.variant(
        stage.candidate, "recommended", stage.baseline, name=stage.name or None
    )
