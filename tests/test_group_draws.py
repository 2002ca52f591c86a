"""Groups and small training sets: ``train_per_class`` on a whole-group split draws
different groups (recordings) before a second sample of one, and the audit's "never
heard" groups are those the split held out, not pool groups the draw left out."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nooverfit.audit import audit
from nooverfit.data import Dataset
from nooverfit.data.split import Split, make_stratified_group_split


def _mixes(recordings=12, per=4, classes=2, seed=0):
    """``recordings`` per class, each mixed ``per`` times: labels and groups."""
    y = np.repeat(np.arange(classes), recordings * per)
    groups = np.array([f"c{c}r{r}" for c in range(classes) for r in range(recordings)]).repeat(per)
    x = np.random.default_rng(seed).normal(size=(len(y), 3)).astype(np.float32)
    return x, y, groups


def test_train_per_class_draws_different_recordings_first():
    _, y, groups = _mixes()
    for seed in range(3):
        split = make_stratified_group_split(y, groups, seed=seed)
        pool_groups = {c: set(groups[split.pool][y[split.pool] == c]) for c in (0, 1)}
        for n in (2, 4, 6):
            train = split.train(y, train_per_class=n)
            for c in (0, 1):
                drawn = groups[train][y[train] == c]
                assert len(drawn) == n
                assert len(set(drawn)) == min(n, len(pool_groups[c]))  # no repeat while new
        small, large = split.train(y, train_per_class=2), split.train(y, train_per_class=6)
        assert set(small) <= set(large)  # still nested
        whole = np.flatnonzero(np.isin(groups, list(pool_groups[0] | pool_groups[1])))
        assert sorted(split.pool) == whole.tolist()  # whole groups, reordered only


def test_audit_leaves_undrawn_pool_groups_out_of_the_heard_gap():
    x, y, groups = _mixes()
    data = Dataset("mixes", x, y, ("a", "b"), "tabular", groups=groups, whole_groups=True)
    split = make_stratified_group_split(y, groups, seed=0)
    train = split.train(y, train_per_class=2)
    used = Split(pool=train, val=split.val, test=split.test, seed=0)
    measured = np.concatenate([np.setdiff1d(split.pool, train), split.val])
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    report = audit(data, used, model=model, group_index=measured, pool=split.pool)
    assert report.groups is not None
    shown = dict(zip(report.groups.groups, report.groups.heard, strict=True))
    drawn, held_out = set(groups[train]), set(groups[split.val])
    undrawn = set(groups[split.pool]) - drawn
    assert undrawn and not undrawn & set(shown)  # neither heard nor "never heard"
    assert {g for g, h in shown.items() if not h} == held_out
    assert {g for g, h in shown.items() if h} <= drawn
