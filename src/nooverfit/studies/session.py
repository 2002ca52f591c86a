"""`StudySession`: the state of one study while it trains: data per seed, the run store,
finished runs and their diagnoses (each run diagnosed once), and the one place test data
is read (:meth:`StudySession.test`).

A stage's runs on every seed are trained as one batch (the fused engine trains them as
one batched model, each run on its own seed's split). A finished run is stored at once,
so an interrupted study resumes: a batch with a missing run is trained again whole, which
keeps resumed results equal to uninterrupted ones (the fused engine's random streams
depend on the batch).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from nooverfit._rules import diagnose
from nooverfit.config import RunConfig
from nooverfit.data.dataset import Dataset
from nooverfit.data.tensors import SplitData
from nooverfit.diagnosis import Diagnosis
from nooverfit.engine import ENGINES, RunResult, run_configs
from nooverfit.engine.flops import config_flops, training_flops
from nooverfit.engine.follow import Follow, Judge, Policy
from nooverfit.engine.sequential import Factory, make_model, run_sequential
from nooverfit.models import network_for
from nooverfit.stale_bias import fold_stale_biases
from nooverfit.studies.estimate import Tally
from nooverfit.studies.labels import describe
from nooverfit.studies.result import RunRecord, StageCost, TestScore, Variant
from nooverfit.studies.select import score
from nooverfit.studies.store import RunStore
from nooverfit.studies.transfer_stage import rebuild, run_transfer, strategy_of
from nooverfit.tabm import functional
from nooverfit.train import evaluate_test

if TYPE_CHECKING:
    from nooverfit.transfer.runs import SourceLike

log = logging.getLogger(__name__)

#: ``progress(message, done, total)``: called after every finished run, and as each stage
#: starts with the message ``"stage: NAME"``; ``total`` is the plan's runs from the start, at
#: most: an upper bound that never rises and falls to the runs trained as the later stages
#: ask for theirs (:class:`~.estimate.Tally`).
Progress = Callable[[str, int, int], None]


def study_engine(engine: str) -> str:
    """The engine a study's batches ask for: ``"auto"`` means ``"fused"``, since a study's
    batches hold many runs (the fused engine itself trains a lone run or a batch-norm
    factory's modules the sequential way).

    Raises:
        ValueError: if ``engine`` is not one of :data:`nooverfit.engine.ENGINES`.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    return "fused" if engine == "auto" else engine


class StudySession:
    """The state of one study: data per seed, the run store, finished runs."""

    def __init__(
        self,
        data: dict[int, SplitData],
        *,
        engine: str,
        out: Path | None = None,
        progress: Progress | None = None,
        source: SourceLike | None = None,
        factory: Factory | None = None,
        follow: Follow | None = None,
    ) -> None:
        """
        Args:
            data: each seed's split, ready to train on (one data set).
            engine: ``"fused"`` or ``"sequential"`` (see :func:`study_engine`).
            out: folder of the run store, so an interrupted study resumes (None: memory).
            progress: called after every finished run.
            source: the transfer source, for the transfer stage.
            factory: the user's module factory (None: nooverfit's models).
            follow: each run stops once its validation curve is diagnosable (None: every
                run trains its epochs).
        """
        self.seeds = list(data)
        self.data = data
        self.engine = engine
        self.store = RunStore(out / "runs") if out is not None else None
        self.done: dict[str, RunResult] = {}
        self._diagnoses: dict[str, Diagnosis] = {}
        self.claimed: set[str] = set()  # keys of runs already in a batch
        self.progress = progress
        self.source = source
        self.factory = factory
        self.tally = Tally()  # the progress total
        self.finished = 0
        self.follow = follow
        self.trained: list[str] = []  # keys of the runs trained here (not read back)
        # torch's CPU threads as the study was asked to use them (the engine shares them
        # out among its workers while runs train): what --threads repeats
        self.cpu_threads = torch.get_num_threads()
        self.used: list[str] = []  # keys of every run a stage asked for first, in order
        self._encoded: dict[tuple[int, str], SplitData] = {}
        self.derived: dict[str, SplitData] = {}  # run key -> its own data (pseudo-labels)

    def split_data(self, config: RunConfig) -> SplitData:
        """The data ``config`` trains on: its seed's split, with the tabular features
        encoded as ``config.inputs`` asks (the split's own data for the default), or the
        data a stage derived for it (:attr:`derived`)."""
        if config.key in self.derived:
            return self.derived[config.key]
        data = self.data[config.seed]
        if config.inputs == "standard" or data.dataset.kind != "tabular":
            return data
        at = (config.seed, config.inputs)
        if at not in self._encoded:
            from nooverfit.data.tensors import prepare

            self._encoded[at] = prepare(
                data.dataset, data.split, device=data.device, scaling=config.inputs
            )
        return self._encoded[at]

    @property
    def dataset(self) -> Dataset:
        """The data set every seed's split is drawn from."""
        return self.data[self.seeds[0]].dataset

    def train_indices(self, config: RunConfig) -> dict[int, list[int]]:
        """Seed -> the indices of ``config``'s training set on that seed's split."""
        y = self.dataset.y
        return {
            s: self.data[s]
            .split.train(
                y,
                train_size=config.train_size,
                train_per_class=config.train_per_class,
                names=self.dataset.classes,
            )
            .tolist()
            for s in self.seeds
        }

    def diagnosis(self, key: str) -> Diagnosis:
        """The diagnosis of the finished run ``key``, computed once."""
        if key not in self._diagnoses:
            self._diagnoses[key] = diagnose(self.done[key].history)
        return self._diagnoses[key]

    def records(self) -> dict[str, RunRecord]:
        """Every finished run, with its diagnosis, in the order they finished."""
        return {
            key: RunRecord(r.config, r.history, self.diagnosis(key), r.engine)
            for key, r in self.done.items()
        }

    def expect(self, runs: int, *, more: bool = False) -> None:
        """The current stage will train ``runs`` runs (for the progress total); ``more``:
        it may ask for more later (see :meth:`.estimate.Tally.ask`)."""
        self.tally.ask(runs, more=more)

    def _finished(self, result: RunResult, *, stored: bool = False) -> None:
        """Record a finished run; ``stored``: read back from the store, which keeps its
        files as they are (a rerun of a finished study rewrites none of them)."""
        key = result.config.key
        if key not in self.done:
            self.finished += 1
        self.done[key] = result
        self._diagnoses.pop(key, None)  # a resumed batch trains its stored runs again
        if self.store is not None and not stored:
            if len(self.trained) == 1:  # the first run trained here: its thread count
                self.store.add_threads(self.cpu_threads)
            self.store.put(result)
        if self.progress is not None:
            self.progress(result.config.label or "run", self.finished, self.tally.total)

    def train(self, variants: Sequence[RunConfig], *, judge: Judge | None = None) -> None:
        """Train every variant on every seed (as one batch), skipping runs finished before.

        A run belongs to the batch of the first call that asked for it; later calls reuse
        it and leave it out of their batch. So every batch has the same members whether or
        not the study was interrupted, and a run's result never changes once scored.

        Args:
            variants: the configurations (their seed is replaced by each of the study's).
            judge: stops runs clearly behind (see :mod:`.halving`); the batch then lists
                each variant's seeds together, so that the fused engine's groups hold the
                evidence the judge pairs.
        """
        runs = (
            (v.replace(seed=seed) for v in variants for seed in self.seeds)
            if judge is not None
            else (v.replace(seed=seed) for seed in self.seeds for v in variants)
        )
        configs = self._claim(runs)
        for c in configs:
            if c.key not in self.done and self.store is not None:
                stored = self.store.get(c)
                if stored is not None:
                    self._finished(stored, stored=True)
        missing = [c for c in configs if c.key not in self.done]
        if not missing:
            return
        todo = missing if self.engine == "sequential" else configs
        policy = Policy(self.follow, judge) if self.follow or judge else None
        # One batch per input encoding: a batch's runs share the input shape; TabM and
        # PLR networks in batches of their own, fused through torch.func (tabm.py).
        for inputs, odd in dict.fromkeys((c.inputs, functional(c)) for c in todo):
            batch = [c for c in todo if c.inputs == inputs and functional(c) == odd]
            datas = [self.split_data(c) for c in batch]
            run_configs(
                batch,
                datas,
                engine=self.engine,
                on_result=self._trained,
                factory=self.factory or (partial(network_for, data=datas[0]) if odd else None),
                policy=policy,
            )

    @property
    def read_back(self) -> int:
        """How many of the finished runs were read back from the store, not trained here."""
        return len(self.done.keys() - set(self.trained))

    def threads(self) -> int | None:
        """The CPU thread count every finished run was trained with, for the report's
        command to repeat them bit for bit: this session's where it read none back, else
        the one count the store recorded for its runs (None for two, or none recorded:
        runs stored before it was, or a damaged record)."""
        if not self.read_back:
            return self.cpu_threads
        counts = self.store.threads() if self.store is not None else set()
        return counts.pop() if len(counts) == 1 else None

    def _claim(self, runs: Iterable[RunConfig]) -> list[RunConfig]:
        """The runs of ``runs`` that no earlier call asked for (each once, in order), now
        claimed by this one and counted in :attr:`used`."""
        configs = [c for c in dict.fromkeys(runs) if c.key not in self.claimed]
        self.claimed.update(c.key for c in configs)
        self.used += [c.key for c in configs]
        return configs

    def _trained(self, result: RunResult) -> None:
        self.trained.append(result.config.key)
        self._finished(result)

    def cost(self, stage: str, keys: Sequence[str], seconds: float) -> StageCost:
        """The training of runs ``keys`` (trained in ``seconds``, here or by the session
        that stored them) as ``stage``'s cost."""
        steps = epochs = flops = 0
        ended: Counter[str] = Counter()
        sizes: dict[tuple, int] = {}
        for key in dict.fromkeys(keys):
            result = self.done[key]
            c = result.config
            # a run on derived data has its own training set
            at = (c.seed, c.train_size, c.train_per_class, self.derived.get(c.key))
            if at not in sizes:
                split = self.split_data(c).split
                y = self.dataset.y
                sizes[at] = len(split.train(y, train_size=at[1], train_per_class=at[2]))
            n = len(result.history)
            epochs += n
            steps += n * math.ceil(sizes[at] / c.batch_size)
            data = self.split_data(c)
            per_sample = config_flops(c, data, factory=self.factory)
            flops += training_flops(
                per_sample, train_samples=sizes[at], val_samples=len(data.split.val), epochs=n
            )
            ended[result.history.stop_reason or "completed"] += 1
        runs = len(dict.fromkeys(keys))
        return StageCost(
            stage, runs, steps, epochs, seconds, dict(ended.most_common()), flops=flops
        )

    def runs(self, variant: RunConfig) -> list[RunResult]:
        return [self.done[variant.replace(seed=s).key] for s in self.seeds]

    def variant(
        self, config: RunConfig, stage: str, baseline: RunConfig, *, name: str | None = None
    ) -> Variant:
        runs = self.runs(config)
        verdicts = Counter(self.diagnosis(r.config.key).verdict.value for r in runs)
        return Variant(
            name=name or describe(config, baseline),
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
            data = self.split_data(config)
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
            self._claim(todo)
            for c in todo:
                stored = self.store.get(c) if self.store is not None else None
                if c.key not in self.done and stored is not None:
                    self._finished(stored, stored=True)
            missing = [c for c in todo if c.key not in self.done]
            if missing:
                for result in self._transfer(seed, missing):
                    self._trained(result)

    def model(self, config: RunConfig) -> torch.nn.Module:
        """The trained network of a run, rebuilt from its weights."""
        data = self.split_data(config)
        if strategy_of(config) is not None and self.source is not None:
            return rebuild(self.source, data, config, self.state(config))
        model = make_model(config, data, factory=self.factory)
        # a run stored before layers feeding batch norm lost their bias: the same network
        state = self.state(config)
        model.load_state_dict(state if self.factory else fold_stale_biases(model, state))
        return model.to(data.device)

    def test(self, variant: Variant) -> TestScore:
        """Score ``variant`` on each seed's test split, once."""
        accs, losses = [], []
        for seed in self.seeds:
            data = self.split_data(variant.config.replace(seed=seed))
            model = self.model(variant.config.replace(seed=seed))
            scores = evaluate_test(model, data)
            accs.append(scores.accuracy)
            losses.append(scores.loss)
        t = torch.tensor(accs, dtype=torch.float64)
        return TestScore(
            accuracy=float(t.mean()),
            accuracy_std=float(t.std(unbiased=False)),
            loss=float(sum(losses) / len(losses)),
            per_seed=tuple(accs),
        )
