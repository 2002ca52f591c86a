"""Mix foreground clips with background noise at an exact SNR, and build data sets that way.

The SNR is measured where the foreground is *active* (the keyword is spoken), not over
the whole clip: with a 0.3 s keyword in a 1 s clip, whole-clip RMS would make the keyword
about 5 dB noisier than asked. Every synthesized clip is recorded in a manifest (source,
noise, offset, SNR, gain, seed; :mod:`nooverfit.data.synthesis_manifest`) so it can be
traced and regenerated.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from nooverfit.data.audio_io import NoiseBank, read_wav, sound_files, to_float, write_wav
from nooverfit.data.synthesis_manifest import (
    ManifestRow,
    drop_aside,
    earlier_outputs,
    put_back,
    set_aside,
    write_manifest,
)

# the manifest's format and reader, long imported from here
from nooverfit.data.synthesis_manifest import MANIFEST_FORMAT as MANIFEST_FORMAT  # isort: skip
from nooverfit.data.synthesis_manifest import read_manifest as read_manifest  # isort: skip


def active_region(x: np.ndarray, *, frame: int = 256, threshold_db: float = -30.0) -> np.ndarray:
    """Where a clip is active: frames whose energy is within ``threshold_db`` of the
    loudest frame.

    Args:
        x: waveform ``(T,)``.
        frame: frame length in samples (default 256, 16 ms at 16 kHz).
        threshold_db: level relative to the loudest frame, dB (default -30).

    Returns:
        Boolean mask ``(T,)``; all False for a silent clip.
    """
    x = to_float(x)
    n = max(1, int(np.ceil(len(x) / frame)))
    padded = np.zeros(n * frame, np.float64)
    padded[: len(x)] = x
    energy = (padded.reshape(n, frame) ** 2).mean(axis=1)  # (frames,)
    peak = energy.max()
    if peak <= 0:
        return np.zeros(len(x), bool)
    return np.repeat(energy >= peak * 10 ** (threshold_db / 10), frame)[: len(x)]


def fit_length(background: np.ndarray, length: int, *, offset: int = 0) -> np.ndarray:
    """``length`` samples of ``background`` from ``offset`` on, looping past its end."""
    b = to_float(background)
    if len(b) == 0:
        raise ValueError("background is empty; expected at least one sample")
    idx = (offset + np.arange(length)) % len(b)
    return b[idx]


def measure_snr(
    signal: np.ndarray, noise: np.ndarray, *, active: np.ndarray | None = None
) -> float:
    """``10 * log10(P_signal / P_noise)`` in dB over the ``active`` samples (default all)."""
    s, n = np.asarray(signal, np.float64), np.asarray(noise, np.float64)
    if active is not None:
        s, n = s[active], n[active]
    return float(10 * np.log10(np.mean(s**2) / np.mean(n**2)))


def snr_gain(
    foreground: np.ndarray, noise: np.ndarray, snr_db: float, *, active: np.ndarray
) -> float:
    """The noise gain ``a`` with ``P(fg) / P(a * noise) = 10 ** (snr_db / 10)`` over ``active``:
    ``a = sqrt(P_fg / P_noise) * 10 ** (-snr_db / 20)`` (0 past about +6,000 dB).

    Raises:
        ValueError: silent foreground or noise over the active region, an SNR that is no
            number, NaN or -inf, or one so low that the scaled noise overflows float32.
    """
    try:
        snr = float(snr_db)
    except (TypeError, ValueError):
        raise ValueError(f"snr_db must be a number in dB, got {snr_db!r}") from None
    if np.isnan(snr) or snr == -np.inf:
        raise ValueError(f"snr_db must be a number or +inf, got {snr}")
    if not np.any(active):
        raise ValueError("foreground is silent (no active samples); cannot set an SNR")
    p_fg = float(np.mean(np.asarray(foreground, np.float64)[active] ** 2))
    p_n = float(np.mean(np.asarray(noise, np.float64)[active] ** 2))
    if p_fg == 0:
        raise ValueError("foreground is silent over its active region; cannot set an SNR")
    if snr == np.inf:
        return 0.0
    if p_n == 0:
        raise ValueError("background is silent where the foreground is active; cannot set an SNR")
    # the level factor apart: 10 ** (snr / 10) overflowed a Python float past 3,083 dB
    with np.errstate(over="ignore", under="ignore"):
        a = np.sqrt(p_fg / p_n) * np.float64(10.0) ** (-snr / 20)
        loudest = np.float32(a * np.abs(np.asarray(noise, np.float64)).max())
    if not np.isfinite(loudest):
        raise ValueError(
            f"snr_db {snr:g} dB scales the noise past float32's range; expected a higher SNR"
        )
    return float(a)


def mix_at_snr(
    foreground: np.ndarray,
    background: np.ndarray,
    snr_db: float,
    *,
    offset: int | None = None,
    active: np.ndarray | None = None,
    seed: int | None = None,
) -> np.ndarray:
    """``foreground + a * background`` with the SNR over the foreground's active region
    equal to ``snr_db`` (to float64 rounding).

    Args:
        foreground: the clean clip ``(T,)``; integer PCM is scaled to [-1, 1).
        background: the noise ``(L,)``; looped when shorter than ``T``, cropped otherwise.
        snr_db: target SNR in dB (``inf`` returns the foreground as float32).
        offset: where in the background to start (default: random with ``seed``, or 0
            when no seed is given).
        active: boolean mask ``(T,)`` of where the foreground is active (default:
            :func:`active_region`).
        seed: seed for the random offset.

    Returns:
        The mix, float32 ``(T,)``; not clipped (clipping would change the SNR).

    Raises:
        ValueError: a silent foreground, noise that is silent where the foreground is
            active, a NaN or infinite sample, a mask of the wrong length, or a NaN / -inf
            SNR.
    """
    fg = to_float(foreground)
    bg = to_float(background)
    if fg.ndim != 1 or bg.ndim != 1:
        raise ValueError(f"expected 1-D clips, got shapes {fg.shape} and {bg.shape}")
    for name, clip in (("foreground", fg), ("background", bg)):
        if not np.isfinite(clip).all():  # (a NaN foreground was called silent)
            raise ValueError(f"{name} holds NaN or infinite samples; expected finite audio")
    if offset is None:
        offset = int(np.random.default_rng(seed).integers(len(bg))) if seed is not None else 0
    noise = fit_length(bg, len(fg), offset=offset)
    mask = active_region(fg) if active is None else np.asarray(active, bool)
    if mask.shape != fg.shape:
        raise ValueError(f"active mask has shape {mask.shape}, expected {fg.shape}")
    a = snr_gain(fg, noise, snr_db, active=mask)
    return (fg.astype(np.float64) + a * noise.astype(np.float64)).astype(np.float32)


def parse_snr(spec: str) -> tuple[float, float]:
    """``"0:20"`` -> (0, 20) (uniform range); ``"10"`` -> (10, 10).

    Raises:
        ValueError: no number, or not a finite one (``nan``, ``inf``), or LOW > HIGH.
    """
    lo, sep, hi = spec.partition(":")
    try:
        low, high = float(lo), float(hi if sep else lo)
    except ValueError:
        low = high = np.nan
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"SNR must be LOW:HIGH or a number in dB, got {spec!r}")
    if low > high:
        raise ValueError(f"SNR range must have LOW <= HIGH, got {spec!r}")
    return low, high


def check_snr_range(snr_db: tuple[float, float]) -> tuple[float, float]:
    """``snr_db`` as ``(low, high)`` floats: finite dB, ``low <= high``.

    Raises:
        ValueError: anything else (a NaN range drew NaN SNRs, an infinite one failed in
            numpy with "high - low range exceeds valid bounds").
    """
    try:
        low, high = (float(v) for v in snr_db)
    except (TypeError, ValueError):
        low = high = np.nan
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(
            f"snr_db must be (low, high) in dB, finite with low <= high, got {snr_db!r}"
        )
    return low, high


@dataclass(frozen=True)
class Synthesis:
    """What :func:`synthesize_folder` wrote: the output folder and one row per clip."""

    out: Path
    rows: tuple[ManifestRow, ...]

    def to_dict(self) -> dict[str, object]:
        return {"out": str(self.out), "clips": [asdict(r) for r in self.rows]}


def synthesize_folder(
    foreground: str | os.PathLike[str],
    background: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    snr_db: tuple[float, float] = (0.0, 20.0),
    per_clip: int = 5,
    seed: int = 0,
    rate: int | None = None,
    overwrite: bool = False,
) -> Synthesis:
    """Mix every foreground clip with ``per_clip`` random noises at random SNRs.

    Foreground clips are read from ``foreground`` (flat, or ``<label>/<clip>.wav``; the
    label is the parent folder name); mixes are written to ``out/<label>/<stem>__<k>.wav``
    with ``out/manifest.csv``. The same seed gives the same files: clip ``i``'s draws
    come from ``numpy.random.default_rng((seed, i))``.

    Args:
        foreground: folder of clean clips.
        background: folder of noise recordings (see :meth:`NoiseBank.from_folder`).
        out: output folder.
        snr_db: SNR range in dB, drawn uniformly (default 0 to 20).
        per_clip: mixes per foreground clip (default 5).
        seed: seed of every draw.
        rate: sample rate, Hz (default: the first foreground clip's).
        overwrite: replace an earlier synthesis in ``out`` (the clips its manifest lists,
            and the manifest), kept until the new one is written (a run that fails
            leaves it as it was); default False.

    Raises:
        ValueError: if ``snr_db`` is no finite ``(low, high)`` with ``low <= high``; if
            ``out`` is (or lies inside) ``foreground`` or ``background``, or
            holds sound files no manifest lists; :class:`~nooverfit.errors.OutputExists`
            (a ``ValueError``) if it holds an earlier synthesis and not ``overwrite``
            (checked before anything is written, so nothing is lost).
    """
    if per_clip < 1:
        raise ValueError(f"per_clip must be >= 1, got {per_clip}")
    snr_db = check_snr_range(snr_db)
    fg_root, out_root = Path(foreground), Path(out)
    for name, folder in (("--foreground", fg_root), ("--background", Path(background))):
        if not folder.is_dir():
            raise FileNotFoundError(f"{name} folder not found: {folder}; expected WAV files")
        if out_root.resolve().is_relative_to(folder.resolve()):
            raise ValueError(
                f"--out {out_root} lies in {name} {folder}; expected a folder outside it "
                "(mixes would be read back as inputs)"
            )
    earlier = earlier_outputs(out_root, overwrite=overwrite)
    files = [p for p in sound_files(fg_root) if "_background_noise_" not in p.parts]
    if not files:
        raise ValueError(f"no WAV files under {fg_root}; expected DIR/<label>/<clip>.wav")
    if rate is None:
        rate = read_wav(files[0])[1]
    bank = NoiseBank.from_folder(background, rate=rate)
    rows: list[ManifestRow] = []
    labels = {p.parent.name for p in files if p.parent != fg_root}
    made = _absent_folders(out_root, [out_root / label for label in sorted(labels)])
    # the user asked to replace them, but only by a synthesis that is written: a run that
    # fails (a silent clip, Ctrl-C) puts them back
    aside = set_aside(out_root, earlier)
    try:
        _mix_all(files, fg_root, out_root, bank, rows, snr_db, per_clip, seed, rate)
        write_manifest(out_root / "manifest.csv", rows)
    except BaseException:
        for row in rows:  # no clip without a manifest row: remove this run's partial output
            (out_root / row.clip).unlink(missing_ok=True)
        put_back(out_root, aside)
        for folder in made:  # and the folders it made, deepest first (not ones there before)
            with contextlib.suppress(OSError):  # absent, or holding something not ours
                folder.rmdir()
        raise
    drop_aside(aside)
    return Synthesis(out_root, tuple(rows))


def _absent_folders(out: Path, inside: list[Path]) -> list[Path]:
    """The folders among ``inside`` (folders in ``out``), ``out`` and its parents that do
    not exist yet, deepest first: what a synthesis that fails may remove again."""
    absent = [folder for folder in inside if not folder.exists()]
    folder = out
    while not folder.exists() and folder != folder.parent:
        absent.append(folder)
        folder = folder.parent
    return absent


def _mix_all(
    files: list[Path],
    fg_root: Path,
    out_root: Path,
    bank: NoiseBank,
    rows: list[ManifestRow],
    snr_db: tuple[float, float],
    per_clip: int,
    seed: int,
    rate: int,
) -> None:
    """Write the mixes of :func:`synthesize_folder`, appending a row to ``rows`` for each
    clip as it is written."""
    for i, path in enumerate(files):
        fg, _ = read_wav(path, rate=rate)
        label = path.parent.name if path.parent != fg_root else ""
        mask = active_region(fg)
        rng = np.random.default_rng((seed, i))
        for k in range(per_clip):
            j = int(rng.integers(len(bank)))
            offset = int(rng.integers(len(bank.clips[j])))
            snr = float(rng.uniform(*snr_db))
            noise = fit_length(bank.clips[j], len(fg), offset=offset)
            try:
                gain = snr_gain(fg, noise, snr, active=mask)
            except ValueError as err:
                where = f"{path} (mixed with noise {bank.names[j]!r} from sample {offset})"
                raise ValueError(f"{where}: {err}") from None
            name = Path(label, f"{path.stem}__{k}.wav").as_posix()
            write_wav(out_root / name, fg + gain * noise, rate)
            rel = path.relative_to(fg_root).as_posix()
            rows.append(ManifestRow(name, label, rel, bank.names[j], offset, snr, gain, seed))
