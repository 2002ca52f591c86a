import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from _optional import needs, require
from nooverfit.cli import app
from nooverfit.data.audio_io import NoiseBank, read_wav, resample, write_wav
from nooverfit.data.synthesize import (
    active_region,
    fit_length,
    measure_snr,
    mix_at_snr,
    parse_snr,
    read_manifest,
    synthesize_folder,
)


def keyword(length=4000, start=1000, dur=800, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros(length, np.float32)
    x[start : start + dur] = rng.standard_normal(dur) * 0.5
    return x


@settings(max_examples=60, deadline=None)
@given(
    snr=st.floats(-20, 40),
    fg_len=st.integers(300, 3000),
    bg_len=st.integers(50, 5000),
    offset=st.integers(0, 10_000),
    seed=st.integers(0, 2**16),
)
def test_mix_at_snr_is_exact_over_active_region(snr, fg_len, bg_len, offset, seed):
    rng = np.random.default_rng(seed)
    fg = np.zeros(fg_len, np.float32)
    start = int(rng.integers(0, fg_len // 2))
    fg[start : start + fg_len // 3] = rng.standard_normal(fg_len // 3) + 0.1
    bg = rng.standard_normal(bg_len).astype(np.float32)
    active = np.zeros(fg_len, bool)
    active[start : start + fg_len // 3] = True
    mix = mix_at_snr(fg, bg, snr, offset=offset % bg_len, active=active)
    noise = mix.astype(np.float64) - fg
    assert measure_snr(fg, noise, active=active) == pytest.approx(snr, abs=1e-3)
    ref = fit_length(bg, fg_len, offset=offset % bg_len).astype(np.float64)
    gain = noise @ ref / (ref @ ref)
    assert np.abs(noise - gain * ref).max() <= 1e-5 * max(1.0, np.abs(mix).max())


def test_mix_at_snr_uses_active_region_not_whole_clip():
    fg = keyword()  # 800 active samples of 4000
    bg = np.random.default_rng(1).standard_normal(4000).astype(np.float32)
    mix = mix_at_snr(fg, bg, 10.0)
    active = active_region(fg)
    assert active.sum() < 1500
    assert measure_snr(fg, mix - fg, active=active) == pytest.approx(10.0, abs=0.01)
    whole = measure_snr(fg, mix - fg)
    assert whole < 6.0  # whole-clip SNR is several dB lower than asked


def test_mix_at_snr_loops_short_noise_and_seeds_offset():
    fg = keyword(length=1000, start=100, dur=500)
    bg = np.arange(1, 8, dtype=np.float32)
    mix = mix_at_snr(fg, bg, 0.0, offset=3)
    noise = (mix - fg) / (mix - fg)[0] * 4  # bg[3] == 4
    assert np.allclose(noise[:10], [4, 5, 6, 7, 1, 2, 3, 4, 5, 6], atol=1e-4)
    a = mix_at_snr(fg, np.random.default_rng(0).standard_normal(5000), 5.0, seed=3)
    b = mix_at_snr(fg, np.random.default_rng(0).standard_normal(5000), 5.0, seed=3)
    assert np.array_equal(a, b)


def test_mix_at_snr_integer_pcm_and_errors():
    fg = (keyword() * 20000).astype(np.int16)
    mix = mix_at_snr(fg, np.ones(10, np.int16) * 1000, 20.0)
    assert mix.dtype == np.float32 and np.abs(mix).max() < 2
    with pytest.raises(ValueError, match="foreground is silent"):
        mix_at_snr(np.zeros(100), np.ones(100), 0.0)
    with pytest.raises(ValueError, match="background is silent"):
        mix_at_snr(keyword(), np.zeros(100), 0.0)
    with pytest.raises(ValueError, match="snr_db"):
        mix_at_snr(keyword(), np.ones(100), float("nan"))
    assert np.array_equal(mix_at_snr(keyword(), np.ones(100), np.inf), keyword())


def test_parse_snr():
    assert parse_snr("0:20") == (0.0, 20.0)
    assert parse_snr("-5") == (-5.0, -5.0)
    with pytest.raises(ValueError, match="LOW:HIGH"):
        parse_snr("loud")
    with pytest.raises(ValueError, match="LOW <= HIGH"):
        parse_snr("20:0")


@pytest.mark.parametrize("spec", ["nan", "inf", "-inf:0", "0:nan"])
def test_parse_snr_refuses_a_value_that_is_no_finite_number(spec):
    with pytest.raises(ValueError, match="LOW:HIGH or a number"):
        parse_snr(spec)


@pytest.mark.parametrize("snr", [4000.0, 1e6])
def test_mix_at_snr_of_a_very_high_snr_is_the_foreground(snr):
    """10 ** (snr / 10) overflowed a Python float past 3,083 dB (OverflowError)."""
    fg, noise = keyword(), np.random.default_rng(1).standard_normal(500)
    assert np.array_equal(mix_at_snr(fg, noise, snr), fg)


@pytest.mark.parametrize("snr", [-1000.0, -1e6])
def test_mix_at_snr_of_an_snr_too_low_for_float32_is_refused(snr):
    """Past float32's range the mix was inf (or an OverflowError past -3,083 dB)."""
    with pytest.raises(ValueError, match="past float32's range"):
        mix_at_snr(keyword(), np.random.default_rng(1).standard_normal(500), snr)


@pytest.mark.parametrize("snr", ["loud", None, [0, 10]])
def test_mix_at_snr_names_an_snr_that_is_no_number(snr):
    with pytest.raises(ValueError, match="snr_db must be a number in dB"):
        mix_at_snr(keyword(), np.ones(100), snr)


@pytest.mark.parametrize(
    "snr_db", [(float("nan"),) * 2, (0.0, float("inf")), (20.0, 0.0), 10.0, (1.0, 2.0, 3.0)]
)
def test_synthesize_folder_refuses_an_snr_range_that_is_none(tmp_path, snr_db):
    """numpy's "high - low range exceeds valid bounds" or "high - low < 0", or a TypeError,
    came out of the first draw; a range without ``low <= high`` in dB is named as such."""
    fg, bg = _folders(tmp_path)
    with pytest.raises(ValueError, match=r"snr_db must be \(low, high\) in dB"):
        synthesize_folder(fg, bg, out=tmp_path / "out", snr_db=snr_db, per_clip=1)
    assert not (tmp_path / "out").exists()


def test_resample_matches_sine_at_new_rate():
    t = np.arange(4410) / 44100
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    y = resample(x, 44100, 16000)
    assert len(y) == 1600
    ref = np.sin(2 * np.pi * 440 * np.arange(1600) / 16000)
    assert np.abs(y[100:-100] - ref[100:-100]).max() < 0.01


@needs("soundfile")
def test_wav_roundtrip_and_noise_bank(tmp_path):
    x = np.random.default_rng(0).standard_normal(800).astype(np.float32) * 0.1
    write_wav(tmp_path / "noise" / "a.wav", x, 8000)
    write_wav(tmp_path / "noise" / "silent.wav", np.zeros(100, np.float32), 8000)
    y, rate = read_wav(tmp_path / "noise" / "a.wav")
    assert rate == 8000 and np.array_equal(x, y)
    bank = NoiseBank.from_folder(tmp_path / "noise", rate=4000)
    assert bank.names == ("a",) and len(bank.clips[0]) == 400
    assert bank.stack(1000).shape == (1, 1000)
    with pytest.raises(FileNotFoundError):
        read_wav(tmp_path / "missing.wav")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no usable"):
        NoiseBank.from_folder(tmp_path / "empty")
    with pytest.raises(ValueError, match="no noise named"):
        bank.subset(["x"])


def test_write_wav_of_the_same_samples_writes_the_same_bytes(tmp_path):
    """Same seed, same files: soundfile's float WAV stamped a PEAK chunk with the second it
    was written, so two syntheses a second apart differed in every clip's bytes."""
    import time

    x = keyword()
    write_wav(tmp_path / "a.wav", x, 8000)
    time.sleep(1.1)  # the stamp's resolution is one second
    write_wav(tmp_path / "b.wav", x, 8000)
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    if importlib.util.find_spec("soundfile"):
        y, rate = read_wav(tmp_path / "b.wav")
        assert rate == 8000 and np.array_equal(x, y)


def _folders(tmp_path):
    require("soundfile")  # WAV files
    rng = np.random.default_rng(0)
    for label in ("yes", "no"):
        for i in range(2):
            write_wav(tmp_path / "fg" / label / f"s{i}_nohash_0.wav", keyword(seed=i), 8000)
    for name in ("cafe", "street"):
        write_wav(tmp_path / "bg" / f"{name}.wav", rng.standard_normal(3000) * 0.1, 8000)
    return tmp_path / "fg", tmp_path / "bg"


def test_synthesize_writes_clips_manifest_deterministically(tmp_path):
    fg, bg = _folders(tmp_path)
    first = synthesize_folder(fg, bg, out=tmp_path / "a", snr_db=(0, 20), per_clip=3, seed=4)
    second = synthesize_folder(fg, bg, out=tmp_path / "b", snr_db=(0, 20), per_clip=3, seed=4)
    assert len(first.rows) == 12 and first.rows == second.rows
    rows = read_manifest(tmp_path / "a" / "manifest.csv")
    assert [r.clip for r in rows] == [r.clip for r in first.rows]
    row = rows[0]
    assert row.label in ("yes", "no") and row.noise in ("cafe", "street") and 0 <= row.snr_db <= 20
    mix, _ = read_wav(tmp_path / "a" / row.clip)
    assert np.array_equal(mix, read_wav(tmp_path / "b" / row.clip)[0])
    clean, _ = read_wav(fg / row.source)
    noise, _ = read_wav(bg / f"{row.noise}.wav")
    regenerated = mix_at_snr(clean, noise, row.snr_db, offset=row.offset)
    assert np.allclose(mix, regenerated, atol=1e-5)


def test_cli_synthesize(tmp_path):
    fg, bg = _folders(tmp_path)
    out = tmp_path / "out"
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--snr", "0:20", "--per-clip", "2", "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert len(read_manifest(out / "manifest.csv")) == 8
    bad = CliRunner().invoke(app, [*args, "--snr", "loud"])
    assert bad.exit_code == 2 and "LOW:HIGH" in bad.output


def _wavs(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.wav"))


def test_synthesize_into_an_earlier_run_refuses_or_replaces_it_whole(tmp_path):
    fg, bg = _folders(tmp_path)
    out = tmp_path / "out"
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg), "--out", str(out)]
    assert CliRunner().invoke(app, [*args, "--per-clip", "2"]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = CliRunner().invoke(app, [*args, "--per-clip", "1", "--seed", "5"])
    assert again.exit_code == 2, again.output
    lines = [line for line in again.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "earlier synthesis" in lines[0] and "--overwrite" in lines[0]
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    again = CliRunner().invoke(app, [*args, "--per-clip", "1", "--seed", "5", "--overwrite"])
    assert again.exit_code == 0, again.output
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 4 and _wavs(out) == sorted(r.clip for r in rows)  # no stale clip


def _manifest_table(path):
    import csv

    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write_table(path, table):
    import csv

    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(table)


def test_synthesize_manifest_records_its_format_and_writer(tmp_path):
    """The manifest recorded no format, though every other file nooverfit writes does:
    each row now ends with the manifest's ``format`` and the ``nooverfit`` that wrote it."""
    import nooverfit
    from nooverfit import formats
    from nooverfit.data.synthesize import MANIFEST_FORMAT

    fg, bg = _folders(tmp_path)
    made = synthesize_folder(fg, bg, out=tmp_path / "out", per_clip=1)
    header, *rows = _manifest_table(tmp_path / "out" / "manifest.csv")
    assert header[-2:] == ["format", "nooverfit"] and (MANIFEST_FORMAT, formats.MANIFEST) == (1, 1)
    assert len(rows) == 4 and {tuple(r[-2:]) for r in rows} == {("1", nooverfit.__version__)}
    back = read_manifest(tmp_path / "out" / "manifest.csv")
    assert [(r.clip, r.noise, r.offset) for r in back] == [
        (r.clip, r.noise, r.offset) for r in made.rows
    ]


def test_read_manifest_without_a_format_reads_it_as_format_1(tmp_path):
    """A manifest written before the format was recorded has neither column."""
    fg, bg = _folders(tmp_path)
    synthesize_folder(fg, bg, out=tmp_path / "out", per_clip=1)
    path = tmp_path / "out" / "manifest.csv"
    rows = read_manifest(path)
    table = _manifest_table(path)
    kept = [i for i, name in enumerate(table[0]) if name not in ("format", "nooverfit")]
    _write_table(path, [[row[i] for i in kept] for row in table])
    assert "format" not in path.read_text()
    assert read_manifest(path) == rows and len(rows) == 4


def test_read_manifest_refuses_a_newer_format_or_no_format_number(tmp_path):
    from nooverfit.errors import BadInput, NewerFile

    fg, bg = _folders(tmp_path)
    synthesize_folder(fg, bg, out=tmp_path / "out", per_clip=1)
    path = tmp_path / "out" / "manifest.csv"
    header, *rows = _manifest_table(path)
    # a newer layout may drop columns this one reads: the format is checked first
    newer = [header[1:], *([*r[1:-2], "2", "9.0"] for r in rows)]
    _write_table(path, newer)
    expected = (
        r"manifest\.csv was made by a newer nooverfit \(9\.0, format 2\); this one \(.+\) "
        r"reads format up to 1: install the nooverfit that wrote it, or a later one, to load it$"
    )
    with pytest.raises(NewerFile, match=expected):
        read_manifest(path)
    _write_table(path, [header, *([*r[:-2], "x", r[-1]] for r in rows)])
    with pytest.raises(BadInput, match=r"has format 'x'; expected a whole number from 1 to 1$"):
        read_manifest(path)


def test_synthesize_into_a_newer_synthesis_is_refused_even_with_overwrite(tmp_path):
    """--overwrite removes the clips the manifest lists, which a newer manifest does not
    tell this nooverfit: refused in one line, nothing removed."""
    fg, bg = _folders(tmp_path)
    out = tmp_path / "out"
    synthesize_folder(fg, bg, out=out, per_clip=1)
    header, *rows = _manifest_table(out / "manifest.csv")
    _write_table(out / "manifest.csv", [header, *([*r[:-2], "2", "9.0"] for r in rows)])
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--per-clip", "1", "--overwrite"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "made by a newer nooverfit (9.0, format 2)" in lines[0]
    assert lines[0].endswith("; or choose another --out")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("where", ["fg", "fg/yes", "bg"])
def test_synthesize_out_inside_an_input_folder_is_refused(tmp_path, where):
    fg, bg = _folders(tmp_path)
    before = _wavs(tmp_path)
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / where), "--overwrite"])
    assert result.exit_code == 2 and "expected a folder outside it" in result.output
    assert _wavs(tmp_path) == before


@pytest.mark.parametrize("missing", ["--foreground", "--background"])
def test_synthesize_names_the_option_whose_folder_is_missing(tmp_path, missing):
    fg, bg = _folders(tmp_path)
    folders = {"--foreground": str(fg), "--background": str(bg), missing: str(tmp_path / "no")}
    args = ["synthesize", *(x for pair in folders.items() for x in pair)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert lines[0] == f"error: {missing} folder not found: {tmp_path / 'no'}; expected WAV files"
    assert not (tmp_path / "out").exists()


@needs("soundfile")
def test_synthesize_refuses_an_out_holding_other_sound_files(tmp_path):
    fg, bg = _folders(tmp_path)
    write_wav(tmp_path / "mine" / "keep.wav", keyword(), 8000)
    with pytest.raises(ValueError, match=r"1 sound file no manifest\.csv there lists"):
        synthesize_folder(fg, bg, out=tmp_path / "mine", per_clip=1, overwrite=True)
    assert _wavs(tmp_path / "mine") == ["keep.wav"]


@pytest.mark.parametrize("text", ["", "patient,score\n"])
def test_synthesize_keeps_a_manifest_csv_of_the_users_that_holds_no_rows(tmp_path, text):
    """A user's manifest.csv holding a header only (or nothing) read as an earlier
    synthesis with no clips: refused as one ("holds an earlier synthesis"), and
    --overwrite replaced the file."""
    fg, bg = _folders(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "manifest.csv").write_text(text)
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out"), "--overwrite"])
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "is not a manifest nooverfit synthesize wrote" in lines[0]
    assert (tmp_path / "out" / "manifest.csv").read_text() == text
    assert _wavs(tmp_path / "out") == []


def test_synthesize_names_the_noise_that_is_silent_where_the_clip_is_active(tmp_path):
    """The error named the clean clip only, not which noise file (and where in it) held
    silence under the keyword."""
    fg, _ = _folders(tmp_path)
    gappy = np.zeros(3000, np.float32)
    gappy[-100:] = np.random.default_rng(0).standard_normal(100) * 0.1
    write_wav(tmp_path / "gaps" / "gappy.wav", gappy, 8000)
    with pytest.raises(ValueError, match=r"noise 'gappy' from sample \d+\): background is silent"):
        synthesize_folder(fg, tmp_path / "gaps", out=tmp_path / "out", per_clip=5)


def test_synthesize_refusing_a_silent_clip_leaves_no_folder_it_made(tmp_path):
    """The clips of the classes mixed before a silent one were removed, but their folders
    (and --out, with any parents made for it) stayed behind, empty. Folders that were there
    before the call stay."""
    fg, bg = _folders(tmp_path)
    write_wav(fg / "yes" / "s9_nohash_0.wav", np.zeros(4000, np.float32), 8000)
    out = tmp_path / "new" / "out"
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg), "--per-clip", "1"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 2 and "foreground is silent" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "new").exists()  # 'no' was mixed first: out/no/ was made
    kept = tmp_path / "kept"
    (kept / "no").mkdir(parents=True)
    result = CliRunner().invoke(app, [*args, "--out", str(kept)])
    assert result.exit_code == 2 and "foreground is silent" in result.output
    assert sorted(p.relative_to(kept).as_posix() for p in kept.rglob("*")) == ["no"]


def test_to_float_centres_unsigned_pcm_on_its_midpoint():
    from nooverfit.data.audio_io import to_float

    # 8-bit WAV is unsigned, silence at 128 (x / iinfo.min divided by 0: inf and NaN)
    pcm = np.array([0, 64, 128, 255], np.uint8)
    assert to_float(pcm).tolist() == [-1.0, -0.5, 0.0, 127 / 128]
    assert to_float(np.array([0, 32768, 65535], np.uint16)).tolist() == [-1.0, 0.0, 32767 / 32768]
    assert to_float(np.array([-32768, 0, 16384], np.int16)).tolist() == [-1.0, 0.0, 0.5]


def test_mix_at_snr_of_8_bit_pcm_equals_the_mix_of_its_float_samples():
    rng = np.random.default_rng(0)
    pcm = (128 + 100 * np.sin(np.arange(2000) * 0.05)).astype(np.uint8)
    noise = rng.normal(size=2000).astype(np.float32)
    mixed = mix_at_snr(pcm, noise, 10.0)
    reference = mix_at_snr((pcm.astype(np.float32) - 128) / 128, noise, 10.0)
    assert np.isfinite(mixed).all()
    np.testing.assert_allclose(mixed, reference, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("which", ["foreground", "background"])
def test_mix_at_snr_names_a_clip_holding_nan(which):
    clean = np.sin(np.arange(1000) * 0.1).astype(np.float32)
    broken = clean.copy()
    broken[10] = np.nan
    fg, bg = (broken, clean) if which == "foreground" else (clean, broken)
    with pytest.raises(ValueError, match=f"{which} holds NaN or infinite samples"):
        mix_at_snr(fg, bg, 10.0)


@pytest.mark.parametrize("which", ["foreground", "background"])
def test_synthesize_names_a_wav_file_holding_nan_or_inf(tmp_path, which):
    """Review i130: a float WAV with a NaN sample among the clean clips was refused as
    "foreground is silent (no active samples)"; one with infinite samples among the noises
    as "snr_db 5.4 dB scales the noise past float32's range; expected a higher SNR", after
    numpy's RuntimeWarning. Both name the file and what it holds."""
    fg, bg = _folders(tmp_path)
    broken = keyword()
    broken[1200] = np.nan if which == "foreground" else np.inf
    path = (fg / "yes" if which == "foreground" else bg) / "broken.wav"
    write_wav(path, broken, 8000)
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg), "--per-clip", "1"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert result.output == f"error: {path} holds NaN or infinite samples; expected finite audio\n"
    assert not (tmp_path / "out").exists()


def test_synthesize_overwrite_that_fails_keeps_the_earlier_synthesis(tmp_path):
    """Review i130: --overwrite removed the earlier synthesis (its manifest and clips)
    before mixing, so a run refused midway (a silent clip) left --out empty: neither the
    earlier synthesis nor a new one. It is kept, byte for byte, until the new one is
    written, and nothing is left beside --out."""
    fg, bg = _folders(tmp_path)
    out = tmp_path / "out"
    args = ["synthesize", "--foreground", str(fg), "--background", str(bg), "--out", str(out)]
    assert CliRunner().invoke(app, [*args, "--per-clip", "2"]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    write_wav(fg / "yes" / "s9_nohash_0.wav", np.zeros(4000, np.float32), 8000)  # silent
    result = CliRunner().invoke(app, [*args, "--per-clip", "1", "--seed", "5", "--overwrite"])
    assert result.exit_code == 2 and "foreground is silent" in result.output, result.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bg", "fg", "out"]
    # a run that succeeds replaces it whole, and leaves nothing beside it either
    (fg / "yes" / "s9_nohash_0.wav").unlink()
    result = CliRunner().invoke(app, [*args, "--per-clip", "1", "--seed", "5", "--overwrite"])
    assert result.exit_code == 0, result.output
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 4 and _wavs(out) == sorted(r.clip for r in rows)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bg", "fg", "out"]
