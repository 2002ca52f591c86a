"""``spoken``: the ten Speech Commands keywords spoken by ``espeak-ng`` voices, made offline.

Classes: ``yes no up down left right on off stop go``, ``unknown`` (other Speech Commands
words) and ``silence`` (background noise only). Every clip is 1 s at 16 kHz. A *speaker*
is an accent and a variant (``en-gb-scotland+f2``) with its own speed and pitch; each
rendition jitters both (+-10 % speed, +-8 pitch), as one person never says a word twice
the same way. Voice, variant, speed, pitch and placement of every clip are recorded in
the cache's ``manifest.csv``.

The split holds out whole speakers: the training pool has ``voices`` of them (2 by
default, of 10), validation and test the others - the homogeneous-data lesson, measured.

The background bank has coloured noises (white, pink, brown, blue), mains hum and
babble (overlapping phrases in other languages, also spoken by espeak-ng); its clip names
``KIND-i`` record each kind. ``noise=mixed`` mixes every spoken clip with a random kind
at a random SNR (:func:`~nooverfit.data.synthesize.mix_at_snr`, on the active region);
``noise=leaky`` ties the kind to the label, a deliberately shortcut-prone synthesis.

The data set's samples are the speech front end's normalized log-mel maps ``(40, 26)``
of the clips (:func:`~nooverfit.models.speech_features`, computed once per clip), so
training reads features and the synthesis remedy warps, stretches, shifts, masks and
adds noise to the maps (:mod:`~nooverfit.data.augment_spectra`) rather than to
waveforms; the networks' front end passes maps through and turns waveforms (the
shortcut probes stay waveforms) into maps.

Rendering runs ``workers`` espeak-ng processes in parallel and is cached under
``DATA_DIR/spoken/<key>/`` (``key`` hashes every generation parameter and espeak-ng's
version), so it happens once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nooverfit._io import UNREADABLE, atomic_write, atomic_write_text
from nooverfit.data import espeak
from nooverfit.data.audio_io import NoiseBank
from nooverfit.data.dataset import Dataset, register_dataset
from nooverfit.data.keywords import noise_clip
from nooverfit.data.shortcut import ShortcutProbes
from nooverfit.data.synthesize import mix_at_snr, parse_snr
from nooverfit.models import speech_features

log = logging.getLogger(__name__)

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN_WORDS = (
    "bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house", "marvin",
    "nine", "one", "seven", "sheila", "six", "three", "tree", "two", "wow", "zero",
)  # fmt: skip
CLASSES = (*KEYWORDS, "unknown", "silence")
ACCENTS = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
    "en-029", "en-us-nyc",
)  # fmt: skip
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
NOISES = ("white", "pink", "brown", "blue", "hum", "babble")
BABBLE = (
    ("de", "guten morgen, wie geht es dir heute"),
    ("fr", "bonjour tout le monde, il fait beau"),
    ("es", "buenos dias amigo, que tal la familia"),
    ("it", "grazie mille signora, a domani"),
    ("pl", "dzien dobry, prosze pana"),
    ("nl", "goedemiddag allemaal, tot ziens"),
    ("en-us", "the weather is lovely this afternoon"),
    ("en-gb", "would you like another cup of tea"),
)
RATE = 16000
VERSION = 2  # bump when rendering changes, so old caches are not reused


@dataclass(frozen=True)
class Speaker:
    """An espeak-ng voice: accent, variant, and its usual speed (wpm) and pitch (0-99)."""

    accent: str
    variant: str
    speed: int
    pitch: int

    @property
    def name(self) -> str:
        return f"{self.accent}+{self.variant}"


@dataclass(frozen=True)
class Rendition:
    """One spoken clip as recorded in the manifest."""

    word: str
    label: str
    voice: str
    variant: str
    speed: int
    pitch: int
    offset: int
    probe: bool


def choose_speakers(count: int, *, seed: int = 0) -> list[Speaker]:
    """``count`` distinct accent+variant pairs with their own speed and pitch, seeded."""
    pairs = [(a, v) for a in ACCENTS for v in VARIANTS]
    if not 3 <= count <= len(pairs):
        raise ValueError(f"speakers must be in 3..{len(pairs)}, got {count}")
    rng = np.random.default_rng((seed, 1))
    picks = rng.choice(len(pairs), size=count, replace=False)
    return [
        Speaker(*pairs[int(i)], int(rng.integers(140, 201)), int(rng.integers(30, 71)))
        for i in picks
    ]


def _place(x: np.ndarray, rng: np.random.Generator, length: int) -> tuple[np.ndarray, int]:
    """The word trimmed of espeak-ng's silence, scaled to a random peak in [0.3, 0.9] and
    put at a random offset of a ``length``-sample clip; also the offset."""
    loud = np.flatnonzero(np.abs(x) > 0.02 * max(float(np.abs(x).max()), 1e-9))
    word = x[loud[0] : loud[-1] + 1] if len(loud) else x
    if len(word) > length:  # a slow voice: keep the middle
        cut = (len(word) - length) // 2
        word = word[cut : cut + length]
    word = word / max(float(np.abs(word).max()), 1e-9) * rng.uniform(0.3, 0.9)
    offset = int(rng.integers(0, length - len(word) + 1))
    out = np.zeros(length, np.float32)
    out[offset : offset + len(word)] = word
    return out, offset


@dataclass(frozen=True)
class Rendered:
    """The cached renders: clean clips and their manifest, and the background bank."""

    clips: np.ndarray  # (N, T) float32, clean
    rows: tuple[Rendition, ...]
    noise: NoiseBank


def render(
    *, speakers: int = 6, reps: int = 15, probe_reps: int = 2, seed: int = 0, workers: int = 2
) -> Rendered:
    """Render every clip and the background bank (no cache; see :func:`cached_render`).

    Each speaker says each keyword ``reps`` times, ``reps`` unknown words and, for the
    shortcut probes, each keyword and an unknown word ``probe_reps`` more times.
    """
    rng = np.random.default_rng((seed, 2))
    plan: list[tuple[espeak.Utterance, str, str, Speaker, bool]] = []
    for sp in choose_speakers(speakers, seed=seed):
        for probe, n in ((False, reps), (True, probe_reps)):
            words = [(w, w) for w in KEYWORDS for _ in range(n)]
            words += [(str(rng.choice(UNKNOWN_WORDS)), "unknown") for _ in range(n)]
            for word, label in words:
                speed = round(sp.speed * rng.uniform(0.9, 1.1))
                pitch = int(np.clip(sp.pitch + rng.integers(-8, 9), 0, 99))
                plan.append((espeak.Utterance(word, sp.name, speed, pitch), label, "", sp, probe))
    babble = [
        espeak.Utterance(text, f"{lang}+{VARIANTS[int(rng.integers(len(VARIANTS)))]}", s, p)
        for lang, text in BABBLE
        for s, p in ((int(rng.integers(130, 200)), int(rng.integers(20, 80))),)
    ]
    audio = espeak.speak_all([p[0] for p in plan] + babble, rate=RATE, workers=workers)
    clips, rows = [], []
    for (u, label, _, sp, probe), x in zip(plan, audio, strict=False):
        clip, offset = _place(x, rng, RATE)
        clips.append(clip)
        rows.append(Rendition(u.text, label, sp.name, sp.variant, u.speed, u.pitch, offset, probe))
    noise = _noise_bank(audio[len(plan) :], rng)
    return Rendered(np.stack(clips), tuple(rows), noise)


def _noise_bank(
    babble: list[np.ndarray], rng: np.random.Generator, per_kind: int = 4
) -> NoiseBank:
    """``per_kind`` 2 s clips of each kind in :data:`NOISES`, unit RMS, named ``KIND-i``.

    Babble is five phrases of other languages, each at a random offset and level."""
    names, clips = [], []
    length = 2 * RATE
    for kind in NOISES:
        for i in range(per_kind):
            if kind == "babble":
                x = np.zeros(length)
                for _ in range(5):
                    phrase = babble[int(rng.integers(len(babble)))][:length]
                    at = int(rng.integers(0, length - len(phrase) + 1))
                    x[at : at + len(phrase)] += rng.uniform(0.5, 1.0) * phrase
                clip = (x / np.sqrt(np.mean(x**2))).astype(np.float32)
            else:
                clip = noise_clip(kind, rng, rate=RATE, length=length)
            names.append(f"{kind}-{i}")
            clips.append(clip)
    return NoiseBank(tuple(names), tuple(clips), RATE)


def cache_key(**params: Any) -> str:
    """A short hash of the generation parameters, the renderer's version and espeak-ng's."""
    text = json.dumps({**params, "version": VERSION, "espeak": espeak.version()}, sort_keys=True)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def cached_render(data_dir: str | Path, **params: Any) -> Rendered:
    """:func:`render` once, cached under ``data_dir/spoken/<key>/`` (clips + manifest)."""
    key = cache_key(**{k: v for k, v in params.items() if k != "workers"})
    folder = Path(data_dir) / "spoken" / key
    path = folder / "clips.npz"
    if path.is_file():
        try:
            with np.load(path) as z:
                rows = tuple(
                    Rendition(**{k: _cast(k, v) for k, v in r.items()})
                    for r in csv.DictReader(io.StringIO(str(z["manifest"])))
                )
                clips = z["clips"].astype(np.float32) / 32767.0
                names = tuple(str(n) for n in z["noise_names"])
                noise = NoiseBank(names, tuple(z["noise"]), RATE)
            return Rendered(clips, rows, noise)
        except (*UNREADABLE, zipfile.BadZipFile) as err:
            # a cache: one damaged (truncated, or another file saved there) is rendered
            # again, as a study's store trains a damaged run again; it raised a KeyError
            kind = type(err).__name__
            log.warning("%s is damaged (%s: %s); rendering it again", path, kind, err)
    log.info("rendering the spoken data set with espeak-ng into %s", folder)
    done = render(**params)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(Rendition.__dataclass_fields__))
    writer.writeheader()
    writer.writerows(asdict(r) for r in done.rows)
    pcm = np.round(np.clip(done.clips, -1, 1) * 32767).astype(np.int16)

    def save(tmp: Path) -> None:
        with tmp.open("wb") as f:
            np.savez_compressed(
                f,
                clips=pcm,
                manifest=np.array(buf.getvalue()),
                noise=np.stack(done.noise.clips),
                noise_names=np.array(done.noise.names),
            )

    atomic_write(path, save)
    atomic_write_text(folder / "manifest.csv", buf.getvalue())
    return Rendered(pcm.astype(np.float32) / 32767.0, done.rows, done.noise)


def _cast(key: str, value: str) -> Any:
    if key in ("speed", "pitch", "offset"):
        return int(value)
    if key == "probe":
        return value == "True"
    return value


def _options(arg: str | None) -> dict[str, Any]:
    """``voices=2,speakers=8,reps=15,noise=clean`` (any subset; ``leaky``/``mixed`` alone
    stand for ``noise=...``)."""
    opts: dict[str, Any] = {"voices": 2, "speakers": 10, "reps": 15, "noise": "clean"}
    for part in (arg or "").split(","):
        key, sep, value = part.strip().partition("=")
        if not key:
            continue
        if not sep and key in ("clean", "mixed", "leaky"):
            key, value = "noise", key
        if key not in opts or (key == "noise") != (value in ("clean", "mixed", "leaky")):
            raise ValueError(
                f"bad spoken option {part!r}; expected spoken:voices=N,speakers=N,reps=N,"
                "noise=clean|mixed|leaky"
            )
        try:
            opts[key] = value if key == "noise" else int(value)
        except ValueError:
            raise ValueError(f"spoken option {key} must be an integer, got {value!r}") from None
    if not 1 <= opts["voices"] <= opts["speakers"] - 2:
        raise ValueError(
            f"spoken needs 1 <= voices <= speakers - 2 (two held-out speakers at least), got "
            f"voices={opts['voices']}, speakers={opts['speakers']}"
        )
    if opts["reps"] < 1:
        raise ValueError(f"spoken reps must be >= 1, got {opts['reps']}")
    return opts


def _noise_of(bank: NoiseBank, kind: str, rng: np.random.Generator, length: int) -> np.ndarray:
    """A random ``length``-sample stretch of a random bank clip of ``kind``."""
    clips = [
        c for n, c in zip(bank.names, bank.clips, strict=True) if n.rpartition("-")[0] == kind
    ]
    clip = clips[int(rng.integers(len(clips)))]
    start = int(rng.integers(0, len(clip) - length + 1))
    return clip[start : start + length]


def load_spoken(
    arg: str | None = None,
    *,
    data_dir: str | None = None,
    noises: str = "white,pink,brown,babble",
    snr: str = "0:20",
    seed: int = 0,
    workers: int = 2,
    **_: Any,
) -> Dataset:
    """The spoken keyword data set (see the module docstring); ``groups`` are speakers.

    Args:
        arg: ``voices=N`` training speakers (default 2), ``speakers=N`` in all (default
            10: four validation and four test voices, enough to measure generalization
            to voices never heard), ``reps=N`` renditions of each word by each speaker
            (default 15), ``noise=clean|mixed|leaky`` (default clean), comma-separated.
        data_dir: where the renders are cached (default ``data``).
        noises: the background kinds the data set uses (silence clips, mixing), from
            :data:`NOISES` (default white,pink,brown,babble); the others are held out
            for the shortcut check.
        snr: SNR range ``LOW:HIGH`` in dB of ``mixed``/``leaky`` clips (default 0:20).
        seed: seed of the speakers, renditions and mixing.
        workers: espeak-ng processes run in parallel when rendering (default 2).

    Raises:
        ValueError: bad options, or espeak-ng is not installed.
    """
    opts = _options(arg)
    kinds = tuple(k.strip() for k in noises.split(",") if k.strip())
    if not kinds or any(k not in NOISES for k in kinds):
        raise ValueError(f"noises must be a comma list of {NOISES}, got {noises!r}")
    lo, hi = parse_snr(snr)
    done = cached_render(
        data_dir or "data",
        speakers=opts["speakers"],
        reps=opts["reps"],
        probe_reps=2,
        seed=seed,
        workers=workers,
    )
    rng = np.random.default_rng((seed, 5))
    leaky, silence = opts["noise"] == "leaky", CLASSES.index("silence")
    xs, ys, groups = [], [], []
    for clip, row in zip(done.clips, done.rows, strict=True):
        if row.probe:
            continue
        label = CLASSES.index(row.label)
        if opts["noise"] != "clean":
            kind = kinds[label % len(kinds)] if leaky else kinds[int(rng.integers(len(kinds)))]
            noise = _noise_of(done.noise, kind, rng, len(clip))
            clip = mix_at_snr(clip, noise, float(rng.uniform(lo, hi)))
        xs.append(clip)
        ys.append(label)
        groups.append(row.voice)
    for voice in dict.fromkeys(groups):  # noise only, "recorded" where each speaker was
        for _rep in range(opts["reps"]):
            kind = kinds[-1] if leaky else kinds[int(rng.integers(len(kinds)))]
            # RMS 0.005-0.3, log-uniform: the levels the 0-20 dB mixes put noise at
            level = 10 ** rng.uniform(np.log10(0.005), np.log10(0.3))
            xs.append(level * _noise_of(done.noise, kind, rng, RATE))
            ys.append(silence)
            groups.append(voice)
    used = [n for n in done.noise.names if n.rpartition("-")[0] in kinds]
    others = [n for n in done.noise.names if n not in used]
    probe = [
        (c, CLASSES.index(r.label)) for c, r in zip(done.clips, done.rows, strict=True) if r.probe
    ]
    probes = None
    if others:
        probes = ShortcutProbes(
            np.stack([c for c, _ in probe]),
            np.array([y for _, y in probe], np.int64),
            done.noise.subset(used),
            done.noise.subset(others),
            silence,
        )
    with torch.no_grad():  # features once per clip: training reads maps, not waveforms
        maps = speech_features(torch.as_tensor(np.stack(xs).astype(np.float32))).numpy()
    return Dataset(
        "spoken" + (f":{arg}" if arg else ""),
        maps,
        np.array(ys, np.int64),
        CLASSES,
        "audio",
        np.array(groups),
        train_groups=opts["voices"],
        noise=done.noise.subset(used),
        probes=probes,
    )


register_dataset(
    "spoken",
    load_spoken,
    description="espeak-ng speakers say the 10 Speech Commands keywords (spoken:voices=2)",
)
