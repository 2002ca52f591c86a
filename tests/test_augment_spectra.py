import numpy as np
import pytest
import torch

from nooverfit.data.augment_spectra import (
    SpectralAugment,
    add_noise_power,
    band_centres,
    mask,
    to_power,
    warp_bands,
    warp_frames,
)
from nooverfit.models import log_normalize, mel_filters, mel_power, speech_features

RATE = 16000


def _tone(hz: float, start: int = 0, stop: int = RATE) -> torch.Tensor:
    x = torch.zeros(RATE)
    t = torch.arange(stop - start) / RATE
    x[start:stop] = torch.sin(2 * torch.pi * hz * t)
    return x


def test_band_centres_are_the_mel_filters_peaks():
    f = mel_filters(512, 40, RATE)
    bins = torch.linspace(0, RATE / 2, 257)
    peaks = bins[f.argmax(1)]
    assert torch.allclose(band_centres(40), peaks, atol=RATE / 512)  # within one FFT bin


def test_warp_bands_moves_a_tone_as_a_higher_voice_would():
    # the 500 Hz tone's map warped by 1.5 peaks in the band of a 750 Hz tone's map
    low, high = mel_power(torch.stack([_tone(500), _tone(750)]))
    warped = warp_bands(low.unsqueeze(0), torch.tensor([1.5]))[0]
    assert int(warped.sum(1).argmax()) == int(high.sum(1).argmax())
    same = warp_bands(low.unsqueeze(0), torch.ones(1))[0]
    assert torch.allclose(same, low, rtol=1e-3, atol=1e-6 * float(low.max()))


def test_warp_frames_shifts_and_stretches_around_the_centroid():
    x = mel_power(_tone(1000, 6400, 9600).view(1, -1))  # frames ~10-15 of 26
    shifted = warp_frames(x, torch.ones(1), torch.tensor([3.0]))
    assert torch.allclose(shifted[..., 3:], x[..., :-3], rtol=1e-5)
    assert torch.all(shifted[..., :3] == 0)
    energy = lambda p: p[0].sum(0)  # noqa: E731
    slow = warp_frames(x, torch.tensor([0.5]), torch.zeros(1))  # twice as long
    assert int((energy(slow) > 0.5 * energy(x).max()).sum()) > 1.7 * int(
        (energy(x) > 0.5 * energy(x).max()).sum()
    )


def test_add_noise_power_sets_the_snr_over_active_frames():
    x = mel_power(_tone(800, 4000, 8000).view(1, -1))
    noise = mel_power(torch.randn(2, 2 * RATE, generator=torch.Generator().manual_seed(0)))
    gen = torch.Generator().manual_seed(1)
    out = add_noise_power(x, torch.tensor([True]), gen, noise=noise, snr_db=(10.0, 10.0))
    e, n = x.sum(1), (out - x).sum(1)
    active = e >= e.max() * 1e-3
    snr = 10 * torch.log10(e[active].mean() / n[active].mean())
    assert float(snr) == pytest.approx(10.0, abs=1e-3)
    off = add_noise_power(x, torch.tensor([False]), gen, noise=noise, snr_db=(10.0, 10.0))
    assert torch.equal(off, x)


def test_mask_silences_at_most_the_widest_run():
    p = torch.ones(64, 40, 26)
    gen = torch.Generator().manual_seed(0)
    bands = mask(p, torch.full((64,), 5.0), gen, dim=1)
    zeroed = (bands[:, :, 0] == 0).sum(1)
    assert zeroed.max() <= 5 and zeroed.min() >= 0 and zeroed.float().mean() > 1
    assert torch.all((bands == 0).all(2) == (bands[:, :, :1] == 0).squeeze(2))  # whole bands
    frames = mask(p, torch.zeros(64), gen, dim=2)
    assert torch.equal(frames, p)


def test_to_power_inverts_the_normalized_log_of_a_clip_with_silence():
    x = torch.stack([_tone(600, 3000, 9000), 0.2 * _tone(1500, 8000, 12000)])
    power = mel_power(x)
    relative = to_power(speech_features(x))
    expected = power / power.amax(dim=(1, 2), keepdim=True)
    assert torch.allclose(relative, expected, atol=1e-5)
    assert torch.allclose(log_normalize(relative), speech_features(x), atol=1e-3)


def test_spectral_augment_is_seeded_and_strength_zero_is_identity():
    x = speech_features(torch.randn(8, RATE, generator=torch.Generator().manual_seed(2)))
    bank = mel_power(torch.randn(3, 2 * RATE, generator=torch.Generator().manual_seed(3)))
    aug = SpectralAugment(bank=bank)
    strength = torch.tensor([0.0, 1.0] * 4)
    a = aug(x, strength, torch.Generator().manual_seed(7))
    b = aug(x, strength, torch.Generator().manual_seed(7))
    assert torch.equal(a, b) and a.shape == x.shape
    # augmented maps are normalized like the front end's own
    assert torch.allclose(a.mean(dim=(1, 2)), torch.zeros(8), atol=1e-4)
    assert torch.allclose(a.std(dim=(1, 2)), torch.ones(8), atol=1e-4)
    assert torch.equal(a[0::2], x[0::2]) and not torch.allclose(a[1::2], x[1::2])
    c = aug(x, strength, torch.Generator().manual_seed(8))
    assert not torch.equal(a, c)
    assert np.isfinite(a.numpy()).all()
