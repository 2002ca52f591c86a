"""`compare`: a candidate configuration against its unregularized baseline on one split,
as a :class:`StudyResult`, so any chosen configuration (a tuned trial, say) gets the same
report as a study: verdicts, curves, validation scores, and one test score each."""

from __future__ import annotations

import time
from typing import Any

import torch

import nooverfit
from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.engine import run_configs
from nooverfit.models import network_for
from nooverfit.studies import plan
from nooverfit.studies.result import RunRecord, StudyResult, TestScore, Variant
from nooverfit.studies.runner import diagnose_history
from nooverfit.studies.select import score
from nooverfit.train import evaluate_test


def unregularized(config: RunConfig) -> RunConfig:
    """``config`` with every remedy off: no L2, weight decay, dropout, batch norm,
    augmentation or early stopping; same model, optimizer, epochs, data and seed."""
    return config.replace(
        l2=0.0,
        weight_decay=0.0,
        dropout=0.0,
        batchnorm=False,
        augment=0.0,
        early_stopping=None,
        label="baseline",
    )


def compare(data: SplitData, candidate: RunConfig, *, name: str = "") -> StudyResult:
    """Train ``candidate`` and its :func:`unregularized` baseline on ``data``, diagnose
    both, score both on validation and, once, on test.

    Args:
        data: the split (its seed is the runs' seed).
        candidate: the configuration to report on.
        name: how the report names the candidate (default: what it changes).
    """
    start = time.perf_counter()
    baseline = unregularized(candidate)
    results = run_configs([baseline, candidate], data, engine="sequential")
    variants, tests, records = [], {}, {}
    for role, result in zip(("baseline", "recommended"), results, strict=True):
        config, history = result.config, result.history
        diagnosis = diagnose_history(history)
        records[config.key] = RunRecord(config, history, diagnosis, result.engine)
        variants.append(
            Variant(
                name=(name or plan.describe(config, baseline))
                if role == "recommended"
                else "baseline",
                stage=role,
                config=config,
                score=score([history]),
                verdict=diagnosis["verdict"],
                runs=(config.key,),
            )
        )
        model = network_for(config, data)
        model.load_state_dict(result.state)
        test = evaluate_test(model.to(data.device), data)
        tests[role] = TestScore(test.accuracy, 0.0, test.loss, (test.accuracy,))
    train = data.split.train(
        data.dataset.y, train_size=candidate.train_size, train_per_class=candidate.train_per_class
    )
    settings: dict[str, Any] = {
        "data": data.dataset.name,
        "samples": len(data.dataset),
        "classes": list(data.dataset.classes),
        "model": candidate.model,
        "width": candidate.width,
        "depth": candidate.depth,
        "train_per_class": candidate.train_per_class,
        "budget": "compare",
        "epochs": candidate.epochs,
        "seeds": [candidate.seed],
        "engine": "sequential",
        "device": str(data.device),
        "runs": 2,
        "seconds": time.perf_counter() - start,
        "nooverfit": nooverfit.__version__,
        "torch": torch.__version__,
    }
    return StudyResult(
        settings=settings,
        splits=(data.split,),
        train_indices={data.split.seed: train.tolist()},
        runs=records,
        baseline=variants[0],
        remedies=(),
        combinations=(),
        recommended=variants[1],
        test=tests,
        validation_curves=(),
        capacity=None,
        learning=None,
        baseline_diagnosis=records[baseline.key].diagnosis,
        best_state=results[1].state,
    )
