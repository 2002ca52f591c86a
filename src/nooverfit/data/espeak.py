"""Speech synthesized offline with ``espeak-ng``: one utterance per process, many in parallel.

``espeak-ng`` (the Debian package of the same name) speaks text in many voices and accents
(``espeak-ng --voices``), with variants such as ``+f3`` or ``+m7`` that change the
formants and the voice source, at a chosen speed (words per minute) and pitch (0-99).
It writes a 16-bit mono WAV at 22,050 Hz to standard output, which is read here without
any audio library and resampled (by FFT) to the rate asked for.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

PROGRAM = "espeak-ng"


@dataclass(frozen=True)
class Utterance:
    """What to say and how.

    Attributes:
        text: the words.
        voice: an ``espeak-ng`` voice, with an optional variant (``"en-us+f3"``).
        speed: words per minute (espeak-ng's ``-s``; 80-450, its default 175).
        pitch: base pitch, 0-99 (``-p``; default 50).
    """

    text: str
    voice: str
    speed: int
    pitch: int


def program() -> str:
    """The path of ``espeak-ng``.

    Raises:
        ValueError: it is not installed (one line naming the package).
    """
    path = shutil.which(PROGRAM)
    if path is None:
        raise ValueError(
            "spoken data needs espeak-ng, which is not installed; expected the espeak-ng "
            "program on PATH (Debian/Ubuntu: apt-get install espeak-ng)"
        )
    return path


def version() -> str:
    """``espeak-ng``'s version line (part of the spoken data set's cache key)."""
    out = subprocess.run([program(), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """A 16-bit PCM mono WAV as written by ``espeak-ng --stdout`` -> float32 ``(T,)``, rate.

    ``espeak-ng`` streams, so its header's size fields are placeholders; the samples are
    everything after the ``data`` chunk id and its size field.
    """
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("espeak-ng did not write a WAV file; expected RIFF/WAVE output")
    rate = int.from_bytes(data[24:28], "little")
    start = data.find(b"data", 12) + 8
    pcm = np.frombuffer(data[start : start + (len(data) - start) // 2 * 2], dtype="<i2")
    return (pcm / 32768.0).astype(np.float32), rate


def to_rate(x: np.ndarray, sr: int, rate: int) -> np.ndarray:
    """Resample ``x`` from ``sr`` to ``rate`` Hz by FFT, ``round(len(x) * rate / sr)`` samples.

    espeak-ng's output starts and ends in silence, so the periodic extension an FFT
    assumes is harmless. Zero-padding to ``sr / g * 2^j`` samples (``g`` the common
    divisor) keeps both FFT sizes smooth: 2-3x faster than polyphase filtering.
    """
    if sr == rate:
        return x
    from math import gcd

    from scipy.signal import resample as fft_resample

    g = gcd(sr, rate)
    m = 1 << max(0, int(np.ceil(np.log2(len(x) / (sr // g)))))
    padded = np.pad(x, (0, sr // g * m - len(x)))
    out = fft_resample(padded, rate // g * m)[: round(len(x) * rate / sr)]
    return np.asarray(out, np.float32)


def speak(utterance: Utterance, *, rate: int = 16000) -> np.ndarray:
    """Render one utterance as float32 samples ``(T,)`` at ``rate`` Hz.

    Raises:
        ValueError: espeak-ng is missing, or rejected the voice.
    """
    u = utterance
    cmd = [program(), "-v", u.voice, "-s", str(u.speed), "-p", str(u.pitch), "--stdout", u.text]
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode != 0 or len(done.stdout) <= 44:
        err = done.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(
            f"espeak-ng failed for voice {u.voice!r} ({err[-1] if err else 'no output'}); "
            "expected a voice listed by espeak-ng --voices"
        )
    x, sr = parse_wav(done.stdout)
    return to_rate(x, sr, rate)


def speak_all(
    utterances: Sequence[Utterance], *, rate: int = 16000, workers: int = 2
) -> list[np.ndarray]:
    """Render many utterances, ``workers`` espeak-ng processes at a time, in order.

    Rendering is deterministic, so the result does not depend on ``workers``.
    """
    program()  # fail before starting any thread
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(lambda u: speak(u, rate=rate), utterances))
