"""``class_subset`` keeps every field of the data set it does not have to change (a field
built by hand was once dropped: ``whole_groups``), and drops the probes, whose labels are
in the full label space."""

from __future__ import annotations

import dataclasses

import numpy as np

from nooverfit.data import Dataset
from nooverfit.data.audio_io import NoiseBank
from nooverfit.data.shortcut import ShortcutProbes
from nooverfit.transfer import class_subset

#: the fields class_subset must change; every other one it keeps as it was
CHANGED = {"name", "x", "y", "classes", "groups", "probes"}


def _speech_like() -> Dataset:
    rng = np.random.default_rng(0)
    bank = NoiseBank(("white",), (np.zeros(160, np.float32),), 16000)
    probes = ShortcutProbes(
        foreground=rng.normal(size=(4, 160)).astype(np.float32),
        labels=np.array([0, 1, 2, 3]),
        noise=bank,
        held_out=bank,
        background_class=3,
    )
    y = np.repeat(np.arange(4), 6)
    return Dataset(
        "speech:clips",
        rng.normal(size=(24, 160)).astype(np.float32),
        y,
        ("yes", "no", "up", "_silence_"),
        "audio",
        groups=np.array([f"g{i % 5}" for i in range(24)]),
        train_groups=3,
        whole_groups=True,
        noise=bank,
        probes=probes,
    )


def test_class_subset_keeps_every_field_it_need_not_change():
    full = _speech_like()
    subset = class_subset(full, (2, 0))
    assert subset.classes == ("up", "yes") and subset.name == "speech:clips[up,yes]"
    assert subset.y.tolist() == [1] * 6 + [0] * 6  # yes (0) -> 1, up (2) -> 0
    assert subset.groups is not None and full.groups is not None
    assert subset.groups.tolist() == full.groups[np.isin(full.y, (0, 2))].tolist()
    assert subset.probes is None  # labels 0..3 of the full set would be read as the new ones
    kept = [f.name for f in dataclasses.fields(Dataset) if f.name not in CHANGED]
    assert {"whole_groups", "train_groups", "noise", "columns", "kind"} <= set(kept)
    for name in kept:
        assert getattr(subset, name) is getattr(full, name), name
