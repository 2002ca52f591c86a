"""Batched, seeded augmentation of mel power maps: the voice-like synthesis remedy.

A data set that holds precomputed normalized log-mel maps ``(B, bands, frames)``
(``spoken``; :func:`nooverfit.models.speech_features`) is augmented there, not on
waveforms: every effect is a gather or a sum over a ~2,000-value map instead of an STFT
or a phase vocoder over 16,000 samples, so augmenting a batch costs less than the
network's own step. :class:`SpectralAugment` turns the maps back into relative mel power
(:func:`to_power`), where the effects keep their waveform meaning (powers of independent
sounds add), and normalizes the result again:

- vocal-tract-length / pitch warp: frequency ``f`` reads ``f / a``, ``a`` within
  ``(1 + warp) ** +-strength``, which moves formants and harmonics together as a
  longer or shorter vocal tract and a lower or higher voice do (VTLP: Jaitly & Hinton,
  "Vocal Tract Length Perturbation improves speech recognition", ICML workshop 2013);
- speed: the frames resampled by ``(1 + speed) ** +-strength`` around the map's energy
  centroid (tempo only: the pitch part of a speed change is the warp's);
- time shift by up to ``shift * strength`` of the clip, silence-filled;
- background noise from a bank of mel power maps, added (powers of independent sounds
  add) at an SNR drawn from ``snr_db`` over the active frames, with probability
  ``noise * strength``;
- SpecAugment masks (Park et al., Interspeech 2019): up to ``band_mask * strength``
  adjacent bands and ``frame_mask * strength`` adjacent frames set to silence.

The maps are normalized per utterance (:func:`~nooverfit.models.log_normalize`), so gain
is not an effect here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from nooverfit.data.audio_io import NoiseBank

#: The log floor of the speech front end, relative to each map's loudest cell.
FLOOR = 1e-4


def _uniform(b: int, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    """``(B,)`` draws from U(-1, 1)."""
    return torch.rand(b, generator=gen, device=device) * 2 - 1


def band_centres(bands: int, rate: int = 16000) -> torch.Tensor:
    """Centre frequencies (Hz) of :func:`~nooverfit.models.mel_filters`' bands."""
    top = 2595 * math.log10(1 + rate / 2 / 700)
    mel = torch.linspace(0, top, bands + 2, dtype=torch.float64)[1:-1]
    return (700 * (10 ** (mel / 2595) - 1)).float()


def warp_bands(p: torch.Tensor, factor: torch.Tensor, *, rate: int = 16000) -> torch.Tensor:
    """Stretch each map's frequency axis by ``factor`` ``(B,)``: band ``b`` takes the power
    at ``centre_b / factor``, linearly interpolated between band centres on the mel scale
    (silence above the top band; the bottom band below it)."""
    b, f, t = p.shape
    top = 2595 * math.log10(1 + rate / 2 / 700)
    source = band_centres(f, rate).to(p.device).view(1, f) / factor.view(b, 1)
    pos = (2595 * torch.log10(1 + source / 700) / (top / (f + 1)) - 1).clamp_min(0)  # (B, F)
    lo = pos.floor().long().clamp(0, f - 1)
    hi = (lo + 1).clamp(max=f - 1)
    w = (pos - pos.floor()).unsqueeze(2)

    def at(i: torch.Tensor) -> torch.Tensor:
        return torch.gather(p, 1, i.unsqueeze(2).expand(b, f, t))

    out = (1 - w) * at(lo) + w * at(hi)
    return torch.where((pos <= f - 1).unsqueeze(2), out, torch.zeros_like(out))


def warp_frames(p: torch.Tensor, rate: torch.Tensor, lag: torch.Tensor) -> torch.Tensor:
    """Resample each map's frames by ``rate`` ``(B,)`` around its energy centroid and
    delay it by ``lag`` frames ``(B,)``: ``out[t] = p[c + (t - c) * rate - lag]``,
    linearly interpolated, silence outside."""
    b, f, t = p.shape
    pos = torch.arange(t, device=p.device, dtype=p.dtype).view(1, t)
    energy = p.sum(1)  # (B, T)
    centre = (energy * pos).sum(1, keepdim=True) / energy.sum(1, keepdim=True).clamp_min(1e-20)
    src = centre + (pos - centre) * rate.view(b, 1) - lag.view(b, 1)
    lo = src.floor()
    w = (src - lo).unsqueeze(1)

    def at(i: torch.Tensor) -> torch.Tensor:
        inside = ((i >= 0) & (i < t)).unsqueeze(1)
        v = torch.gather(p, 2, i.clamp(0, t - 1).unsqueeze(1).expand(b, f, t))
        return torch.where(inside, v, torch.zeros_like(v))

    return (1 - w) * at(lo.long()) + w * at(lo.long() + 1)


def add_noise_power(
    p: torch.Tensor,
    apply: torch.Tensor,
    gen: torch.Generator,
    *,
    noise: torch.Tensor,
    snr_db: tuple[float, float],
    threshold_db: float = -30.0,
) -> torch.Tensor:
    """Add a random stretch of a random noise map of ``noise`` ``(M, F, L)`` (``L`` at
    least the maps' frames) to the maps where ``apply`` ``(B,)`` holds, at an SNR drawn
    uniformly from ``snr_db``, powers taken over the active frames (within
    ``threshold_db`` of the loudest, as :func:`~nooverfit.data.synthesize.mix_at_snr`)."""
    b, f, t = p.shape
    dev = p.device
    bank = noise.to(dev, p.dtype)
    pick = torch.randint(0, bank.shape[0], (b,), generator=gen, device=dev)
    start = torch.randint(0, bank.shape[2] - t + 1, (b,), generator=gen, device=dev)
    frames = start.view(b, 1) + torch.arange(t, device=dev).view(1, t)  # (B, T)
    n = bank[pick.view(b, 1, 1), torch.arange(f, device=dev).view(1, f, 1), frames.view(b, 1, t)]
    energy = p.sum(1)
    active = (energy >= energy.amax(1, keepdim=True) * 10 ** (threshold_db / 10)).to(p.dtype)
    count = active.sum(1).clamp_min(1)
    p_x, p_n = (energy * active).sum(1) / count, (n.sum(1) * active).sum(1) / count
    lo, hi = snr_db
    snr = lo + (hi - lo) * torch.rand(b, generator=gen, device=dev)
    a = p_x / (p_n.clamp_min(1e-20) * torch.pow(10.0, snr / 10))
    a = torch.where(apply & (p_x > 0) & (p_n > 0), a, torch.zeros_like(a))
    return p + a.view(b, 1, 1) * n


def mask(p: torch.Tensor, widest: torch.Tensor, gen: torch.Generator, *, dim: int) -> torch.Tensor:
    """Silence a run of up to ``widest`` ``(B,)`` adjacent bands (``dim=1``) or frames
    (``dim=2``) of each map, at a random place."""
    b, size = p.shape[0], p.shape[dim]
    width = torch.floor(torch.rand(b, generator=gen, device=p.device) * (widest + 1))
    start = torch.floor(torch.rand(b, generator=gen, device=p.device) * (size - width + 1))
    at = torch.arange(size, device=p.device).view(1, size)
    hit = (at >= start.view(b, 1)) & (at < (start + width).view(b, 1))  # (B, size)
    return p.masked_fill(hit.unsqueeze(3 - dim), 0.0)


def to_power(maps: torch.Tensor, *, floor: float = FLOOR) -> torch.Tensor:
    """Relative mel power ``P / max P`` ``(B, F, frames)`` of normalized log-mel maps, the
    inverse of :func:`~nooverfit.models.log_normalize` up to that scale.

    A map is ``(log(P + floor * max P) - m) / s``; its range is ``log((1 + floor) / floor)
    / s`` when some cell is silent (``P = 0``, as around every clean spoken word), which
    gives ``s`` back, and with it ``P``. Where no cell is silent (a noisy clip) the
    dynamic range comes out wider than it was, which only changes how loud the added
    noise and the masks are next to the clip.
    """
    top = maps.amax(dim=(1, 2), keepdim=True)
    span = (top - maps.amin(dim=(1, 2), keepdim=True)).clamp_min(1e-6)
    scale = math.log((1 + floor) / floor) / span
    ratio = torch.exp(scale * (maps - top))  # (P + floor * max P) / ((1 + floor) * max P)
    return (ratio * (1 + floor) - floor).clamp_min(0)


def noise_maps(noise: NoiseBank) -> torch.Tensor:
    """The bank's clips as mel power maps ``(M, bands, L)`` (:func:`~nooverfit.models.mel_power`),
    each clip looped or cropped to the longest one's length."""
    from nooverfit.models import mel_power

    return mel_power(torch.as_tensor(noise.stack(max(len(c) for c in noise.clips))))


@dataclass(frozen=True, eq=False)
class SpectralAugment:
    """Warp, speed, shift, noise, then masks, as one batched augmenter of normalized
    log-mel maps (in relative power, :func:`to_power`; normalized again after).

    Attributes:
        warp: frequency warp at strength 1, ``a`` within ``(1 + warp) ** +-1`` (default 0.3:
            about the ratio of a woman's formants to a man's and then some).
        speed: tempo change at strength 1, within ``(1 + speed) ** +-1`` (default 0.25).
        shift: maximum time shift at strength 1, fraction of the clip (default 0.1).
        noise: probability of background noise at strength 1 (default 0.25; 0 or no
            ``bank``: none).
        snr_db: background-noise SNR range, dB (default 10 to 30).
        band_mask: widest band mask at strength 1, in bands (default 5).
        frame_mask: widest frame mask at strength 1, in frames (default 6).
        bank: noise mel power maps ``(M, bands, L)`` (:func:`noise_maps`).
        rate: sample rate the maps' mel bands were made at (default 16,000).
    """

    warp: float = 0.3
    speed: float = 0.25
    shift: float = 0.1
    noise: float = 0.25
    snr_db: tuple[float, float] = (10.0, 30.0)
    band_mask: int = 5
    frame_mask: int = 6
    bank: torch.Tensor | None = None
    rate: int = 16000

    def __call__(
        self, x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator
    ) -> torch.Tensor:
        from nooverfit.models import log_normalize

        b, _, t = x.shape
        dev, s = x.device, strength.to(x.dtype)
        p = to_power(x)
        if self.warp > 0:
            factor = torch.exp(_uniform(b, gen, dev) * math.log1p(self.warp) * s)
            p = warp_bands(p, factor, rate=self.rate)
        rate = torch.exp(_uniform(b, gen, dev) * math.log1p(self.speed) * s)
        lag = _uniform(b, gen, dev) * self.shift * s * t
        p = warp_frames(p, rate, lag)
        if self.bank is not None and self.noise > 0:
            apply = torch.rand(b, generator=gen, device=dev) < self.noise * s
            p = add_noise_power(p, apply, gen, noise=self.bank, snr_db=self.snr_db)
        p = mask(p, self.band_mask * s, gen, dim=1)
        p = mask(p, self.frame_mask * s, gen, dim=2)
        return torch.where((strength > 0).view(b, 1, 1), log_normalize(p, floor=FLOOR), x)
