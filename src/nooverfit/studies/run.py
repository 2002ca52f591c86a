"""`study`: the main job. Baseline, each remedy alone, their combination and a learning
curve, trained on the same splits and seeds; selection on validation only; test once.

The stages and their order are the plan's (:mod:`.plan`); :func:`run_plan` runs any plan
(a study's, or :func:`~nooverfit.studies.compare.compare`'s one stage), tests once and
assembles the :class:`StudyResult`. The state while training is the
:class:`~nooverfit.studies.session.StudySession`'s.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nooverfit._version import __version__
from nooverfit.config import RunConfig
from nooverfit.data.dataset import Dataset, load_dataset
from nooverfit.data.group_split import one_warning_each
from nooverfit.data.split import split_dataset
from nooverfit.data.tensors import prepare
from nooverfit.engine.follow import Follow
from nooverfit.groups import with_homogeneous_cause
from nooverfit.logged import logged_warnings
from nooverfit.models import network_for
from nooverfit.studies import plan
from nooverfit.studies.class_scores import class_scores
from nooverfit.studies.ensemble import Members, assemble, test_members
from nooverfit.studies.ensemble import describe as describe_ensemble
from nooverfit.studies.estimate import stage_name
from nooverfit.studies.identity import study_identity
from nooverfit.studies.options import StudyOptions
from nooverfit.studies.result import StageCost, StudyResult, StudySettings, TestScore, Variant
from nooverfit.studies.session import Progress, StudySession, study_engine
from nooverfit.studies.stages import Findings, run_stage
from nooverfit.studies.store import RunStore
from nooverfit.studies.transfer_stage import checked_source
from nooverfit.validate import check_options


def study(
    data: str | Dataset = "digits",
    options: StudyOptions | None = None,
    *,
    out: str | Path | None = None,
    device: str | torch.device | None = None,
    progress: Progress | None = None,
    **kwargs: Any,
) -> StudyResult:
    """Run a study: baseline, remedies, combination, curves, selection, test once.

    Args:
        data: a data set spec (see :func:`nooverfit.load_dataset`) or a loaded ``Dataset``.
        options: the study's design (default: :class:`StudyOptions`' defaults).
        out: folder for the run store, so an interrupted study resumes (None: in memory);
            refused where it holds files no study wrote that
            :func:`nooverfit.study_files.write_study` would replace (as the CLI's ``--out``).
        device: torch device (default: CUDA if available).
        progress: called after every run with ``(label, done, total)``, and as each stage
            starts with the label ``"stage: NAME"``; ``total`` is at most the study's
            runs: it never rises, and falls to them as the plan firms up.
        **kwargs: any field of :class:`StudyOptions` (``model="cnn"``, ``seeds=5``, ...),
            replacing the one of ``options``; the others go to the data set loader
            (``target``, ``data_dir``, ...).

    Returns:
        The :class:`StudyResult` (``.save(path)`` writes its JSON;
        :func:`nooverfit.study_files.write_study` writes it with its report).
    """
    start = time.perf_counter()
    if out is not None:  # before the first run's store is written in a user's folder
        from nooverfit.study_files import check_study_out

        check_study_out(out)
    opts, data_options = StudyOptions.split_kwargs(options, kwargs)
    check_options(device=device)
    budget = plan.get_budget(opts.budget)
    seeds = opts.seed_list
    engine = study_engine(opts.engine)
    with logged_warnings() as loaded:  # what the loader said, for results.json and the report
        dataset = data if isinstance(data, Dataset) else load_dataset(data, **data_options)
    if budget.augment_epochs is None:  # the augment remedy's epochs this data needs
        from nooverfit.data.augment_audio import augment_epochs

        # epochs the user fixed are trained by every run
        factor = augment_epochs(dataset.kind, dataset.noise) if opts.epochs is None else 1.0
        budget = dataclasses.replace(budget, augment_epochs=factor)
    if opts.classes is not None:
        from nooverfit.transfer.pretrain import subset_classes

        dataset = subset_classes(dataset, opts.classes)
    with one_warning_each() as few_groups:  # a few-groups warning once per study, not per seed
        splits = {
            s: prepare(
                dataset,
                split_dataset(dataset, test=opts.test, val=opts.val, seed=s),
                device=device,
            )
            for s in seeds
        }
    source_check = None  # its warning (no record, or a pretext's), for the report
    source = opts.source  # a source file: read once, here, and handed along
    if opts.source is not None:  # before any run is trained or written
        shape = RunConfig(model=opts.model, width=opts.baseline_width, depth=opts.depth)
        subset = opts.classes is not None
        source, source_check = checked_source(
            opts.source, splits, shape=shape, class_subset=subset
        )
    session = StudySession(
        splits,
        engine=engine,
        out=Path(out) if out is not None else None,
        progress=progress,
        source=source,
        factory=opts.model_factory,
        # epochs the user fixed are trained; else each run follows its curve
        follow=Follow(budget.follow, budget.min_epochs, budget.min_steps)
        if budget.follow is not None and opts.epochs is None
        else None,
    )
    baseline = RunConfig(
        model=opts.model,
        width=opts.baseline_width,
        depth=opts.depth,
        epochs=budget.epochs,
        train_per_class=None if opts.train_size is not None else (opts.train_per_class or None),
        train_size=opts.train_size,
        label="baseline",
    )
    n_train = len(session.train_indices(baseline)[seeds[0]])
    epochs = opts.epochs or plan.epochs_for(budget, n_train, baseline.batch_size)
    baseline = baseline.replace(epochs=epochs)
    if opts.model_factory is None:  # a network the data cannot take (a CNN on table rows)
        # fails here, before claiming the store would tie the folder to the failed study
        network_for(baseline, splits[seeds[0]])
    if out is not None:  # refuse runs of another study before the first one is trained
        RunStore(Path(out) / "runs").claim(
            study_identity(
                dataset,
                spec=data if isinstance(data, str) else None,
                options=data_options,
                classes=opts.classes,
                test=opts.test,
                val=opts.val,
                seeds=seeds,
                engine=engine,
                device=device,
                budget=budget,
                source=opts.source,
                custom_model=opts.model_factory is not None,
                baseline=baseline,
                fixed_epochs=opts.epochs is not None,
            ),
            out=out,
        )
    stages = plan.study_stages(
        baseline,
        budget,
        transfer=opts.source is not None,
        learning_curve=opts.learning_curves,
        fixed_epochs=opts.epochs,
        tabular=dataset.kind == "tabular" and opts.model_factory is None,
        images=dataset.kind == "image",
    )
    asked = Asked(
        model=opts.model if opts.model_factory is None else "custom",
        budget=opts.budget_name,
        test=opts.test,
        val=opts.val,
        source=None if opts.source is None else str(getattr(opts.source, "task", opts.source)),
        class_subset=None if opts.classes is None else str(opts.classes),
        classic=opts.classic,
    )
    result = run_plan(stages, session, asked, start=start)
    if source_check is not None:
        result.extras["source_check"] = source_check
    if loaded:  # only where there are some: a clean file's results.json is unchanged
        result.extras["data_warnings"] = list(loaded)
    if few_groups:  # logged on the command line; the report's reader sees them too
        result.extras["split_warnings"] = list(few_groups)
    result.extras["call"] = opts.call(data, data_options)
    if command := opts.command(data, data_options):  # the CLI records the line it ran
        result.extras.setdefault("command", command)
    return result


@dataclass(frozen=True)
class Asked:
    """What the caller asked for that the settings record as asked (the rest of the
    settings come from the data and the runs)."""

    model: str
    budget: str
    test: float | int
    val: float | int
    source: str | None = None
    class_subset: str | None = None
    classic: bool = False  # fit the classic models on the same splits (.classic)


def run_plan(
    stages: Sequence[plan.Stage], session: StudySession, asked: Asked, *, start: float
) -> StudyResult:
    """Run ``stages`` in order, test the baseline and the recommendation once, and
    assemble the result (every run diagnosed once, by the session).

    Args:
        stages: the plan (the first stage sets the baseline, a later one the
            recommendation).
        session: the data, engine and run store.
        asked: what the settings record as the caller asked it.
        start: ``time.perf_counter()`` at the start, for the settings' wall time.
    """
    found = Findings()
    costs: list[StageCost] = []
    # a stage read back whole from an earlier session reports that session's wall time
    stored = session.store.seconds() if session.store is not None else {}
    spent: dict[str, float] = {}
    for i, stage in enumerate(stages):
        # The progress total bounds this stage's and the later stages' runs from the plan,
        # before any run; each stage's start is reported as "stage: NAME".
        session.tally.start(stages, i, len(session.seeds))
        if session.progress is not None:
            session.progress(f"stage: {stage_name(stage)}", session.finished, session.tally.total)
        began, before, trained = time.perf_counter(), len(session.used), len(session.trained)
        run_stage(stage, session, found)
        at = f"{i} {stage_name(stage)}"
        spent[at] = time.perf_counter() - began
        if len(session.trained) == trained and at in stored:
            start -= stored[at] - spent[at]  # the study's wall time counts it too
            spent[at] = stored[at]
        if session.store is not None and {**stored, **spent} != stored:
            # merged: a rerun that reads every stage back rewrites nothing
            session.store.put_seconds({**stored, **spent})
        costs.append(session.cost(stage_name(stage), session.used[before:], spent[at]))
    base, recommended = found.base, found.recommended
    if recommended is None:
        raise ValueError("the plan selected no recommendation")
    # Test once: the recommendation and the baseline.
    members = found.ensembles.get(recommended.name) if recommended.stage == "ensemble" else None
    tests = {
        "baseline": session.test(base),
        "recommended": session.test(recommended)
        if members is None
        else _test_ensemble(session, members),
    }
    # What accuracy hides on imbalanced classes: the largest class's share of the same
    # rows, balanced accuracy, and a model that answers one class for every row.
    found.extras["class_scores"] = class_scores(
        session, {"recommended": (recommended, members), "baseline": (base, None)}
    )
    if asked.classic:  # its seconds go with the stages' (results.json's "costs")
        began = time.perf_counter()
        found.extras["classic"], seconds = _classic(session, base, asked.budget)
        start -= seconds - (time.perf_counter() - began)  # fitted here, or read back
        costs.append(session.cost("classic models", [], seconds))
    if members is not None:
        found.extras["ensemble"] = {
            **describe_ensemble(members),
            "in_shape": list(
                session.split_data(members.configs[0].replace(seed=session.seeds[0])).in_shape
            ),
            "kind": session.dataset.kind,
        }
    # torch's CPU threads set the order of float sums (a loss's last bits): the report's
    # command names them, so that it repeats the runs bit for bit (report_reproduce)
    if (threads := session.threads()) is not None:
        found.extras["threads"] = threads
    records = session.records()
    first = session.seeds[0]
    dataset = session.dataset
    settings = StudySettings(
        data=dataset.name,
        samples=len(dataset),
        classes=tuple(dataset.classes),
        model=asked.model,
        width=base.config.width,
        depth=base.config.depth,
        train_per_class=base.config.train_per_class,
        train_size=base.config.train_size,
        budget=asked.budget,
        epochs=base.config.epochs,
        seeds=tuple(session.seeds),
        engine=session.engine,
        device=str(session.data[first].device),
        test=asked.test,
        val=asked.val,
        runs=len(records),
        source=asked.source,
        class_subset=asked.class_subset,
        seconds=time.perf_counter() - start,
        nooverfit=__version__,
        torch=torch.__version__,
        kind=dataset.kind,
    )
    return StudyResult(
        settings=settings,
        splits=tuple(session.data[s].split for s in session.seeds),
        train_indices=session.train_indices(base.config),
        runs=records,
        baseline=base,
        remedies=tuple(found.outcomes),
        combinations=tuple(found.combinations),
        recommended=recommended,
        test=tests,
        validation_curves=found.validation_curves,
        capacity=found.capacity,
        learning=found.learning,
        baseline_diagnosis=with_homogeneous_cause(
            records[base.runs[0]].diagnosis, found.extras.get("audit")
        ),
        costs=tuple(costs),
        extras=found.extras,
        best_state=session.state(recommended.config.replace(seed=first))
        if members is None
        else assemble(session, members, first).state_dict(),
        best_card=_card(session, recommended, members, first),
        read_back=session.read_back,
    )


def _card(
    session: StudySession, recommended: Variant, members: Members | None, seed: int
) -> dict[str, Any]:
    """What ``best_model.json`` records of the saved weights (``seed``'s runs)."""
    from nooverfit.saved_model import model_card
    from nooverfit.studies.transfer_stage import strategy_of

    configs = [recommended.config] if members is None else list(members.configs)
    runs = [c.replace(seed=seed) for c in configs]
    transfer = any(strategy_of(c) is not None for c in runs)
    # A transfer network is rebuilt from its source's architecture, which the card keeps
    # (its weights are the saved ones): a loaded network's architecture is not known.
    source = None
    if transfer:
        from nooverfit.transfer.architecture import record

        first = next(c for c in runs if strategy_of(c) is not None)
        source = record(session.source, first, session.split_data(first).in_shape)
    return model_card(
        session.dataset,
        [(c, session.split_data(c)) for c in runs],
        name=recommended.name,
        ensemble=members is not None,
        custom=session.factory is not None,
        refused="it is a transfer network from a network loaded in Python, whose "
        "architecture is not recorded; expected a source file, a torchvision: spec or a "
        "Source (nooverfit.transfer.pretrain) to rebuild it"
        if transfer and source is None
        else None,
        source=source,
    )


def _classic(session: StudySession, base: Variant, budget: str) -> tuple[dict[str, Any], float]:
    """The classic models on each seed's split, the baseline's training indices
    (:mod:`.classic`), and the seconds their fitting took."""
    from nooverfit.studies.classic import references, stored
    from nooverfit.studies.store import CLASSIC

    if session.progress is not None:
        session.progress("stage: classic models", session.finished, session.finished)
    train = session.train_indices(base.config)
    splits = {s: (train[s], session.data[s].split.val, session.data[s].split.test) for s in train}
    return stored(
        session.store.root / CLASSIC if session.store is not None else None,
        splits,
        budget,
        lambda: references(
            session.dataset.x,
            session.dataset.y,
            session.dataset.kind,
            splits,
            budget=budget,
            filled=session.dataset.filled,
        ),
    )


def _test_ensemble(session: StudySession, members: Members) -> TestScore:
    """Score an ensemble recommendation on each seed's test split, once."""
    scores = [test_members(session, members, s) for s in session.seeds]
    accs = torch.tensor([a for a, _ in scores], dtype=torch.float64)
    return TestScore(
        accuracy=float(accs.mean()),
        accuracy_std=float(accs.std(unbiased=False)),
        loss=sum(loss for _, loss in scores) / len(scores),
        per_seed=tuple(a for a, _ in scores),
    )
