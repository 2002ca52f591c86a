"""Keyword-spotting data: a procedurally generated SYNTHETIC set and a Speech-Commands loader.

No speech corpus ships with nooverfit, so ``keywords`` is made of tones, not words: four
"keywords" are distinct chirp/tone patterns of 0.25 s placed at a random time in a 0.5 s
clip at 4 kHz, mixed at a random SNR with coloured noises (white, pink, brown, blue) or
synthetic babble/hum. It behaves like a keyword-spotting task (a short event in a longer,
noisy clip) and can be made deliberately leaky (noise type tied to the label) to show
the shortcut check at work.

``speech:PATH`` reads a Speech-Commands-style folder, ``PATH/<label>/<clip>.wav`` with
noise recordings in ``PATH/_background_noise_``. Audio data sets have ``kind == "audio"``
and ``x`` of shape ``(N, T)``; the study's networks put
:class:`~nooverfit.models.LogSpectrogram` in front, which turns waveforms into
time-frequency maps.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from nooverfit.data.audio_io import NoiseBank, read_wav, sound_files
from nooverfit.data.dataset import Dataset, register_dataset
from nooverfit.data.shortcut import ShortcutProbes
from nooverfit.data.synthesize import mix_at_snr, parse_snr, read_manifest
from nooverfit.errors import NewerFile

RATE = 4000
LENGTH = 2000  # 0.5 s
KEYWORDS = ("rise", "fall", "two-tone", "warble")
NOISES = ("white", "pink", "brown", "blue", "babble", "hum")
BACKGROUND_DIR = "_background_noise_"


def keyword_clip(
    label: int, rng: np.random.Generator, *, rate: int = RATE, length: int = LENGTH
) -> np.ndarray:
    """One clean synthetic keyword ``(length,)``: pattern ``KEYWORDS[label]`` of 0.25 s with
    +-5 % pitch jitter, amplitude in [0.3, 1] and a random start, silence elsewhere."""
    dur = min(length, rate // 4)
    t = np.arange(dur) / rate
    k = 1 + rng.uniform(-0.05, 0.05)
    name = KEYWORDS[label]
    if name == "rise":
        phase = 2 * np.pi * k * (300 * t + 0.5 * 4800 * t**2)  # 300 -> 1500 Hz
    elif name == "fall":
        phase = 2 * np.pi * k * (1500 * t - 0.5 * 4800 * t**2)  # 1500 -> 300 Hz
    elif name == "two-tone":
        f = np.where(t < t[-1] / 2, 500.0, 1200.0) * k
        phase = 2 * np.pi * np.cumsum(f) / rate
    else:  # warble: 800 Hz, +-200 Hz vibrato at 12 Hz
        f = k * (800 + 200 * np.sin(2 * np.pi * 12 * t))
        phase = 2 * np.pi * np.cumsum(f) / rate
    tone = np.sin(phase + rng.uniform(0, 2 * np.pi)) * np.hanning(dur)
    clip = np.zeros(length, np.float32)
    start = int(rng.integers(0, length - dur + 1))
    clip[start : start + dur] = rng.uniform(0.3, 1.0) * tone
    return clip


def noise_clip(
    kind: str, rng: np.random.Generator, *, rate: int = RATE, length: int = LENGTH
) -> np.ndarray:
    """Unit-RMS synthetic noise ``(length,)``: coloured (power ~ ``f^b``: white 0, pink -1,
    brown -2, blue +1), ``babble`` (six wandering harmonic voices) or ``hum`` (100 Hz mains
    hum with harmonics)."""
    if kind in ("white", "pink", "brown", "blue"):
        slope = {"white": 0.0, "pink": -1.0, "brown": -2.0, "blue": 1.0}[kind]
        spec = np.fft.rfft(rng.standard_normal(length))
        f = np.fft.rfftfreq(length, 1 / rate)
        f[0] = f[1]
        x = np.fft.irfft(spec * f ** (slope / 2), n=length)
    elif kind == "babble":
        t = np.arange(length) / rate
        x = np.zeros(length)
        for _ in range(6):
            f0 = rng.uniform(100, 250) * (1 + 0.1 * np.sin(2 * np.pi * rng.uniform(2, 5) * t))
            ph = 2 * np.pi * np.cumsum(f0) / rate
            env = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(3, 7) * t + rng.uniform(0, 6.3))
            x += env * sum(np.sin(h * ph) / h for h in range(1, 6))
    elif kind == "hum":
        t = np.arange(length) / rate
        x = 0.05 * rng.standard_normal(length)
        for h in range(1, 8):
            x += np.sin(2 * np.pi * 100 * h * t + rng.uniform(0, 6.3)) / h
    else:
        raise ValueError(f"noise kind must be one of {NOISES}, got {kind!r}")
    x = np.asarray(x, np.float64)
    return (x / np.sqrt(np.mean(x**2))).astype(np.float32)


def noise_bank(kinds: tuple[str, ...], *, seed: int = 0, per_kind: int = 4) -> NoiseBank:
    """A :class:`NoiseBank` of ``per_kind`` 2 s synthetic clips of each noise kind."""
    rng = np.random.default_rng((seed, 7))
    names, clips = [], []
    for kind in kinds:
        for i in range(per_kind):
            names.append(f"{kind}-{i}")
            clips.append(noise_clip(kind, rng, length=4 * LENGTH))
    return NoiseBank(tuple(names), tuple(clips), RATE)


def load_keywords(
    arg: str | None = None,
    *,
    n_per_class: int = 60,
    noises: str = "white,pink,brown",
    snr: str = "0:20",
    leaky: bool = False,
    background_class: bool = False,
    seed: int = 0,
    **_: Any,
) -> Dataset:
    """The SYNTHETIC keyword data set (tones, not speech; see the module docstring).

    Args:
        n_per_class: clips per keyword (default 60).
        noises: comma-separated noise kinds from :data:`NOISES` (default white,pink,brown).
        snr: SNR range ``LOW:HIGH`` in dB over the keyword (default 0:20).
        leaky: tie the noise kind to the label (keyword ``k`` always gets noise
            ``k mod len(noises)``) - a deliberately shortcut-prone synthesis.
        background_class: add a ``_background_`` class of noise-only clips (when leaky,
            they use the last noise kind only, as recordings made elsewhere would).
        seed: generator seed.

    The noise kind of each clip is kept in ``groups`` (for the audit's group gaps).
    """
    if arg not in (None, "", "leaky"):
        raise ValueError(f"expected keywords or keywords:leaky, got keywords:{arg}")
    leaky = leaky or arg == "leaky"
    kinds = tuple(k.strip() for k in noises.split(",") if k.strip())
    bad = [k for k in kinds if k not in NOISES]
    if not kinds or bad:
        raise ValueError(f"noises must be a comma list of {NOISES}, got {noises!r}")
    lo, hi = parse_snr(snr)
    rng = np.random.default_rng(seed)
    xs, ys, groups = [], [], []
    classes = list(KEYWORDS) + (["_background_"] if background_class else [])
    for i in range(n_per_class * len(classes)):
        label = i % len(classes)
        if label == len(KEYWORDS):  # noise only
            kind = kinds[-1] if leaky else kinds[int(rng.integers(len(kinds)))]
            xs.append(rng.uniform(0.05, 0.5) * noise_clip(kind, rng))
        else:
            kind = kinds[label % len(kinds)] if leaky else kinds[int(rng.integers(len(kinds)))]
            fg = keyword_clip(label, rng)
            xs.append(mix_at_snr(fg, noise_clip(kind, rng), float(rng.uniform(lo, hi))))
        ys.append(label)
        groups.append(kind)
    name = "keywords" + (":leaky" if leaky else "")
    return Dataset(
        name, np.stack(xs), np.array(ys, np.int64), tuple(classes), "audio", np.array(groups)
    )


def keyword_probes(
    dataset: Dataset, *, per_class: int = 25, seed: int = 0
) -> ShortcutProbes | None:
    """Shortcut-check probes for a network trained on a ``keywords`` data set: fresh clean
    keywords, banks of the noise kinds the data set was mixed with (its ``groups``) and of
    the kinds it never used (held out); ``None`` for other data, or when no kind is left to
    hold out (or a class subset: its labels are not the keywords'). A data set that
    carries its own probes (``spoken``) returns those."""
    if dataset.probes is not None:
        return dataset.probes
    if (
        dataset.name.split(":")[0] != "keywords"
        or dataset.groups is None
        or tuple(dataset.classes[: len(KEYWORDS)]) != KEYWORDS
    ):
        return None
    used = set(dataset.groups.tolist())
    kinds = tuple(k for k in NOISES if k in used)
    held_out = tuple(k for k in NOISES if k not in used)
    if not kinds or not held_out:
        return None
    rng = np.random.default_rng((seed, 11))
    labels = np.repeat(np.arange(len(KEYWORDS)), per_class)
    length = dataset.x.shape[1]
    foreground = np.stack([keyword_clip(int(k), rng, length=length) for k in labels])
    classes = dataset.classes
    return ShortcutProbes(
        foreground,
        labels,
        noise_bank(kinds, seed=seed + 1),
        noise_bank(held_out, seed=seed + 1),
        classes.index("_background_") if "_background_" in classes else None,
    )


def _fit(x: np.ndarray, length: int) -> np.ndarray:
    out = np.zeros(length, np.float32)
    out[: min(length, len(x))] = x[:length]
    return out


def load_speech(
    arg: str | None, *, rate: int = 16000, length: int | None = None, **_: Any
) -> Dataset:
    """A Speech-Commands-style folder: ``PATH/<label>/<clip>.wav``.

    Clips are resampled to ``rate`` Hz (default 16,000) and zero-padded or cut to
    ``length`` samples (default one second, ``rate``). ``_background_noise_`` is not a
    class (read it with :func:`speech_noise_bank`). ``groups`` names each clip's source
    (:func:`speech_groups`: the speaker, or the recording a ``nooverfit synthesize`` mix
    was made from), and splits keep each group wholly in one of train pool, validation and
    test (``whole_groups``).
    """
    if not arg:
        raise ValueError("speech data needs a path: expected --data speech:PATH")
    root = Path(arg)
    files = [p for p in sound_files(root) if BACKGROUND_DIR not in p.parts and p.parent != root]
    if not files:
        raise ValueError(f"no clips under {root}; expected {root}/<label>/<clip>.wav")
    length = length or rate
    labels = sorted({p.parent.name for p in files})
    lookup = {c: k for k, c in enumerate(labels)}
    x = np.stack([_fit(read_wav(p, rate=rate)[0], length) for p in files])
    y = np.array([lookup[p.parent.name] for p in files], np.int64)
    groups = speech_groups(root, files)
    return Dataset(f"speech:{root}", x, y, tuple(labels), "audio", groups, whole_groups=True)


#: the suffix ``nooverfit synthesize`` gives the ``k``-th mix of a clip: ``<stem>__<k>``
_MIX_SUFFIX = re.compile(r"__\d+$")


def speech_groups(root: Path, files: list[Path]) -> np.ndarray:
    """Each clip's group: what its clips share and a fair test must not hear in training.

    The source of a clip is the recording the ``nooverfit synthesize`` manifest
    (``root/manifest.csv``) lists for it, else its own path with a mix suffix ``__<k>``
    removed (``no/de__3.wav`` -> ``no/de``). The group is the speaker where the source name
    says it (Speech Commands' ``<speaker>_nohash_<n>.wav``: ``<speaker>``, across words),
    else the source recording, label folder included (``no/de``).
    """
    sources = _manifest_sources(root)
    groups = []
    for path in files:
        clip = path.relative_to(root).as_posix()
        if clip in sources:
            source = str(PurePosixPath(sources[clip]).with_suffix(""))
        else:
            source = _MIX_SUFFIX.sub("", str(PurePosixPath(clip).with_suffix("")))
        name = PurePosixPath(source).name
        groups.append(name.split("_nohash_")[0] if "_nohash_" in name else source)
    return np.array(groups)


def _manifest_sources(root: Path) -> dict[str, str]:
    """``{clip: source}`` from a synthesis manifest in ``root``; empty without one (or for
    a ``manifest.csv`` that ``nooverfit synthesize`` did not write: names decide then).

    Raises:
        NewerFile: a newer nooverfit's manifest (names would split its mixes differently).
    """
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        return {}
    try:
        return {row.clip: row.source for row in read_manifest(manifest)}
    except NewerFile:
        raise
    except (KeyError, ValueError, TypeError):
        return {}


def speech_noise_bank(path: str | Path, *, rate: int = 16000) -> NoiseBank:
    """The ``_background_noise_`` recordings of a Speech-Commands-style folder."""
    return NoiseBank.from_folder(Path(path) / BACKGROUND_DIR, rate=rate)


register_dataset(
    "keywords",
    load_keywords,
    description="SYNTHETIC tone/chirp keywords in coloured noise (audio; keywords:leaky)",
)
register_dataset("speech", load_speech, description="speech:PATH, <label>/<clip>.wav folders")
