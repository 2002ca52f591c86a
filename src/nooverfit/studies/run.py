"""`study`: the main job. Baseline, each remedy alone, their combination and a learning
curve, trained on the same splits and seeds; selection on validation only; test once.
The training itself, the run store and test scoring live in :mod:`.runner`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

import nooverfit
from nooverfit.config import RunConfig
from nooverfit.data.dataset import Dataset, load_dataset
from nooverfit.data.keywords import keyword_probes
from nooverfit.data.tensors import SplitData
from nooverfit.engine.sequential import Factory
from nooverfit.studies import plan
from nooverfit.studies.curves import (
    LearningCurve,
    ValidationCurve,
    learning_curve,
    validation_curve,
)
from nooverfit.studies.result import RemedyOutcome, RunRecord, StudyResult, Variant
from nooverfit.studies.runner import Progress, StudyRunner, diagnose_history, resolve_engine
from nooverfit.studies.select import Score, best, improves, score
from nooverfit.studies.transfer_stage import STUDY_STRATEGIES, transfer_config

if TYPE_CHECKING:
    from nooverfit.transfer.runs import SourceLike

DEFAULT_WIDTH = {"mlp": 256, "cnn": 16}


def study(
    data: str | Dataset = "digits",
    *,
    model: str = "mlp",
    width: int | None = None,
    depth: int = 2,
    train_per_class: int | None = 20,
    train_size: int | None = None,
    budget: str | plan.Budget = "quick",
    seeds: int | Sequence[int] = 3,
    engine: str = "auto",
    epochs: int | None = None,
    test: float | int = 0.25,
    val: float | int = 0.2,
    out: str | Path | None = None,
    device: str | torch.device | None = None,
    learning_curves: bool = True,
    source: SourceLike | None = None,
    classes: str | Sequence[int] | None = None,
    model_factory: Factory | None = None,
    progress: Progress | None = None,
    **data_options: Any,
) -> StudyResult:
    """Run a study: baseline, remedies, combination, curves, selection, test once.

    Args:
        data: a data set spec (see :func:`nooverfit.load_dataset`) or a loaded ``Dataset``.
        model: ``"mlp"`` or ``"cnn"``.
        width: hidden units (MLP) or first-block channels (CNN); default 256 / 16.
        depth: hidden layers or conv blocks (default 2).
        train_per_class: training images per class (default 20: the small-data regime
            where overfitting shows); None with ``train_size`` None uses the whole pool.
        train_size: total training-set size instead of per class.
        budget: ``"quick"``, ``"standard"``, ``"thorough"`` or a custom ``Budget``.
        seeds: number of seeds (0..n-1) or the seeds themselves; each has its own split.
        engine: ``"auto"`` (fused where supported), ``"fused"`` or ``"sequential"``.
        epochs: epochs of every run (default: the budget's, see :func:`plan.epochs_for`).
        test, val: split sizes (fractions or counts), as in :func:`nooverfit.make_split`.
        out: folder for the run store, so an interrupted study resumes (None: in memory).
        device: torch device (default: CUDA if available).
        learning_curves: whether to train the learning curve over training-set size.
        source: a pretrained network for the transfer-learning remedy: a file written by
            ``nooverfit pretrain``, ``"torchvision:NAME[:PATH]"``, or a loaded ``Source``.
        classes: keep only these classes of the data set (``"5-9"`` or a list), relabelled
            from 0, e.g. to transfer from a source trained on the other classes.
        model_factory: ``model_factory(config) -> nn.Module`` builds your own network for
            each configuration instead of nooverfit's MLP/CNN. It may read
            ``config.width``, ``config.dropout`` and ``config.batchnorm``; L2, early
            stopping and augmentation apply to any network. The fused engine stacks
            modules of one structure through ``torch.func``; modules with batch-norm
            running statistics train sequentially.
        progress: called after every run with ``(label, done, total)``.
        **data_options: passed to the data set loader (``target``, ``data_dir``, ...).

    Returns:
        The :class:`StudyResult` (call ``.report(path)`` and ``.save(path)`` to write it).
    """
    start = time.perf_counter()
    chosen_budget = plan.get_budget(budget)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ValueError(f"seeds must be >= 1, got {seeds!r}")
    resolved = resolve_engine(engine)
    dataset = data if isinstance(data, Dataset) else load_dataset(data, **data_options)
    if classes is not None:
        from nooverfit.transfer.pretrain import class_subset, parse_classes

        keep = parse_classes(classes) if isinstance(classes, str) else tuple(classes)
        dataset = class_subset(dataset, keep)
    baseline = RunConfig(
        model=model,
        width=width or DEFAULT_WIDTH.get(model, 256),
        depth=depth,
        epochs=chosen_budget.epochs,
        train_per_class=None if train_size is not None else (train_per_class or None),
        train_size=train_size,
        label="baseline",
    )
    runner = StudyRunner(
        dataset,
        seed_list,
        test=test,
        val=val,
        engine=resolved,
        device=device,
        out=Path(out) if out is not None else None,
        progress=progress,
        source=source,
        factory=model_factory,
    )
    first = runner.data[seed_list[0]]
    train_idx = {
        s: runner.data[s]
        .split.train(dataset.y, train_size=train_size, train_per_class=baseline.train_per_class)
        .tolist()
        for s in seed_list
    }

    n_train = len(train_idx[seed_list[0]])
    baseline = baseline.replace(
        epochs=epochs or plan.epochs_for(chosen_budget, n_train, baseline.batch_size)
    )

    # Stages 1 and 2: the baseline and each remedy alone, as one batch per seed.
    remedy_lists = plan.remedy_variants(baseline, chosen_budget)
    stage = [baseline, *(c for cs in remedy_lists.values() for c in cs)]
    runner.expect(len(stage) * len(seed_list))
    runner.train(stage)
    base = runner.variant(baseline, "baseline", baseline)
    outcomes, chosen, all_variants = [], {}, [base]
    for name, configs in remedy_lists.items():
        variants = [runner.variant(c, name, baseline) for c in configs]
        all_variants += variants
        pick = variants[best([v.score for v in variants])]
        helped = improves(pick.score, base.score)
        if helped:
            chosen[name] = pick.config
        outcomes.append(
            RemedyOutcome(
                remedy=name,
                chosen=pick,
                helped=helped,
                delta=pick.score.val_accuracy - base.score.val_accuracy,
                gap_delta=pick.score.gap - base.score.gap,
            )
        )

    # Transfer learning, when a source is given: each strategy vs this baseline.
    transfer_variants: list[Variant] = []
    if source is not None:
        t_configs = [transfer_config(baseline, s) for s in STUDY_STRATEGIES]
        runner.expect(len(t_configs) * len(seed_list))
        runner.train_transfer(t_configs)
        transfer_variants = [
            runner.variant(c, "transfer", baseline, name=c.label) for c in t_configs
        ]
        pick = transfer_variants[best([v.score for v in transfer_variants])]
        outcomes.append(
            RemedyOutcome(
                remedy="transfer",
                chosen=pick,
                helped=improves(pick.score, base.score),
                delta=pick.score.val_accuracy - base.score.val_accuracy,
                gap_delta=pick.score.gap - base.score.gap,
            )
        )

    # Stage 3: the helpful remedies together, lightly re-tuned.
    combos_cfg = (
        [
            c
            for c in plan.combine(baseline, chosen)
            if c.replace(label="") not in {v.config.replace(label="") for v in all_variants}
        ]
        if chosen
        else []
    )
    runner.expect(len(combos_cfg) * len(seed_list))
    runner.train(combos_cfg)
    combos = [runner.variant(c, "combination", baseline) for c in combos_cfg]
    scratch = [*all_variants, *combos]
    best_scratch = scratch[best([v.score for v in scratch])]
    candidates = [*scratch, *transfer_variants]
    recommended = candidates[best([v.score for v in candidates])]

    # Curves.
    by_stage = {name: [v for v in all_variants if v.stage == name] for name in remedy_lists}
    curves = _validation_curves(base, by_stage)
    capacity = _capacity_curve(base, by_stage["capacity"])
    learning = None
    if learning_curves and baseline.train_per_class is not None:
        # Transferred networks have another architecture: the curve shows the best
        # configuration trained from scratch.
        learning = _learning_curve(
            runner, dataset, chosen_budget, baseline, best_scratch, fixed_epochs=epochs
        )

    # Test once: the recommendation and the baseline.
    tests = {"baseline": runner.test(base), "recommended": runner.test(recommended)}
    records = {
        key: RunRecord(r.config, r.history, diagnose_history(r.history), r.engine)
        for key, r in runner.done.items()
    }
    base_model = runner.model(baseline.replace(seed=seed_list[0]))
    extras = {"audit": _audit(dataset, first, train_idx[seed_list[0]], base_model)}
    base_diag = _with_group_cause(records[base.runs[0]].diagnosis, extras["audit"])
    shortcut = _shortcut(runner, dataset, {"baseline": base, "recommended": recommended})
    if shortcut:
        extras["shortcut"] = shortcut
    settings = {
        "data": dataset.name,
        "samples": len(dataset),
        "classes": list(dataset.classes),
        "model": model if model_factory is None else "custom",
        "width": baseline.width,
        "depth": depth,
        "train_per_class": baseline.train_per_class,
        "train_size": train_size,
        "budget": budget if isinstance(budget, str) else "custom",
        "epochs": baseline.epochs,
        "seeds": seed_list,
        "engine": resolved,
        "device": str(first.device),
        "test": test,
        "val": val,
        "runs": len(records),
        "source": None if source is None else str(getattr(source, "task", source)),
        "class_subset": None if classes is None else str(classes),
        "seconds": time.perf_counter() - start,
        "nooverfit": nooverfit.__version__,
        "torch": torch.__version__,
    }
    return StudyResult(
        settings=settings,
        splits=tuple(runner.data[s].split for s in seed_list),
        train_indices=train_idx,
        runs=records,
        baseline=base,
        remedies=tuple(outcomes),
        combinations=tuple(combos),
        recommended=recommended,
        test=tests,
        validation_curves=curves,
        capacity=capacity,
        learning=learning,
        baseline_diagnosis=base_diag,
        extras=extras,
        best_state=runner.state(recommended.config.replace(seed=seed_list[0])),
    )


def _audit(
    dataset: Dataset, data: SplitData, train: list[int], model: torch.nn.Module
) -> dict[str, Any]:
    """The data audit of the first seed's split, with the baseline's training set as
    "train": how well it covers the validation and test data, and any leakage; with
    groups, the baseline network's accuracy per group on the unused training-pool
    samples and the validation set (heard vs never-heard groups, e.g. voices)."""
    import numpy as np

    from nooverfit.audit import audit
    from nooverfit.data.split import Split

    split = data.split
    used = Split(
        pool=np.asarray(train, dtype=np.int64), val=split.val, test=split.test, seed=split.seed
    )
    spare = np.setdiff1d(split.pool, used.pool)
    measured = np.concatenate([spare, split.val])
    return audit(dataset, used, model=model, group_index=measured).to_dict()


def _with_group_cause(diagnosis: dict[str, Any], audit: dict[str, Any]) -> dict[str, Any]:
    """The baseline's diagnosis with "homogeneous data" as its first cause when groups
    never seen in training score far below those seen (see :func:`audit.homogeneous_cause`)."""
    from dataclasses import asdict

    from nooverfit.audit import GroupGap, homogeneous_cause

    groups = audit.get("groups")
    cause = homogeneous_cause(GroupGap(**groups) if groups else None)
    if cause is None:
        return diagnosis
    return {**diagnosis, "causes": [asdict(cause), *diagnosis.get("causes", [])]}


def _shortcut(
    runner: StudyRunner, dataset: Dataset, variants: dict[str, Variant]
) -> dict[str, Any]:
    """For synthesized data: the shortcut check of each variant's first-seed network (did
    it learn the keywords, or the noise they were mixed with?); empty for other data."""
    seed = runner.seeds[0]
    probes = keyword_probes(dataset, seed=seed)
    if probes is None:
        return {}
    return {
        role: probes.check(runner.model(v.config.replace(seed=seed)), seed=seed).to_dict()
        for role, v in variants.items()
    }


def _validation_curves(
    base: Variant, by_stage: dict[str, list[Variant]]
) -> tuple[ValidationCurve, ...]:
    curves = []
    for param, stage in (("l2", "l2"), ("dropout", "dropout"), ("augment", "augment")):
        variants = by_stage.get(stage, [])
        if not variants:
            continue
        pts = [(getattr(v.config, param), v.score) for v in variants]
        if param in ("dropout", "augment"):  # 0 is the baseline
            pts.insert(0, (0.0, base.score))
        curves.append(
            validation_curve(
                param, [p for p, _ in pts], [s for _, s in pts], [s.accuracy_std for _, s in pts]
            )
        )
    return tuple(curves)


def _capacity_curve(base: Variant, variants: list[Variant]) -> ValidationCurve | None:
    if not variants:
        return None
    pts = [(float(v.config.width), v.score) for v in variants] + [
        (float(base.config.width), base.score)
    ]
    return validation_curve(
        "width",
        [p for p, _ in pts],
        [s for _, s in pts],
        [s.accuracy_std for _, s in pts],
        stronger="down",
    )


def _learning_curve(
    runner: StudyRunner,
    dataset: Dataset,
    budget: plan.Budget,
    baseline: RunConfig,
    recommended: Variant,
    *,
    fixed_epochs: int | None,
) -> LearningCurve | None:
    # The largest per-class size every seed's training pool can supply.
    available = min(
        int((dataset.y[runner.data[s].split.pool] == c).sum())
        for s in runner.seeds
        for c in range(dataset.num_classes)
    )
    sizes = plan.learning_curve_sizes(budget, available)
    if len(sizes) < 2:
        return None
    series = {"baseline": baseline, "recommended": recommended.config}

    def sized(c: RunConfig, n: int) -> RunConfig:
        # Each size trains for the budget's steps, unless the user fixed the epochs.
        e = fixed_epochs or plan.epochs_for(budget, n * dataset.num_classes, c.batch_size)
        return c.replace(train_per_class=n, epochs=e)

    configs = [sized(c, n) for c in series.values() for n in sizes]
    configs = list(dict.fromkeys(configs))
    runner.expect(
        sum(1 for c in configs for s in runner.seeds if c.replace(seed=s).key not in runner.done)
    )
    runner.train(configs)
    scores: dict[str, list[Score]] = {
        name: [score([r.history for r in runner.runs(sized(c, n))]) for n in sizes]
        for name, c in series.items()
    }
    return learning_curve(sizes, scores)
