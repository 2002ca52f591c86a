"""nooverfit: diagnose and fix overfitting in neural networks, with evidence.

The public names are imported on first use (PEP 562), so ``import nooverfit`` and the
command line start without torch, scikit-learn or optuna; ``from nooverfit import X`` and
``nooverfit.X`` work as if everything were imported here.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from nooverfit._version import __version__ as __version__  # pyproject is the source

if TYPE_CHECKING:
    from nooverfit._rules import diagnose
    from nooverfit.audit import AuditReport
    from nooverfit.config import RunConfig
    from nooverfit.data import (
        Dataset,
        NoiseBank,
        ShortcutReport,
        Split,
        SplitData,
        list_datasets,
        load_dataset,
        make_split,
        mix_at_snr,
        prepare,
        shortcut_check,
        synthesize_folder,
    )
    from nooverfit.diagnosis import Diagnosis, Verdict
    from nooverfit.history import History
    from nooverfit.logs import read_log
    from nooverfit.models import build_model, cnn, mlp
    from nooverfit.monitor import Monitor
    from nooverfit.regularize import (
        add_batchnorm,
        add_dropout,
        convert_l2,
        decay_groups,
        l2_penalty,
    )
    from nooverfit.saved_model import StudyModel, load_study_model
    from nooverfit.stopping import EarlyStopping, StopReason
    from nooverfit.studies import StudyResult, study
    from nooverfit.train import evaluate, fit
    from nooverfit.transfer import transfer_runs
    from nooverfit.tune import TuneResult, TuneSpec


#: Public name -> the module that defines it.
_EXPORTS = {
    "AuditReport": "nooverfit.audit",
    "Dataset": "nooverfit.data",
    "Diagnosis": "nooverfit.diagnosis",
    "EarlyStopping": "nooverfit.stopping",
    "History": "nooverfit.history",
    "Monitor": "nooverfit.monitor",
    "NoiseBank": "nooverfit.data",
    "RunConfig": "nooverfit.config",
    "ShortcutReport": "nooverfit.data",
    "Split": "nooverfit.data",
    "SplitData": "nooverfit.data",
    "StopReason": "nooverfit.stopping",
    "StudyModel": "nooverfit.saved_model",
    "StudyResult": "nooverfit.studies",
    "TuneResult": "nooverfit.tune",
    "TuneSpec": "nooverfit.tune",
    "Verdict": "nooverfit.diagnosis",
    "add_batchnorm": "nooverfit.regularize",
    "add_dropout": "nooverfit.regularize",
    "build_model": "nooverfit.models",
    "cnn": "nooverfit.models",
    "convert_l2": "nooverfit.regularize",
    "decay_groups": "nooverfit.regularize",
    "diagnose": "nooverfit._rules",
    "evaluate": "nooverfit.train",
    "fit": "nooverfit.train",
    "l2_penalty": "nooverfit.regularize",
    "list_datasets": "nooverfit.data",
    "load_dataset": "nooverfit.data",
    "load_study_model": "nooverfit.saved_model",
    "make_split": "nooverfit.data",
    "mix_at_snr": "nooverfit.data",
    "mlp": "nooverfit.models",
    "prepare": "nooverfit.data",
    "read_log": "nooverfit.logs",
    "shortcut_check": "nooverfit.data",
    "study": "nooverfit.studies",
    "synthesize_folder": "nooverfit.data",
    "transfer_runs": "nooverfit.transfer",
}

__all__ = [
    "AuditReport",
    "Dataset",
    "Diagnosis",
    "EarlyStopping",
    "History",
    "Monitor",
    "NoiseBank",
    "RunConfig",
    "ShortcutReport",
    "Split",
    "SplitData",
    "StopReason",
    "StudyModel",
    "StudyResult",
    "TuneResult",
    "TuneSpec",
    "Verdict",
    "add_batchnorm",
    "add_dropout",
    "build_model",
    "cnn",
    "convert_l2",
    "decay_groups",
    "diagnose",
    "evaluate",
    "fit",
    "l2_penalty",
    "list_datasets",
    "load_dataset",
    "load_study_model",
    "make_split",
    "mix_at_snr",
    "mlp",
    "prepare",
    "read_log",
    "shortcut_check",
    "study",
    "synthesize_folder",
    "transfer_runs",
]


def __getattr__(name: str) -> Any:
    """Import a public name (or a subpackage, as ``nooverfit.data``) on first use."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if not name.startswith("__"):
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, the dunders and the subpackages loaded so far; not the names
    this module imports for itself (``sys``, ``Any``, ...)."""
    own = {
        name
        for name, value in globals().items()
        if name.startswith("__")
        or (isinstance(value, types.ModuleType) and value.__name__.startswith(f"{__name__}."))
    }
    return sorted(own | set(__all__))


class _Package(types.ModuleType):
    """The package module, where a public name beats a submodule of the same name.

    Importing a submodule ``nooverfit.X`` sets the package's ``X`` to the module, which
    would hide a public function ``X`` (eager imports used to bind the function after
    it). No public name is a module, so that assignment is refused.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
