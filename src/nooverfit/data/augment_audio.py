"""Batched, seeded audio augmentation: time shift, gain and background noise at a random SNR.

Waveforms are ``(B, T)`` (or ``(B, 1, T)``; the shape is kept). One ``strength`` knob in
[0, 1] per sample scales every effect, and 0 leaves a sample untouched:

- time shift by up to ``shift * strength`` of the clip, zero-filled (not rolled, so the
  end of a keyword never wraps around to its start);
- gain of up to ``+- gain_db * strength`` decibels;
- with probability ``strength``, background noise at an SNR drawn uniformly from
  ``snr_db`` (whole-clip power; :func:`nooverfit.data.synthesize.mix_at_snr` is the exact,
  active-region version used to build data sets).

Speech augmentation of this kind (shift, volume, mixed-in background noise) is the
recipe of the Speech Commands baseline (Warden, "Speech Commands", 2018).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


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
) -> torch.Tensor:
    """Add background noise to a fraction ``strength`` of the clips at a random SNR.

    ``out = x + a * n`` with ``a`` such that ``10 * log10(P(x) / P(a * n)) = snr``, powers
    taken over the whole clip; silent clips are left alone.

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
    p_x = x.pow(2).mean(1)
    p_n = n.pow(2).mean(1)
    a = torch.sqrt(p_x / (p_n.clamp_min(1e-20) * torch.pow(10.0, snr / 10)))
    a = torch.where(apply & (p_x > 0) & (p_n > 0), a, torch.zeros_like(a))
    return x + a.view(b, 1) * n


@dataclass(frozen=True, eq=False)
class AudioAugment:
    """Shift, then gain, then background noise, as one batched :data:`Augmenter`.

    Attributes:
        shift: maximum time shift at strength 1, fraction of the clip (default 0.1).
        gain_db: maximum gain change at strength 1, dB (default 6).
        snr_db: background-noise SNR range, dB (default 0 to 20).
        noise: noise bank ``(M, L)`` (default white noise); e.g.
            ``torch.as_tensor(NoiseBank.from_folder(...).stack(T))``.
    """

    shift: float = 0.1
    gain_db: float = 6.0
    snr_db: tuple[float, float] = (0.0, 20.0)
    noise: torch.Tensor | None = None

    def __call__(
        self, x: torch.Tensor, strength: torch.Tensor, gen: torch.Generator
    ) -> torch.Tensor:
        shape = x.shape
        flat = x.reshape(shape[0], -1)  # (B, T); (B, 1, T) inputs keep their shape
        flat = time_shift(flat, strength, gen, shift=self.shift)
        flat = random_gain(flat, strength, gen, gain_db=self.gain_db)
        flat = add_noise(flat, strength, gen, noise=self.noise, snr_db=self.snr_db)
        out = flat.reshape(shape)
        return torch.where((strength > 0).view(-1, *([1] * (x.ndim - 1))), out, x)


#: The default audio augmenter that ``augmenter("audio")`` returns.
audio_augment = AudioAugment()
