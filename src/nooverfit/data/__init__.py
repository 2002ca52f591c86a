"""Data sets, splits and the tensors a training run consumes."""

from nooverfit.data import image_sources as _image_sources  # noqa: F401  (registers them)
from nooverfit.data import keywords as _keywords  # noqa: F401  (registers keywords, speech)
from nooverfit.data import sources as _sources  # noqa: F401  (registers the built-ins)
from nooverfit.data import spoken as _spoken  # noqa: F401  (registers spoken)
from nooverfit.data.audio_io import NoiseBank, read_wav, resample, write_wav
from nooverfit.data.augment import augmenter, mixup
from nooverfit.data.dataset import Dataset, list_datasets, load_dataset, register_dataset
from nooverfit.data.shortcut import ShortcutFlag, ShortcutReport, shortcut_check
from nooverfit.data.split import Split, make_split
from nooverfit.data.synthesize import Synthesis, active_region, mix_at_snr, synthesize_folder
from nooverfit.data.tensors import SplitData, load_split, prepare
from nooverfit.models import LogSpectrogram

__all__ = [
    "Dataset",
    "LogSpectrogram",
    "NoiseBank",
    "ShortcutFlag",
    "ShortcutReport",
    "Split",
    "SplitData",
    "Synthesis",
    "active_region",
    "augmenter",
    "list_datasets",
    "load_dataset",
    "load_split",
    "make_split",
    "mix_at_snr",
    "mixup",
    "prepare",
    "read_wav",
    "register_dataset",
    "resample",
    "shortcut_check",
    "synthesize_folder",
    "write_wav",
]
