"""`study`: the main job. Baseline, each remedy alone, their combination and a learning
curve, trained on the same splits and seeds; selection on validation only; test once.

Stages of one seed are trained as one batch (the fused engine trains them as one batched
model). A finished run is stored at once, so an interrupted study resumes: a batch with a
missing run is trained again whole, which keeps resumed results equal to uninterrupted
ones (the fused engine's random streams depend on the batch).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

import nooverfit
from nooverfit.config import RunConfig
from nooverfit.data.dataset import Dataset, load_dataset
from nooverfit.data.split import make_split
from nooverfit.data.tensors import SplitData, prepare
from nooverfit.engine import ENGINES, RunResult, run_configs
from nooverfit.engine.sequential import Factory, make_model, run_sequential
from nooverfit.studies import plan
from nooverfit.studies.curves import (
    LearningCurve,
    ValidationCurve,
    learning_curve,
    validation_curve,
)
from nooverfit.studies.result import RemedyOutcome, RunRecord, StudyResult, TestScore, Variant
from nooverfit.studies.select import Score, best, improves, score
from nooverfit.studies.store import RunStore
from nooverfit.studies.transfer_stage import (
    STUDY_STRATEGIES,
    rebuild,
    run_transfer,
    strategy_of,
    transfer_config,
)
from nooverfit.train import evaluate

if TYPE_CHECKING:
    from nooverfit.transfer.runs import SourceLike

log = logging.getLogger(__name__)

#: ``progress(message, done, total)``: called after every finished run.
Progress = Callable[[str, int, int], None]

DEFAULT_WIDTH = {"mlp": 256, "cnn": 16}


def diagnose_history(history: Any) -> dict[str, Any]:
    """The diagnosis of one run as a JSON-ready dict (see :mod:`nooverfit.diagnose`)."""
    from nooverfit.diagnose import diagnose

    return diagnose(history).to_dict()


class _Runner:
    """The state of one study: data per seed, the run store, finished runs."""

    def __init__(
        self,
        dataset: Dataset,
        seeds: Sequence[int],
        *,
        test: float | int,
        val: float | int,
        engine: str,
        device: str | torch.device | None,
        out: Path | None,
        progress: Progress | None,
        source: SourceLike | None = None,
        factory: Factory | None = None,
    ) -> None:
        self.seeds = list(seeds)
        self.data: dict[int, SplitData] = {
            s: prepare(dataset, make_split(dataset.y, test=test, val=val, seed=s), device=device)
            for s in self.seeds
        }
        self.engine = engine
        self.store = RunStore(out / "runs") if out is not None else None
        self.done: dict[str, RunResult] = {}
        self.progress = progress
        self.source = source
        self.factory = factory
        self.total = 0
        self.finished = 0

    def expect(self, runs: int) -> None:
        self.total += runs

    def _finished(self, result: RunResult) -> None:
        key = result.config.key
        if key not in self.done:
            self.finished += 1
        self.done[key] = result
        if self.store is not None:
            self.store.put(result)
        if self.progress is not None:
            self.progress(result.config.label or "run", self.finished, self.total)

    def train(self, variants: Sequence[RunConfig]) -> None:
        """Train every variant on every seed, skipping runs finished before."""
        for seed in self.seeds:
            configs = [v.replace(seed=seed) for v in variants]
            for c in configs:
                if c.key not in self.done and self.store is not None:
                    stored = self.store.get(c)
                    if stored is not None:
                        self._finished(stored)
            missing = [c for c in configs if c.key not in self.done]
            if not missing:
                continue
            if self.factory is not None:
                for _, result in run_sequential(missing, self.data[seed], factory=self.factory):
                    self._finished(result)
                continue
            todo = missing if self.engine == "sequential" else configs
            run_configs(todo, self.data[seed], engine=self.engine, on_result=self._finished)

    def runs(self, variant: RunConfig) -> list[RunResult]:
        return [self.done[variant.replace(seed=s).key] for s in self.seeds]

    def variant(
        self, config: RunConfig, stage: str, baseline: RunConfig, *, name: str | None = None
    ) -> Variant:
        runs = self.runs(config)
        verdicts = Counter(diagnose_history(r.history)["verdict"] for r in runs)
        return Variant(
            name=name or plan.describe(config, baseline),
            stage=stage,
            config=config,
            score=score([r.history for r in runs]),
            verdict=verdicts.most_common(1)[0][0],
            runs=tuple(r.config.key for r in runs),
        )

    def state(self, config: RunConfig) -> dict[str, torch.Tensor]:
        result = self.done[config.key]
        if result.state:
            return result.state
        log.warning("weights of %s were not stored; training it again", config.label or config.key)
        if strategy_of(config) is not None:
            again = next(r for r in self._transfer(config.seed, [config]) if r.config == config)
        else:
            data = self.data[config.seed]
            _, again = next(run_sequential([config], data, factory=self.factory))
        return again.state

    def _transfer(self, seed: int, configs: Sequence[RunConfig]) -> list[RunResult]:
        if self.source is None:
            raise ValueError("transfer runs need a source")
        strategies = [strategy_of(c) or "" for c in configs]
        return run_transfer(
            self.data[seed],
            source=self.source,
            baseline=configs[0].replace(label="baseline"),
            strategies=strategies,
        )

    def train_transfer(self, configs: Sequence[RunConfig]) -> None:
        """Train the transfer variants (see :mod:`transfer_stage`) on every seed."""
        for seed in self.seeds:
            todo = [c.replace(seed=seed) for c in configs]
            for c in todo:
                stored = self.store.get(c) if self.store is not None else None
                if c.key not in self.done and stored is not None:
                    self._finished(stored)
            missing = [c for c in todo if c.key not in self.done]
            if missing:
                for result in self._transfer(seed, missing):
                    self._finished(result)

    def model(self, config: RunConfig) -> torch.nn.Module:
        """The trained network of a run, rebuilt from its weights."""
        data = self.data[config.seed]
        if strategy_of(config) is not None and self.source is not None:
            return rebuild(self.source, data, config, self.state(config))
        model = make_model(config, data, factory=self.factory)
        model.load_state_dict(self.state(config))
        return model.to(data.device)

    def test(self, variant: Variant) -> TestScore:
        """Score ``variant`` on each seed's test split, once."""
        accs, losses = [], []
        for seed in self.seeds:
            data = self.data[seed]
            model = self.model(variant.config.replace(seed=seed))
            scores = evaluate(model, data.x[data.test_index], data.y[data.test_index])
            accs.append(scores.accuracy)
            losses.append(scores.loss)
        t = torch.tensor(accs, dtype=torch.float64)
        return TestScore(
            accuracy=float(t.mean()),
            accuracy_std=float(t.std(unbiased=False)),
            loss=float(sum(losses) / len(losses)),
            per_seed=tuple(accs),
        )


def resolve_engine(engine: str) -> str:
    """``auto`` -> ``fused`` where available, else ``sequential``."""
    if engine == "auto":
        return "fused" if "fused" in ENGINES else "sequential"
    if engine not in ENGINES:
        raise ValueError(f"engine must be auto or one of {', '.join(ENGINES)}, got {engine!r}")
    return engine


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
        epochs: override the budget's epochs.
        test, val: split sizes (fractions or counts), as in :func:`nooverfit.make_split`.
        out: folder for the run store, so an interrupted study resumes (None: in memory).
        device: torch device (default: CUDA if available).
        learning_curves: whether to train the learning curve over training-set size.
        source: a pretrained network for the transfer-learning remedy: a file written by
            ``nooverfit pretrain``, ``"torchvision:NAME[:PATH]"``, or a loaded ``Source``.
        classes: keep only these classes of the data set (``"5-9"`` or a list), relabelled
            from 0, e.g. to transfer from a source trained on the other classes.
        model_factory: ``model_factory(config) -> nn.Module`` builds your own network for
            each configuration instead of nooverfit's MLP/CNN (trained sequentially). It may
            read ``config.width``, ``config.dropout`` and ``config.batchnorm``; L2, early
            stopping and augmentation apply to any network.
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
    resolved = "sequential" if model_factory is not None else resolve_engine(engine)
    dataset = data if isinstance(data, Dataset) else load_dataset(data, **data_options)
    if classes is not None:
        from nooverfit.transfer.pretrain import class_subset, parse_classes

        keep = parse_classes(classes) if isinstance(classes, str) else tuple(classes)
        dataset = class_subset(dataset, keep)
    baseline = RunConfig(
        model=model,
        width=width or DEFAULT_WIDTH.get(model, 256),
        depth=depth,
        epochs=epochs or chosen_budget.epochs,
        train_per_class=None if train_size is not None else (train_per_class or None),
        train_size=train_size,
        label="baseline",
    )
    runner = _Runner(
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
        learning = _learning_curve(runner, dataset, chosen_budget, baseline, best_scratch)

    # Test once: the recommendation and the baseline.
    tests = {"baseline": runner.test(base), "recommended": runner.test(recommended)}
    records = {
        key: RunRecord(r.config, r.history, diagnose_history(r.history), r.engine)
        for key, r in runner.done.items()
    }
    base_diag = records[base.runs[0]].diagnosis
    extras = {"audit": _audit(dataset, first, train_idx[seed_list[0]])}
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


def _audit(dataset: Dataset, data: SplitData, train: list[int]) -> dict[str, Any]:
    """The data audit of the first seed's split, with the baseline's training set as
    "train": how well it covers the validation and test data, and any leakage."""
    import numpy as np

    from nooverfit.audit import audit
    from nooverfit.data.split import Split

    split = data.split
    used = Split(
        pool=np.asarray(train, dtype=np.int64), val=split.val, test=split.test, seed=split.seed
    )
    return audit(dataset, used).to_dict()


def _validation_curves(
    base: Variant, by_stage: dict[str, list[Variant]]
) -> tuple[ValidationCurve, ...]:
    curves = []
    for param, stage in (("l2", "l2"), ("dropout", "dropout")):
        variants = by_stage.get(stage, [])
        if not variants:
            continue
        pts = [(getattr(v.config, param), v.score) for v in variants]
        if param == "dropout":
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
    runner: _Runner,
    dataset: Dataset,
    budget: plan.Budget,
    baseline: RunConfig,
    recommended: Variant,
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
    configs = [c.replace(train_per_class=n) for c in series.values() for n in sizes]
    configs = list(dict.fromkeys(configs))
    runner.expect(
        sum(1 for c in configs for s in runner.seeds if c.replace(seed=s).key not in runner.done)
    )
    runner.train(configs)
    scores: dict[str, list[Score]] = {
        name: [
            score([r.history for r in runner.runs(c.replace(train_per_class=n))]) for n in sizes
        ]
        for name, c in series.items()
    }
    return learning_curve(sizes, scores)
