"""The tuning report: the best trial against its unregularized baseline, as a study
report titled for tuning, with Optuna's own plots of the search.

The best trial is recommended only if it beats the baseline on validation (the same rule
a study uses); otherwise the report says that no tuned configuration beat it and keeps the
baseline. Parameter importances from fewer than :data:`MIN_TRIALS` complete trials carry
a warning: fANOVA fits a random forest to the trials, and a few points fit anything.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

from nooverfit._words import counted
from nooverfit.config import RunConfig
from nooverfit.studies.select import improves

if TYPE_CHECKING:
    import optuna
    from matplotlib.figure import Figure

    from nooverfit.data.tensors import SplitData
    from nooverfit.studies.result import StudyResult

log = logging.getLogger(__name__)


class TuneResult(Protocol):
    """What the report reads of a :class:`nooverfit.tune.result.TuneResult` (a protocol,
    so that module, which writes this report, is not imported back)."""

    @property
    def study_name(self) -> str: ...
    @property
    def best_number(self) -> int: ...
    @property
    def best_value(self) -> float: ...
    @property
    def config(self) -> RunConfig: ...
    @property
    def importances(self) -> dict[str, float]: ...
    def count(self, state: str) -> int: ...


#: Fewer complete trials than this: the importances are flagged as resting on few trials.
MIN_TRIALS = 30


def tuning_summary(result: TuneResult) -> dict[str, Any]:
    """What the report says about the search: counts, best trial, importances, warnings."""
    complete = result.count("COMPLETE")
    warning = None
    if result.importances and complete < MIN_TRIALS:
        warning = (
            f"The parameter importances rest on {counted(complete, 'complete trial')} (fewer than "
            f"{MIN_TRIALS}): treat them as a rough guide; more --trials firm them up."
        )
    return {
        "study_name": result.study_name,
        "best_trial": result.best_number,
        "best_value": result.best_value,
        "counts": {s: result.count(s) for s in ("COMPLETE", "PRUNED", "FAIL")},
        "importances": dict(sorted(result.importances.items(), key=lambda kv: -kv[1])),
        "importance_warning": warning,
    }


def tuned_comparison(result: TuneResult, data: SplitData) -> StudyResult:
    """The best trial and its baseline retrained on ``data`` as a :class:`StudyResult`.

    The tuned configuration is listed as a ``"tuned"`` variant (its test score as
    ``test["tuned"]``); it is the recommendation only when it beats the baseline on
    validation, and the saved model (``best_state``, ``best_card``) is the recommended
    one. ``extras["tuning"]`` holds :func:`tuning_summary` and whether the tuned
    configuration won.
    """
    from nooverfit.studies.compare import baseline_model
    from nooverfit.studies.compare import compared as trained

    name = f"trial {result.best_number}: {result.config.label or 'best configuration'}"
    compared, session = trained(data, result.config, name=name)
    tuned = dataclasses.replace(compared.recommended, stage="tuned")
    beat = improves(tuned.score, compared.baseline.score)
    test = {**compared.test, "tuned": compared.test["recommended"]}
    saved: dict[str, Any] = {}
    if not beat:  # the baseline is the recommendation: its weights are the saved model
        test["recommended"] = test["baseline"]
        saved = baseline_model(session, compared)
    extras = {
        **compared.extras,
        "tuning": {**tuning_summary(result), "beat_baseline": beat, "tuned": tuned.name},
    }
    return dataclasses.replace(
        compared,
        combinations=(tuned,),
        recommended=tuned if beat else compared.baseline,
        test=test,
        extras=extras,
        **saved,
    )


def optuna_figures(study: optuna.Study, importances: dict[str, float]) -> dict[str, Figure]:
    """Optuna's own plots (matplotlib backend): the search over trials, each parameter's
    slice, parallel coordinates, and the contour of the two most important parameters.
    A plot Optuna cannot draw (too few trials, one parameter) is left out."""
    import optuna
    from optuna.visualization import matplotlib as ovm

    params = list(importances)[:2] or None
    draw: dict[str, Callable[[], Any]] = {
        "tune_history": lambda: ovm.plot_optimization_history(study, target_name="val accuracy"),
        "tune_slice": lambda: ovm.plot_slice(study, target_name="val accuracy"),
        "tune_parallel": lambda: ovm.plot_parallel_coordinate(study, target_name="val accuracy"),
    }
    if params is not None and len(params) == 2:
        draw["tune_contour"] = lambda: ovm.plot_contour(
            study, params=params, target_name="val accuracy"
        )
    figures = {}
    verbosity = optuna.logging.get_verbosity()
    for name, make in draw.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ExperimentalWarning, empty-data warnings
                # Optuna logs "Param X unique value length is less than 2" for a contour
                # over a pinned parameter: not the user's concern (and through -q)
                optuna.logging.set_verbosity(optuna.logging.ERROR)
                drawn = make()
        except (RuntimeError, ValueError, ImportError, optuna.exceptions.OptunaError) as err:
            log.info("skipped %s: %s", name, err)
            continue
        finally:
            optuna.logging.set_verbosity(verbosity)
        axes = drawn if not hasattr(drawn, "flat") else drawn.flat[0]
        figure = cast("Figure", axes.figure)
        panels = len(figure.axes)
        if name == "tune_slice":  # one panel per parameter, in one row
            figure.set_size_inches(max(9.0, 2.4 * panels), 3.4)
        elif name == "tune_parallel":
            figure.set_size_inches(11.0, 4.5)
        figures[name] = figure
    return figures
