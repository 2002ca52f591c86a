"""nooverfit: diagnose and fix overfitting in neural networks, with evidence."""

from nooverfit.config import RunConfig
from nooverfit.data import (
    Dataset,
    Split,
    SplitData,
    list_datasets,
    load_dataset,
    make_split,
    prepare,
)
from nooverfit.history import History
from nooverfit.models import build_model, cnn, mlp
from nooverfit.regularize import add_batchnorm, add_dropout, convert_l2, decay_groups, l2_penalty
from nooverfit.stopping import EarlyStopping, StopReason
from nooverfit.train import evaluate, fit
from nooverfit.tune import TuneResult, TuneSpec

__version__ = "0.1.0"

__all__ = [
    "Dataset",
    "EarlyStopping",
    "History",
    "RunConfig",
    "Split",
    "SplitData",
    "StopReason",
    "TuneResult",
    "TuneSpec",
    "add_batchnorm",
    "add_dropout",
    "build_model",
    "cnn",
    "convert_l2",
    "decay_groups",
    "evaluate",
    "fit",
    "l2_penalty",
    "list_datasets",
    "load_dataset",
    "make_split",
    "mlp",
    "prepare",
]
