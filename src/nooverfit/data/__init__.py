"""Data sets, splits and the tensors a training run consumes."""

from nooverfit.data import keywords as _keywords  # noqa: F401  (registers keywords, speech)
from nooverfit.data import sources as _sources  # noqa: F401  (registers the built-ins)
from nooverfit.data.dataset import Dataset, list_datasets, load_dataset, register_dataset
from nooverfit.data.split import Split, make_split
from nooverfit.data.tensors import SplitData, load_split, prepare

__all__ = [
    "Dataset",
    "Split",
    "SplitData",
    "list_datasets",
    "load_dataset",
    "load_split",
    "make_split",
    "prepare",
    "register_dataset",
]
