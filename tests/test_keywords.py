import numpy as np
import pytest
import torch
from torch import nn

from _optional import needs
from nooverfit.config import RunConfig
from nooverfit.data import load_dataset, make_split, prepare
from nooverfit.data.audio_io import write_wav
from nooverfit.data.augment import augmenter
from nooverfit.data.augment_audio import audio_augment
from nooverfit.data.keywords import (
    NOISES,
    keyword_clip,
    keyword_probes,
    noise_bank,
    noise_clip,
    speech_noise_bank,
)
from nooverfit.data.shortcut import ShortcutFlag, shortcut_check, shortcut_flags
from nooverfit.models import LogSpectrogram, mlp
from nooverfit.train import fit
from nooverfit.transfer.pretrain import class_subset


def test_keywords_dataset_is_audio_and_seeded():
    ds = load_dataset("keywords", n_per_class=5, seed=3)
    assert ds.kind == "audio" and ds.x.shape == (20, 2000) and len(ds.classes) == 4
    assert np.array_equal(ds.x, load_dataset("keywords", n_per_class=5, seed=3).x)
    assert augmenter(ds.kind) is audio_augment
    with pytest.raises(ValueError, match="noises"):
        load_dataset("keywords", noises="jazz")


def test_keywords_leaky_ties_noise_to_label():
    ds = load_dataset("keywords:leaky", n_per_class=6, noises="white,hum", background_class=True)
    assert ds.name == "keywords:leaky" and ds.classes[-1] == "_background_"
    for label in range(4):
        assert set(ds.groups[ds.y == label]) == {("white", "hum")[label % 2]}


def test_keyword_probes_hold_out_the_noises_the_synthesis_never_used():
    ds = load_dataset("keywords", n_per_class=5, noises="white,pink", background_class=True)
    probes = keyword_probes(ds, per_class=3, seed=1)
    assert probes is not None
    assert {n.split("-")[0] for n in probes.noise.names} == {"white", "pink"}
    assert {n.split("-")[0] for n in probes.held_out.names} == {"brown", "blue", "babble", "hum"}
    assert probes.foreground.shape == (12, ds.x.shape[1])
    assert list(probes.labels) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert probes.background_class == 4
    assert (
        keyword_probes(load_dataset("keywords", n_per_class=30, noises=",".join(NOISES))) is None
    )
    assert keyword_probes(load_dataset("digits")) is None
    subset = class_subset(load_dataset("keywords:leaky", n_per_class=5), [2, 3])
    assert keyword_probes(subset) is None  # labels 0, 1 are no longer keywords 0, 1


def test_noise_colours_have_expected_spectral_slope():
    rng = np.random.default_rng(0)
    for kind, slope in (("white", 0), ("pink", -1), ("brown", -2), ("blue", 1)):
        power = np.mean(
            [np.abs(np.fft.rfft(noise_clip(kind, rng, length=4096))) ** 2 for _ in range(20)],
            axis=0,
        )
        f = np.fft.rfftfreq(4096)[10:]
        fitted = np.polyfit(np.log(f), np.log(power[10:]), 1)[0]
        assert fitted == pytest.approx(slope, abs=0.2)
    for kind in NOISES:
        assert np.sqrt(np.mean(noise_clip(kind, rng) ** 2)) == pytest.approx(1.0, rel=1e-4)


@needs("soundfile")
def test_speech_loader_reads_folders_and_background(tmp_path):
    rng = np.random.default_rng(0)
    for label in ("no", "yes"):
        for spk in ("ab12", "cd34"):
            write_wav(
                tmp_path / label / f"{spk}_nohash_0.wav", rng.standard_normal(600) * 0.1, 8000
            )
    write_wav(tmp_path / "_background_noise_" / "tap.wav", rng.standard_normal(900), 8000)
    ds = load_dataset(f"speech:{tmp_path}", rate=4000)
    assert ds.kind == "audio" and ds.classes == ("no", "yes")
    assert ds.x.shape == (4, 4000)  # 300 samples after resampling, zero-padded to 1 s
    assert np.all(ds.x[:, 300:] == 0) and set(ds.groups) == {"ab12", "cd34"}
    assert speech_noise_bank(tmp_path, rate=4000).names == ("tap",)
    with pytest.raises(ValueError, match="speech:PATH"):
        load_dataset("speech")
    with pytest.raises(FileNotFoundError):
        load_dataset(f"speech:{tmp_path / 'missing'}")


def test_log_spectrogram_matches_numpy_stft():
    x = torch.randn(2, 512)
    out = LogSpectrogram(n_fft=128, hop=64)(x)
    assert out.shape == (2, 65, 9)
    padded = np.pad(x[0].numpy(), 64, mode="reflect")
    frame = padded[64:192] * np.hanning(129)[:-1]  # torch.hann_window is periodic
    ref = np.log1p(np.abs(np.fft.rfft(frame)))
    assert np.allclose(out[0, :, 1].numpy(), ref, atol=1e-4)


def test_shortcut_flags_decision():
    assert shortcut_flags(0.5, 0.0) == (ShortcutFlag.FIRES_ON_NOISE,)
    assert shortcut_flags(0.0, 0.45) == (ShortcutFlag.HELD_OUT_DROP,)
    assert shortcut_flags(0.1, 0.1) == ()


NOISE_TYPES = ("white", "pink", "brown", "hum")


def _train(leaky: bool) -> nn.Module:
    ds = load_dataset(
        "keywords",
        n_per_class=20,
        noises=",".join(NOISE_TYPES),
        snr="-5:5",
        leaky=leaky,
        background_class=True,
        seed=1,
    )
    data = prepare(ds, make_split(ds.y, seed=0), device="cpu")
    torch.manual_seed(0)
    model = nn.Sequential(LogSpectrogram(), mlp(65 * 32, 5, width=32))
    fit(model, data, RunConfig(epochs=20, batch_size=32, lr=3e-3))
    return model


def _check(model: nn.Module):
    rng = np.random.default_rng(5)
    fg = np.stack([keyword_clip(i % 4, rng) for i in range(40)])
    return shortcut_check(
        model,
        fg,
        np.arange(40) % 4,
        noise=noise_bank(NOISE_TYPES, seed=3, per_kind=2),
        held_out=noise_bank(("blue",), seed=3, per_kind=2),
        background_class=4,
        snr_db=(0.0, 10.0),
    )


def test_shortcut_check_flags_leaky_synthesis_and_passes_clean_one():
    leaky = _check(_train(leaky=True))
    clean = _check(_train(leaky=False))
    assert ShortcutFlag.FIRES_ON_NOISE in leaky.flags and not leaky.passed
    assert clean.passed, clean.to_dict()
    assert clean.fire_rate < leaky.fire_rate
    assert leaky.to_dict()["flags"] == [f.value for f in leaky.flags]


def test_train_with_augment_on_audio_uses_audio_augmenter(tmp_path):
    from typer.testing import CliRunner

    from nooverfit.cli import app

    args = ["train", "--data", "keywords", "--augment", "0.5", "--epochs", "2", "--width", "8"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
