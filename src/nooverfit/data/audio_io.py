"""WAV files in and out, resampling, and a bank of background-noise clips.

Reading WAV needs the optional extra ``audio`` (``pip install "nooverfit[audio]"``,
which installs soundfile); writing needs only scipy. Audio is held as float32 mono in
[-1, 1] for integer files; written as 32-bit float WAV so mixes louder than full scale
are kept exactly instead of clipped.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nooverfit._io import atomic_write
from nooverfit.errors import MissingExtra

log = logging.getLogger(__name__)

WAV_SUFFIXES = (".wav", ".flac")


def _soundfile() -> Any:
    try:
        import soundfile
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingExtra(
            'reading and writing WAV files needs soundfile: pip install "nooverfit[audio]"'
        ) from None
    return soundfile


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample ``x`` (last axis is time) from ``rate`` to ``target`` Hz.

    Polyphase filtering (``scipy.signal.resample_poly``) with the ratio reduced by the
    greatest common divisor, e.g. 44,100 -> 16,000 Hz is up 160, down 441.
    """
    if rate <= 0 or target <= 0:
        raise ValueError(f"sample rates must be positive, got {rate} -> {target}")
    if rate == target:
        return x
    from scipy.signal import resample_poly

    g = math.gcd(rate, target)
    return resample_poly(x, target // g, rate // g, axis=-1).astype(np.float32)


def to_float(x: np.ndarray) -> np.ndarray:
    """Audio as float32: integer PCM is scaled to [-1, 1) by its full scale; unsigned PCM
    (8-bit WAV) is centred on its midpoint first, ``(x - 128) / 128`` for ``uint8``."""
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.unsignedinteger):  # (its min is 0: x / 0 gave inf)
        half = float(np.iinfo(x.dtype).max // 2 + 1)
        return ((x.astype(np.float64) - half) / half).astype(np.float32)
    if np.issubdtype(x.dtype, np.integer):
        return (x / float(-np.iinfo(x.dtype).min)).astype(np.float32)
    return x.astype(np.float32, copy=False)


def read_wav(path: str | os.PathLike[str], *, rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read a sound file as float32 mono ``(T,)``, resampled to ``rate`` if given.

    Returns:
        ``(samples, sample_rate)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a readable sound file, or one holding NaN or infinite samples (a
            float WAV can: mixed, they read as a silent clip or as an SNR out of range).
    """
    sf = _soundfile()
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"sound file not found: {p}")
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except RuntimeError as err:
        raise ValueError(f"{p} is not a readable sound file ({err}); expected WAV") from None
    if not np.isfinite(data).all():
        raise ValueError(f"{p} holds NaN or infinite samples; expected finite audio")
    x = data.mean(axis=1)  # channels -> mono
    if rate is not None and rate != sr:
        x, sr = resample(x, int(sr), rate), rate
    return x.astype(np.float32, copy=False), int(sr)


def write_wav(path: str | os.PathLike[str], x: np.ndarray, rate: int) -> Path:
    """Write float audio ``(T,)`` atomically as a 32-bit float WAV.

    The same samples give the same bytes: scipy writes no more than the format and the
    samples, where libsndfile's float WAV carries a PEAK chunk stamped with the time of
    writing (same seed, different files).
    """
    from scipy.io import wavfile

    return atomic_write(path, lambda tmp: wavfile.write(str(tmp), rate, np.asarray(x, np.float32)))


def sound_files(folder: str | os.PathLike[str], *, recursive: bool = True) -> list[Path]:
    """The sound files under ``folder``, sorted (deterministic order)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"folder not found: {root}")
    found = root.rglob("*") if recursive else root.glob("*")
    return sorted(p for p in found if p.is_file() and p.suffix.lower() in WAV_SUFFIXES)


@dataclass(frozen=True, eq=False)
class NoiseBank:
    """Named background-noise clips at one sample rate.

    Attributes:
        names: one name per clip (file stem, or noise type for generated noise).
        clips: float32 waveforms ``(L_i,)``; lengths may differ.
        rate: sample rate, Hz.
    """

    names: tuple[str, ...]
    clips: tuple[np.ndarray, ...]
    rate: int

    def __post_init__(self) -> None:
        if not self.clips:
            raise ValueError("a noise bank needs at least one clip")
        if len(self.names) != len(self.clips):
            raise ValueError(f"{len(self.names)} names for {len(self.clips)} noise clips")

    def __len__(self) -> int:
        return len(self.clips)

    @classmethod
    def from_folder(
        cls, folder: str | os.PathLike[str], *, rate: int = 16000, min_seconds: float = 0.0
    ) -> NoiseBank:
        """Read every WAV/FLAC under ``folder`` (recursively), resampled to ``rate`` Hz.

        Silent files and files shorter than ``min_seconds`` are skipped (with a warning).

        Raises:
            FileNotFoundError: the folder does not exist.
            ValueError: it holds no usable sound file.
        """
        names, clips = [], []
        for path in sound_files(folder):
            x, _ = read_wav(path, rate=rate)
            if len(x) < max(1, min_seconds * rate) or not np.any(x):
                log.warning("skipping silent or short noise file %s", path)
                continue
            names.append(path.stem)
            clips.append(x)
        if not clips:
            raise ValueError(f"no usable WAV files under {folder}; expected noise recordings")
        return cls(tuple(names), tuple(clips), rate)

    def subset(self, names: Sequence[str]) -> NoiseBank:
        """The clips with the given names, in that order."""
        lookup = dict(zip(self.names, self.clips, strict=True))
        missing = [n for n in names if n not in lookup]
        if missing:
            raise ValueError(f"no noise named {missing}; the bank has {list(self.names)}")
        return NoiseBank(tuple(names), tuple(lookup[n] for n in names), self.rate)

    def stack(self, length: int) -> np.ndarray:
        """All clips looped or cropped to ``length`` samples, ``(M, length)``."""
        return np.stack([np.resize(c, length) for c in self.clips]).astype(np.float32)
