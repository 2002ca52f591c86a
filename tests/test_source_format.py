"""A pretrain source file's format: 2 since layers before batch norm lost their bias, 1's
files (a bias there) still load as the network they were, a newer one says upgrade."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from nooverfit.config import RunConfig
from nooverfit.errors import BadInput
from nooverfit.models import build_model
from nooverfit.transfer import Source, load_pretrained
from nooverfit.transfer.seen import check_source

CONFIG = RunConfig(width=8, depth=2, batchnorm=True)


def _old_network(net: nn.Sequential) -> nn.Sequential:
    """``net`` as nooverfit built it when sources were format 1: a bias on each Linear
    before batch norm (the rest shared)."""
    layers = []
    for m in copy.deepcopy(net):
        if isinstance(m, nn.Linear) and m.bias is None:
            m = nn.Linear(m.in_features, m.out_features)
        layers.append(m)
    return nn.Sequential(*layers)


def _format_1_file(path, net: nn.Sequential) -> nn.Sequential:
    """Write the source file format 1 wrote for ``net``'s old form (its biases set and its
    running statistics trained with them); return that old network."""
    torch.manual_seed(0)
    old = _old_network(net)
    with torch.no_grad():
        for m in old:
            if isinstance(m, nn.Linear):
                m.bias.uniform_(-1, 1)
    old.train()
    for _ in range(3):
        old(torch.rand(32, 12))
    blob = {
        "format": "nooverfit-source/1",
        "config": CONFIG.to_dict(),
        "in_shape": [12],
        "classes": 3,
        "task": "old",
        "state": old.state_dict(),
    }
    torch.save(blob, path)
    return old.eval()


def test_new_source_files_are_format_2_without_the_old_biases(tmp_path):
    net = build_model(CONFIG, (12,), 3)
    Source(CONFIG, (12,), 3, net.state_dict(), "new").save(tmp_path / "s.pt")
    blob = torch.load(tmp_path / "s.pt", weights_only=True)
    assert blob["format"] == "nooverfit-source/2"
    assert "1.bias" not in blob["state"] and "7.bias" in blob["state"]


def test_a_format_1_source_with_biases_before_batchnorm_loads_as_the_same_network(tmp_path):
    path = tmp_path / "old.pt"
    old = _format_1_file(path, build_model(CONFIG, (12,), 3))
    assert "1.bias" in torch.load(path, weights_only=True)["state"]  # the old layout
    x = torch.rand(16, 12)
    for net in (Source.load(path).build(), load_pretrained(str(path)).model):
        assert net[1].bias is None
        torch.testing.assert_close(net.eval()(x), old(x), atol=1e-5, rtol=1e-5)
    # read, its state is today's layout: saved again, it is a true format 2 file
    Source.load(path).save(tmp_path / "again.pt")
    again = torch.load(tmp_path / "again.pt", weights_only=True)
    assert again["format"] == "nooverfit-source/2" and "1.bias" not in again["state"]
    net = Source.load(tmp_path / "again.pt").build().eval()
    torch.testing.assert_close(net(x), old(x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    ("tag", "said"),
    [
        (
            "nooverfit-source/3",
            r"was made by a newer nooverfit \(format nooverfit-source/3\); this one \(.+\) "
            r"reads nooverfit-source/1 to nooverfit-source/2: install the nooverfit that wrote it",
        ),
        ("nooverfit-source/x", "has format 'nooverfit-source/x'; expected nooverfit-source/1"),
        ("nooverfit-source/0", "has format 'nooverfit-source/0'; expected nooverfit-source/1"),
    ],
)
def test_a_source_of_a_newer_or_damaged_format_is_one_line(tmp_path, tag, said):
    """Every reader of a source file (Source.load, --pretrained, the seen-samples check)
    says so in one line naming the file, rather than "not a source file" or a warning that
    it records nothing."""
    path = tmp_path / "s.pt"
    net = build_model(CONFIG, (12,), 3)
    Source(CONFIG, (12,), 3, net.state_dict(), "t").save(path)
    blob = torch.load(path, weights_only=True)
    torch.save({**blob, "format": tag}, path)
    readers = (
        lambda: Source.load(path),
        lambda: load_pretrained(str(path)),
        lambda: check_source(str(path), {}, hint=""),
    )
    for read in readers:
        with pytest.raises(BadInput, match=said) as err:
            read()
        assert str(path) in str(err.value) and "\n" not in str(err.value)
