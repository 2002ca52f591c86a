"""Splits that keep every source recording / speaker wholly in one of pool, val and test."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from _optional import require
from nooverfit.data import Dataset, load_dataset
from nooverfit.data.audio_io import write_wav
from nooverfit.data.split import Split, make_stratified_group_split, split_dataset
from nooverfit.data.synthesize import read_manifest, synthesize_folder
from nooverfit.errors import BadInput
from nooverfit.transfer.pretrain import class_subset

RATE = 4000


def _tone(freq: float, rng: np.random.Generator) -> np.ndarray:
    """A 0.15 s tone burst in 0.25 s of silence: one "recording" of a keyword."""
    t = np.arange(int(0.15 * RATE)) / RATE
    clip = np.zeros(RATE // 4)
    clip[200 : 200 + len(t)] = np.sin(2 * np.pi * freq * (1 + rng.uniform(-0.05, 0.05)) * t)
    return clip * np.hanning(len(clip)) * rng.uniform(0.3, 0.9)


@pytest.fixture(scope="module")
def mixes(tmp_path_factory):
    """A ``nooverfit synthesize`` output: 3 words x 5 voices, 4 noisy mixes of each."""
    require("soundfile")  # WAV files
    root = tmp_path_factory.mktemp("speech")
    rng = np.random.default_rng(0)
    for word, freq in (("no", 400.0), ("up", 800.0), ("yes", 1300.0)):
        for voice in ("de", "en", "es", "fr", "it"):
            write_wav(root / "fg" / word / f"{voice}.wav", _tone(freq, rng), RATE)
    write_wav(root / "bg" / "hiss.wav", rng.standard_normal(RATE) * 0.3, RATE)
    synthesize_folder(root / "fg", root / "bg", out=root / "mix", snr_db=(5, 15), per_clip=4)
    return root / "mix"


def _group_sets(groups: np.ndarray, split: Split) -> list[set[str]]:
    return [set(groups[part].tolist()) for part in (split.pool, split.val, split.test)]


def test_speech_split_keeps_each_recordings_mixes_in_one_split(mixes):
    ds = load_dataset(f"speech:{mixes}", rate=RATE, length=RATE // 4)
    assert len(ds) == 60
    for seed in range(4):
        split = split_dataset(ds, seed=seed)
        pool, val, test = _group_sets(ds.groups, split)
        assert not (pool & val or pool & test or val & test)
        assert sorted([*split.pool, *split.val, *split.test]) == list(range(len(ds)))
        for part in (split.pool, split.val, split.test):  # every word in every split
            assert set(ds.y[part].tolist()) == {0, 1, 2}
        # the per-class training subset is still drawn from the pool only
        train = split.train(ds.y, train_per_class=2)
        assert set(train.tolist()) <= set(split.pool.tolist()) and len(train) == 6
        assert split.whole_groups and split.to_dict()["whole_groups"] is True
    assert ds.whole_groups


def test_speech_groups_name_the_source_recording(mixes):
    ds = load_dataset(f"speech:{mixes}", rate=RATE, length=RATE // 4)
    source = {r.clip: r.source.removesuffix(".wav") for r in read_manifest(mixes / "manifest.csv")}
    assert len(set(ds.groups.tolist())) == 15 and "no/de" in ds.groups
    from nooverfit.data.audio_io import sound_files

    clips = [p for p in sound_files(mixes) if p.parent != mixes]
    assert ds.groups.tolist() == [source[p.relative_to(mixes).as_posix()] for p in clips]


def test_speech_groups_without_manifest_strip_the_mix_suffix_and_keep_speakers(tmp_path):
    require("soundfile")  # WAV files
    rng = np.random.default_rng(1)
    names = ["ab12_nohash_0.wav", "ab12_nohash_1__2.wav", "tone__0.wav", "tone__13.wav", "x.wav"]
    for label in ("no", "yes"):
        for name in names:
            write_wav(tmp_path / label / name, rng.standard_normal(300) * 0.1, RATE)
    groups = load_dataset(f"speech:{tmp_path}", rate=RATE).groups.tolist()
    # sorted files: ab12_nohash_0, ab12_nohash_1__2, tone__0, tone__13, x (per label)
    expected = ["ab12", "ab12", "{}/tone", "{}/tone", "{}/x"]
    assert groups == [e.format(label) for label in ("no", "yes") for e in expected]


def test_manifest_source_wins_over_the_file_name(mixes, tmp_path):
    import shutil

    copy = tmp_path / "mix"
    shutil.copytree(mixes, copy)
    text = (copy / "manifest.csv").read_text()
    (copy / "manifest.csv").write_text(text.replace(",no/de.wav,", ",no/spk9_nohash_0.wav,"))
    groups = load_dataset(f"speech:{copy}", rate=RATE, length=RATE // 4).groups
    assert (groups == "spk9").sum() == 4 and "no/de" not in groups


def test_speech_refuses_a_newer_nooverfits_manifest(mixes, tmp_path):
    """A newer manifest's sources cannot be read: grouping by file names instead could
    split one recording's mixes between training and test, so it is refused."""
    import shutil

    from nooverfit.errors import NewerFile

    copy = tmp_path / "mix"
    shutil.copytree(mixes, copy)
    lines = (copy / "manifest.csv").read_text().splitlines()
    newer = [lines[0], *(line.rsplit(",", 2)[0] + ",2,9.0" for line in lines[1:])]
    (copy / "manifest.csv").write_text("\n".join(newer) + "\n")
    with pytest.raises(NewerFile, match=r"newer nooverfit \(9\.0, format 2\)"):
        load_dataset(f"speech:{copy}", rate=RATE, length=RATE // 4)


def test_stratified_group_split_is_stratified_within_tolerance():
    rng = np.random.default_rng(2)
    # 3 classes, 60 recordings of each with 2-5 mixes; and speakers across classes
    y = np.repeat(np.arange(3), 60)
    sizes = rng.integers(2, 6, 180)
    y, groups = np.repeat(y, sizes), np.repeat(np.arange(180).astype(str), sizes)
    speakers = rng.integers(0, 50, 600).astype(str)
    for labels, names in ((y, groups), (rng.integers(0, 4, 600), speakers)):
        split = make_stratified_group_split(labels, names, test=0.25, val=0.2, seed=0)
        total = np.bincount(labels)
        for part, share in ((split.test, 0.25), (split.val, 0.15), (split.pool, 0.6)):
            got = np.bincount(labels[part], minlength=len(total)) / total
            assert np.abs(got - share).max() < 0.05, (share, got)
        assert not set.intersection(*_group_sets(names, split)[:2])


def test_stratified_group_split_is_deterministic_with_seed():
    y = np.repeat(np.arange(2), 40)
    groups = np.repeat(np.arange(20).astype(str), 4)
    a, b = (make_stratified_group_split(y, groups, seed=3) for _ in range(2))
    for part in ("pool", "val", "test"):
        assert np.array_equal(getattr(a, part), getattr(b, part))
    other = make_stratified_group_split(y, groups, seed=4)
    assert not np.array_equal(np.sort(a.test), np.sort(other.test))


def test_stratified_group_split_refuses_a_class_with_too_few_recordings():
    y = np.repeat([0, 1], [12, 8])
    groups = np.array([f"a{i % 4}" for i in range(12)] + [f"b{i % 2}" for i in range(8)])
    with pytest.raises(BadInput, match="'no' comes from only 2 recording"):
        make_stratified_group_split(y, groups, names=("yes", "no"))


def test_digits_split_is_unchanged():
    ds = load_dataset("digits")
    split = split_dataset(ds, seed=0)
    # recorded from the per-sample split before whole-group splits existed (de2f823)
    assert split.pool[:5].tolist() == [1412, 629, 1447, 517, 175]
    assert (len(split.pool), len(split.val), len(split.test)) == (1077, 270, 450)
    order = np.concatenate([split.pool, split.val, split.test]).astype("<i8")
    digest = "8090ffa48a62d3e16a6a607e2796db96d405aed532b998561461b06ac89a7e80"
    assert hashlib.sha256(order.tobytes()).hexdigest() == digest
    assert "whole_groups" not in split.to_dict() and not ds.whole_groups


def test_split_dict_round_trip_and_old_splits_load():
    split = Split(np.arange(3), np.array([3]), np.array([4]), seed=1, whole_groups=True)
    assert Split.from_dict(split.to_dict()).whole_groups
    old = {"seed": 0, "pool": [0, 1], "val": [2], "test": [3], "train": [0]}
    assert not Split.from_dict(old).whole_groups


def test_class_subset_keeps_the_group_split():
    y = np.tile(np.arange(3), 30)
    groups = np.repeat(np.arange(10).astype(str), 9)
    ds = Dataset("d", np.zeros((90, 4), np.float32), y, ("a", "b", "c"), "audio", groups)
    subset = class_subset(Dataset(**{**ds.__dict__, "whole_groups": True}), (0, 2))
    assert subset.whole_groups
    pool, val, test = _group_sets(subset.groups, split_dataset(subset, seed=0))
    assert not (pool & val or pool & test or val & test)
    voices = class_subset(Dataset(**{**ds.__dict__, "train_groups": 6}), (0, 1))
    assert voices.train_groups == 6
