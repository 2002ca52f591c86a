"""Generated files thrown at every reader: each reads, or fails with a ValueError (the
bad-input family the CLI reports in one line, `BadInput` among it); nothing else escapes."""

import io
import wave

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from _optional import installed, needs
from nooverfit._io import read_checkpoint
from nooverfit.data import load_dataset
from nooverfit.logs import read_log

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers = st.one_of(
    st.integers(-(10**50), 10**50).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e400", "1,5", "0x10", "NA", "—", "\x00"]),
)
cells = st.one_of(numbers, st.text(max_size=6))
separators = st.sampled_from([",", ";", "\t", "|", " "])
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])


@st.composite
def csv_files(draw):
    """A CSV-ish text: a header with a label column, ragged rows, odd cells, an encoding."""
    width = draw(st.integers(1, 4))
    header = [f"f{i}" for i in range(width)] + ["label"]
    sep = draw(separators)
    lines = [sep.join(header)]
    for _ in range(draw(st.integers(0, 12))):
        row = draw(st.lists(cells, min_size=0, max_size=width + 2))
        lines.append(sep.join(row))
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    encoding = draw(encodings)
    return text.encode(encoding, errors="replace")


def _reads_or_bad_input(read):
    try:
        read()
    except ValueError:  # BadInput, UnknownColumn and plain ValueErrors: one line, exit 2
        pass
    except FileNotFoundError:
        pass


@FUZZ
@given(content=csv_files())
def test_csv_loader_reads_or_raises_bad_input(tmp_path, content):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    _reads_or_bad_input(lambda: load_dataset(f"csv:{path}", target="label"))


@FUZZ
@given(content=st.binary(max_size=600))
def test_csv_loader_on_random_bytes(tmp_path, content):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    _reads_or_bad_input(lambda: load_dataset(f"csv:{path}", target="label"))


# Event files are read only with the tensorboard extra installed; without it the other
# formats are still fuzzed.
log_names = st.sampled_from(
    ["log.csv", "metrics.csv", "h.json", "log.jsonl", "train.log"]
    + (["events.out.tfevents.1"] if installed("tensorboard") else [])
)


@FUZZ
@given(name=log_names, content=csv_files())
def test_read_log_on_generated_tables(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content.replace(b"label", b"val_loss"))
    _reads_or_bad_input(lambda: read_log(path))


@FUZZ
@given(name=log_names, content=st.binary(max_size=600))
def test_read_log_on_random_bytes(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    _reads_or_bad_input(lambda: read_log(path))


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(value=json_values, lines=st.booleans())
def test_read_log_on_generated_json(tmp_path, value, lines):
    import json

    path = tmp_path / ("log.jsonl" if lines else "log.json")
    text = json.dumps(value)
    path.write_text("\n".join([text, text]) if lines else text)
    _reads_or_bad_input(lambda: read_log(path))


@FUZZ
@given(content=st.binary(max_size=400))
def test_read_checkpoint_on_random_bytes(tmp_path, content):
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    _reads_or_bad_input(lambda: read_checkpoint(path))


def _png(seed: int) -> bytes:
    pixels = (np.random.default_rng(seed).random((6, 6)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@FUZZ
@given(
    cut=st.integers(0, 200),
    flip=st.integers(0, 199),
    garbage=st.binary(max_size=40),
    name=st.sampled_from(["x.png", "x.jpg", "x.bmp"]),
)
def test_image_folder_with_a_damaged_image(tmp_path_factory, cut, flip, garbage, name):
    root = tmp_path_factory.mktemp("images")
    for label in ("a", "b"):
        (root / label).mkdir()
        for i in range(3):
            (root / label / f"{i}.png").write_bytes(_png(i))
    damaged = bytearray(_png(9)[:cut])
    if damaged:
        damaged[flip % len(damaged)] ^= 0xFF
    (root / "a" / name).write_bytes(bytes(damaged) + garbage)
    _reads_or_bad_input(lambda: load_dataset(f"folder:{root}"))


def _wav(samples: int, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros(samples, dtype=np.int16).tobytes())
    return buffer.getvalue()


@needs("soundfile")
@FUZZ
@given(cut=st.integers(0, 120), flip=st.integers(0, 119), samples=st.integers(0, 50))
def test_read_wav_on_damaged_files(tmp_path, cut, flip, samples):
    from nooverfit.data.audio_io import read_wav

    data = bytearray(_wav(samples, 8000)[:cut])
    if data:
        data[flip % len(data)] ^= 0xFF
    path = tmp_path / "clip.wav"
    path.write_bytes(bytes(data))
    _reads_or_bad_input(lambda: read_wav(path))
