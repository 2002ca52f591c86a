"""nooverfit: diagnose and fix overfitting in neural networks, with evidence."""

from nooverfit._rules import diagnose
from nooverfit._version import __version__ as __version__  # pyproject is the source
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
from nooverfit.regularize import add_batchnorm, add_dropout, convert_l2, decay_groups, l2_penalty
from nooverfit.stopping import EarlyStopping, StopReason
from nooverfit.studies import StudyResult, study
from nooverfit.train import evaluate, fit
from nooverfit.transfer import transfer_runs
from nooverfit.tune import TuneResult, TuneSpec

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
