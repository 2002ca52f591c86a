"""Batched, seeded audio augmentation: time shift, speed, pitch, gain and background noise.

Waveforms are ``(B, T)`` (or ``(B, 1, T)``; the shape is kept). One ``strength`` knob in
[0, 1] per sample scales every effect, and 0 leaves a sample untouched:

- time shift by up to ``shift * strength`` of the clip, zero-filled (not rolled, so the
  end of a keyword never wraps around to its start);
- speed perturbation: the clip resampled by a factor within ``1 +- speed * strength``,
  which changes tempo and pitch together (Ko et al., "Audio Augmentation for Speech
  Recognition", Interspeech 2015);
- pitch shift by up to ``+- pitch * strength`` semitones, tempo kept;
- gain of up to ``+- gain_db * strength`` decibels;
- with probability ``strength``, background noise at an SNR drawn uniformly from
  ``snr_db``, over the whole clip or, with ``active``, over where the clip is active as
  :func:`nooverfit.data.synthesize.mix_at_snr` measures it.

Speed and pitch are off in the default :data:`audio_augment`; :func:`synthesis_augment`
turns them on for spoken data sets that carry a noise bank, and augments data sets of
precomputed log-mel maps there instead (:mod:`nooverfit.data.augment_spectra`).

Speech augmentation of this kind (shift, volume, mixed-in background noise) is the
recipe of the Speech Commands baseline (Warden, "Speech Commands", 2018).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from nooverfit.data.audio_io import NoiseBank
    from nooverfit.data.augment_spectra import SpectralAugment


def time_shift(
    x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator, *, shift: float = 0.1
) -> torch.Tensor:
    """Shift each clip by up to ``shift * strength * T`` samples either way, zero-filled.

    Args:
        x: waveforms ``(B, T)``.
        strength: per-sample strength in [0, 1], ``(B,)``.
        gen: random generator on ``x.device``.
        shift: maximum shift at strength 1, fraction of the clip (default 0.1).
    """
    b, t = x.shape
    u = torch.rand(b, generator=gen, device=x.device) * 2 - 1
    lag = torch.round(u * shift * strength * t).long()  # (B,) samples; > 0 moves later
    src = torch.arange(t, device=x.device).view(1, t) - lag.view(b, 1)  # (B, T)
    valid = (src >= 0) & (src < t)
    out = torch.gather(x, 1, src.clamp(0, t - 1))
    return torch.where(valid, out, torch.zeros_like(out))


def speed_perturb(
    x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator, *, speed: float = 0.15
) -> torch.Tensor:
    """Resample each clip by ``r ~ 1 + U(-1, 1) * speed * strength`` around its energy
    centroid (linear interpolation, zero outside): ``out[t] = x[c + (t - c) * r]``.

    Args:
        x: waveforms ``(B, T)``.
        strength: per-sample strength in [0, 1], ``(B,)``.
        gen: random generator on ``x.device``.
        speed: maximum relative rate change at strength 1 (default 0.15).
    """
    b, t = x.shape
    u = torch.rand(b, generator=gen, device=x.device) * 2 - 1
    rate = (1 + u * speed * strength).view(b, 1)
    pos = torch.arange(t, device=x.device, dtype=x.dtype).view(1, t)
    energy = x.pow(2)
    centre = (energy * pos).sum(1, keepdim=True) / energy.sum(1, keepdim=True).clamp_min(1e-12)
    src = centre + (pos - centre) * rate  # (B, T) where each output sample reads
    lo = src.floor()
    w = src - lo
    lo_i, hi_i = lo.long(), lo.long() + 1

    def take(i: torch.Tensor) -> torch.Tensor:
        inside = (i >= 0) & (i < t)
        return torch.where(inside, torch.gather(x, 1, i.clamp(0, t - 1)), torch.zeros_like(x))

    return (1 - w) * take(lo_i) + w * take(hi_i)


def pitch_shift(
    x: torch.Tensor,
    strength: torch.Tensor,
    gen: torch.Generator,
    *,
    semitones: float = 3.0,
    n_fft: int = 256,
) -> torch.Tensor:
    """Shift each clip's pitch by ``U(-1, 1) * semitones * strength`` semitones, keeping its
    tempo, with a phase vocoder: the short-time spectrum's frequency axis is scaled by
    ``f = 2 ** (s / 12)`` (bin ``k`` takes bin ``k / f``'s magnitude, linearly
    interpolated) and each bin's phase advances ``f`` times as fast as the source bin's
    (Laroche & Dolson, "New phase-vocoder techniques for pitch-shifting", 1999).
    """
    b, t = x.shape
    u = torch.rand(b, generator=gen, device=x.device) * 2 - 1
    factor = torch.pow(2.0, u * semitones * strength / 12)  # (B,)
    window = torch.hann_window(n_fft, device=x.device, dtype=x.dtype)
    hop = n_fft // 4
    spec = torch.stft(x, n_fft, hop, window=window, return_complex=True)  # (B, F, M)
    f = spec.shape[1]
    mag, phase = spec.abs(), spec.angle()
    omega = 2 * torch.pi * hop / n_fft * torch.arange(f, device=x.device, dtype=x.dtype)
    dev = phase.diff(dim=2) - omega.view(1, f, 1)
    advance = omega.view(1, f, 1) + dev - 2 * torch.pi * torch.round(dev / (2 * torch.pi))
    src = torch.arange(f, device=x.device, dtype=x.dtype).view(1, f) / factor.view(b, 1)
    lo = src.floor().long().clamp(0, f - 1)  # (B, F)
    hi = (lo + 1).clamp(max=f - 1)
    w = (src - src.floor()).unsqueeze(2)
    inside = (src < f - 1).unsqueeze(2)

    def take(v: torch.Tensor) -> torch.Tensor:  # v (B, F, m) read at the source bins
        m = v.shape[2]
        at = lambda i: torch.gather(v, 1, i.unsqueeze(2).expand(b, f, m))  # noqa: E731
        return torch.where(inside, (1 - w) * at(lo) + w * at(hi), torch.zeros_like(v[:, :1]))

    new_mag = take(mag)
    steps = take(advance) * factor.view(b, 1, 1)  # (B, F, M - 1)
    start = torch.gather(phase[:, :, :1], 1, lo.unsqueeze(2))
    new_phase = torch.cat([start, start + steps.cumsum(2)], 2)
    out = torch.istft(torch.polar(new_mag, new_phase), n_fft, hop, window=window, length=t)
    return torch.where((strength > 0).view(b, 1), out, x)


def active_power(
    x: torch.Tensor, *, frame: int = 256, threshold_db: float = -30.0
) -> torch.Tensor:
    """Mask ``(B, T)`` of where each clip is active: frames within ``threshold_db`` of its
    loudest frame (the batched :func:`~nooverfit.data.synthesize.active_region`)."""
    b, t = x.shape
    n = -(-t // frame)
    padded = torch.nn.functional.pad(x, (0, n * frame - t))
    energy = padded.reshape(b, n, frame).pow(2).mean(2)  # (B, frames)
    peak = energy.max(1, keepdim=True).values
    on = (energy >= peak * 10 ** (threshold_db / 10)) & (peak > 0)
    return on.repeat_interleave(frame, 1)[:, :t]


def random_gain(
    x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator, *, gain_db: float = 6.0
) -> torch.Tensor:
    """Scale each clip by ``10 ** (g / 20)``, ``g ~ U(-gain_db, gain_db) * strength``."""
    u = torch.rand(x.shape[0], generator=gen, device=x.device) * 2 - 1
    g = u * gain_db * strength
    return x * torch.pow(10.0, g / 20).view(-1, 1)


def add_noise(
    x: torch.Tensor,
    strength: torch.Tensor,
    gen: torch.Generator,
    *,
    noise: torch.Tensor | None = None,
    snr_db: tuple[float, float] = (0.0, 20.0),
    active: bool = False,
) -> torch.Tensor:
    """Add background noise to a fraction ``strength`` of the clips at a random SNR.

    ``out = x + a * n`` with ``a`` such that ``10 * log10(P(x) / P(a * n)) = snr``, powers
    taken over the whole clip, or with ``active`` over the samples where the clip is
    active (:func:`active_power`); silent clips are left alone.

    Args:
        x: waveforms ``(B, T)``.
        strength: per-sample probability of adding noise, ``(B,)``.
        gen: random generator on ``x.device``.
        noise: a bank of noise clips ``(M, L)`` (any ``L``; looped when shorter than
            ``T``, cropped at a random offset otherwise); default white Gaussian noise.
        snr_db: SNR range in dB (default 0 to 20).
    """
    lo, hi = snr_db
    if lo > hi:
        raise ValueError(f"snr_db must be (low, high) with low <= high, got {snr_db}")
    b, t = x.shape
    dev = x.device
    if noise is None:
        n = torch.randn((b, t), generator=gen, device=dev)
    else:
        bank = noise.to(dev, x.dtype).reshape(noise.shape[0], -1)  # (M, L)
        pick = torch.randint(0, bank.shape[0], (b,), generator=gen, device=dev)
        start = torch.randint(0, bank.shape[1], (b,), generator=gen, device=dev)
        idx = (start.view(b, 1) + torch.arange(t, device=dev).view(1, t)) % bank.shape[1]
        n = bank[pick.view(b, 1), idx]  # (B, T)
    snr = lo + (hi - lo) * torch.rand(b, generator=gen, device=dev)
    apply = torch.rand(b, generator=gen, device=dev) < strength
    if active:
        mask = active_power(x).to(x.dtype)
        count = mask.sum(1).clamp_min(1)
        p_x, p_n = (x.pow(2) * mask).sum(1) / count, (n.pow(2) * mask).sum(1) / count
    else:
        p_x, p_n = x.pow(2).mean(1), n.pow(2).mean(1)
    a = torch.sqrt(p_x / (p_n.clamp_min(1e-20) * torch.pow(10.0, snr / 10)))
    a = torch.where(apply & (p_x > 0) & (p_n > 0), a, torch.zeros_like(a))
    return x + a.view(b, 1) * n


@dataclass(frozen=True, eq=False)
class AudioAugment:
    """Shift, speed, pitch, gain, then background noise, as one batched :data:`Augmenter`.

    Attributes:
        shift: maximum time shift at strength 1, fraction of the clip (default 0.1).
        gain_db: maximum gain change at strength 1, dB (default 6).
        snr_db: background-noise SNR range, dB (default 0 to 20).
        noise: noise bank ``(M, L)`` (default white noise); e.g.
            ``torch.as_tensor(NoiseBank.from_folder(...).stack(T))``.
        speed: maximum relative speed change at strength 1 (default 0: off).
        pitch: maximum pitch shift at strength 1, semitones (default 0: off).
        active: SNR measured over the active region rather than the whole clip.
    """

    shift: float = 0.1
    gain_db: float = 6.0
    snr_db: tuple[float, float] = (0.0, 20.0)
    noise: torch.Tensor | None = None
    speed: float = 0.0
    pitch: float = 0.0
    active: bool = False

    def __call__(
        self, x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator
    ) -> torch.Tensor:
        shape = x.shape
        flat = x.reshape(shape[0], -1)  # (B, T); (B, 1, T) inputs keep their shape
        flat = time_shift(flat, strength, gen, shift=self.shift)
        if self.speed > 0:
            flat = speed_perturb(flat, strength, gen, speed=self.speed)
        if self.pitch > 0:
            flat = pitch_shift(flat, strength, gen, semitones=self.pitch)
        flat = random_gain(flat, strength, gen, gain_db=self.gain_db)
        flat = add_noise(
            flat, strength, gen, noise=self.noise, snr_db=self.snr_db, active=self.active
        )
        out = flat.reshape(shape)
        return torch.where((strength > 0).view(-1, *([1] * (x.ndim - 1))), out, x)


#: The default audio augmenter that ``augmenter("audio")`` returns.
audio_augment = AudioAugment()


@dataclass(frozen=True, eq=False)
class SynthesisAugment:
    """The synthesis remedy of a data set with a noise bank: waveforms ``(B, T)`` get
    :class:`AudioAugment` (shift, speed, pitch, gain, the bank's noises), precomputed
    log-mel maps ``(B, bands, frames)`` the voice-like
    :class:`~nooverfit.data.augment_spectra.SpectralAugment` with the bank's maps."""

    noise: NoiseBank

    @cached_property
    def waves(self) -> AudioAugment:
        bank = torch.as_tensor(self.noise.stack(max(len(c) for c in self.noise.clips)))
        return AudioAugment(noise=bank, speed=0.15, pitch=3.0, active=True)

    @cached_property
    def maps(self) -> SpectralAugment:
        from nooverfit.data.augment_spectra import SpectralAugment, noise_maps

        return SpectralAugment(bank=noise_maps(self.noise))

    def __call__(
        self, x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator
    ) -> torch.Tensor:
        if x.ndim == 3 and x.shape[1] > 1:  # (B, bands, frames), not (B, 1, T)
            return self.maps(x, strength, gen)
        return self.waves(x, strength, gen)


def synthesis_augment(noise: NoiseBank) -> SynthesisAugment:
    """The synthesis remedy for spoken data with a noise bank, each effect scaled by the
    strength the augment remedy sweeps. On waveforms: time shift (10 %), speed (+-15 %),
    pitch (+-3 semitones), gain (+-6 dB) and the bank's noises at 0-20 dB over the active
    region. On log-mel maps (``spoken``): vocal-tract-length warp (+-30 %), speed
    (+-25 %), shift (10 %), the bank's noises at 10-30 dB on a quarter of the clips and
    SpecAugment masks
    (:class:`~nooverfit.data.augment_spectra.SpectralAugment`)."""
    return SynthesisAugment(noise)


#: Epochs of a run with the synthesis remedy on log-mel maps, as a multiple of the
#: baseline's. Each epoch shows new voices (warped, sped up, noisy, masked), so such a run
#: learns slowly and keeps improving long after the baseline has overfit: on ``spoken``
#: (2 training voices, 92 baseline epochs, 3 seeds) augment=1's validation accuracy on
#: voices never heard was still rising at 200-270 of 300 epochs, and its held-out-voice
#: test accuracy at 300 epochs was 77.2, 85.1, 76.7 % against 70.8, 81.7, 66.8 % at 92.
SYNTHESIS_EPOCHS = 3.0


def augment_epochs(kind: str, noise: NoiseBank | None) -> float:
    """How many times the baseline's epochs the augment remedy of a study trains on a data
    set of ``kind`` with background-noise bank ``noise`` (``Dataset.noise``):
    :data:`SYNTHESIS_EPOCHS` for the synthesis remedy (audio with a bank), else 1."""
    return SYNTHESIS_EPOCHS if kind == "audio" and noise is not None else 1.0
