"""The end of a tuning study: retrain the best trial, test it once, write the outputs."""

from __future__ import annotations

import dataclasses
import json
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from nooverfit import formats
from nooverfit._io import atomic_write, atomic_write_json
from nooverfit.config import RunConfig
from nooverfit.data.tensors import SplitData
from nooverfit.history import History
from nooverfit.train import Scores, evaluate_test
from nooverfit.tune.objective import train_config
from nooverfit.tune.space import config_from_params

if TYPE_CHECKING:
    import optuna
    from matplotlib.figure import Figure

    from nooverfit.tune.workers import TuneSpec

log = logging.getLogger(__name__)

#: ``best.json``'s layout (its ``format``; one without, written before it was recorded, is
#: format 1): a newer one is not replaced by :func:`check_out`'s resume.
BEST_FORMAT = formats.BEST


@dataclass(frozen=True)
class TrialSummary:
    """One trial as the history plot and ``best.json`` see it.

    Attributes:
        number: the trial number in the study.
        state: ``"COMPLETE"``, ``"PRUNED"``, ``"FAIL"``, ``"RUNNING"`` or ``"WAITING"``.
        value: validation accuracy, None unless complete.
        retry_of: the number of the dead worker's trial this one re-ran, or None.
        worker: ``host:pid`` of the worker that ran it, "" if unknown.
    """

    number: int
    state: str
    value: float | None
    retry_of: int | None
    worker: str


@dataclass(frozen=True)
class TuneResult:
    """A finished study and its best configuration, tested once.

    Attributes:
        study_name: the study.
        storage: its database URL, password hidden.
        trials: every trial of the study, in number order.
        best_number: number of the best trial (highest validation accuracy).
        best_value: that trial's validation accuracy.
        config: the best trial's configuration.
        history: the curves of the best configuration, retrained on the same split.
        val_accuracy: validation accuracy of the retrained weights (equals ``best_value``
            on a deterministic device).
        test: test loss and accuracy of the retrained weights, measured once, here.
        importances: fANOVA importance of each searched parameter (sums to 1; empty with
            fewer than two complete trials).
    """

    study_name: str
    storage: str
    trials: tuple[TrialSummary, ...]
    best_number: int
    best_value: float
    config: RunConfig
    history: History
    val_accuracy: float
    test: Scores
    importances: dict[str, float]

    def count(self, state: str) -> int:
        """Number of trials in ``state`` (e.g. ``"COMPLETE"``)."""
        return sum(t.state == state for t in self.trials)

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (``best.json``)."""
        from nooverfit._version import __version__

        return {
            "format": BEST_FORMAT,
            "nooverfit": __version__,
            "study_name": self.study_name,
            "storage": self.storage,
            "best_trial": self.best_number,
            "val_accuracy": self.best_value,
            "retrained_val_accuracy": self.val_accuracy,
            "test": {"loss": self.test.loss, "accuracy": self.test.accuracy},
            "config": self.config.to_dict(),
            "epochs_run": len(self.history),
            # the weights retrained and kept; the lowest val_loss's epoch (one definition)
            "kept_epoch": self.history.kept_epoch,
            "best_epoch": self.history.best_epoch,
            "stop_reason": self.history.stop_reason,
            "importances": self.importances,
            "counts": {s: self.count(s) for s in ("COMPLETE", "PRUNED", "FAIL")},
            "trials": [dataclasses.asdict(t) for t in self.trials],
        }


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def summarize_trials(study: optuna.Study) -> tuple[TrialSummary, ...]:
    """Every trial of ``study`` as a :class:`TrialSummary`, in number order."""
    return tuple(
        TrialSummary(
            number=t.number,
            state=t.state.name,
            value=t.value if t.state.name == "COMPLETE" else None,
            retry_of=t.system_attrs.get("failed_trial"),
            worker=str(t.user_attrs.get("worker", "")),
        )
        for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    )


def importances(study: optuna.Study, *, seed: int = 0) -> dict[str, float]:
    """fANOVA importances of the searched parameters, or {} when they cannot be computed."""
    import optuna

    try:
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (RuntimeError, ValueError) as err:
        log.info("no parameter importances: %s", err)
        return {}
    return {name: float(value) for name, value in found.items()}


def finalize(spec: TuneSpec, study: optuna.Study, data: SplitData) -> TuneResult:
    """Retrain the best trial's configuration and score it on the test set, once.

    Raises:
        ValueError: if no trial of the study completed.
    """
    if not any(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False)):
        raise ValueError(f"study {spec.study_name!r} has no completed trial yet")
    best = study.best_trial
    config = config_from_params(best.params, spec.base, label=f"best trial {best.number}")
    run = train_config(config, data, guard=spec.guard)
    test = evaluate_test(run.model, data)
    return TuneResult(
        study_name=spec.study_name,
        storage=_hide_password(spec.storage),
        trials=summarize_trials(study),
        best_number=best.number,
        best_value=float(best.values[0]),
        config=config,
        history=run.history,
        val_accuracy=run.val_accuracy,
        test=test,
        importances=importances(study, seed=spec.seed),
    )


def plot_history(study: optuna.Study) -> Figure:
    """Optuna's optimization-history plot (matplotlib backend): value per trial, best so far."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = optuna.visualization.matplotlib.plot_optimization_history(
            study, target_name="val accuracy"
        )
    return cast("Figure", ax.figure)


def plot_importances(study: optuna.Study, *, seed: int = 0) -> Figure:
    """Optuna's parameter-importance plot (matplotlib backend, fANOVA)."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = optuna.visualization.matplotlib.plot_param_importances(
            study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=seed)
        )
    return cast("Figure", ax.figure)


def _save_png(figure: Figure, path: Path) -> None:
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png"))


def write_best_report(
    result: TuneResult,
    data: SplitData,
    out: Path,
    *,
    figures: dict[str, Figure] | None = None,
    split_warnings: Sequence[str] = (),
) -> None:
    """Write the tuning report into ``out / "report"``: the best configuration against
    its unregularized baseline on the same split (both trained again, diagnosed and
    tested once; the baseline stays the recommendation unless the tuned configuration
    beats it on validation), with ``figures`` (Optuna's plots) added, and the retrained
    curves as ``best_history.csv``. ``split_warnings`` (the split's few-groups warning,
    logged when the data was split) go into the report as a study's do.
    """
    from nooverfit.report_figures import figure_png
    from nooverfit.study_files import write_study
    from nooverfit.tune.report import tuned_comparison

    result.history.save(out / "best_history.csv")
    compared = tuned_comparison(result, data)
    if split_warnings:
        compared.extras["split_warnings"] = list(split_warnings)
    extra = {name: figure_png(fig) for name, fig in (figures or {}).items()}
    write_study(compared, out / "report", extra=extra)


def check_out(out: Path, spec: TuneSpec, *, overwrite: bool) -> None:
    """Refuse an ``out`` whose ``best.json`` is another study's unless ``overwrite``: the
    same study (its name and storage) updates its own files when resumed.

    Raises:
        OutputExists: if ``out`` is a file, or holds another study's results.
    """
    from nooverfit.errors import BadInput, OutputExists, check_new, check_version

    if out.exists() and not out.is_dir():
        raise OutputExists(f"--out {out} is a file; expected a folder for the tuning results")
    best = out / "best.json"
    try:
        found = json.loads(best.read_text(encoding="utf-8")) if best.is_file() else None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        found = None  # unreadable: not this study's, so refused below
    own = (
        isinstance(found, dict)
        and found.get("study_name") == spec.study_name
        and found.get("storage") == _hide_password(spec.storage)
    )
    if own and not overwrite:  # resumed: a newer nooverfit's best.json is not replaced
        saved = cast("dict[str, Any]", found)
        made = str(saved.get("nooverfit", ""))
        try:
            check_version(best, saved.get("format", 1), newest=BEST_FORMAT, made=made)
        except BadInput as err:
            raise type(err)(f"{err}; or choose another --out or pass --overwrite") from None
    what = "another study's results" if found is not None else "what is not a study's results"
    check_new(best, overwrite=overwrite or own, holds=what)


def write_outputs(
    result: TuneResult,
    study: optuna.Study,
    data: SplitData,
    out: Path,
    *,
    split_warnings: Sequence[str] = (),
) -> None:
    """Write ``best.json``, ``plots/history.png``, ``plots/importance.png`` and the report
    (with ``split_warnings``, see :func:`write_best_report`).

    Every file is written atomically; a plot Optuna cannot draw (too few trials) is skipped.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "best.json", result.to_dict())
    draw: dict[str, Callable[[], Figure]] = {
        "history.png": lambda: plot_history(study),
        "importance.png": lambda: plot_importances(study, seed=result.config.seed),
    }
    for name, make in draw.items():
        try:
            figure = make()
        except (RuntimeError, ValueError) as err:
            log.info("skipped %s: %s", name, err)
            continue
        figure.tight_layout()
        _save_png(figure, out / "plots" / name)
        plt.close(figure)
    from nooverfit.tune.report import optuna_figures

    figures = optuna_figures(study, result.importances)
    write_best_report(result, data, out, figures=figures, split_warnings=split_warnings)
