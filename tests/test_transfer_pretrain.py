import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import Dataset, load_dataset, make_split, prepare
from nooverfit.transfer import (
    Source,
    class_subset,
    hub_weights_path,
    load_pretrained,
    load_torchvision,
    parse_classes,
    pretrain,
    rotation_pretext,
    transfer_model,
    transfer_runs,
)

TINY = RunConfig(model="cnn", width=4, depth=1, batchnorm=True, epochs=2, batch_size=64)


def test_parse_classes_ranges_and_lists():
    assert parse_classes("0-4") == (0, 1, 2, 3, 4)
    assert parse_classes("7,5, 9") == (5, 7, 9)
    assert parse_classes("0-1,8") == (0, 1, 8)
    with pytest.raises(ValueError, match="classes must look like"):
        parse_classes("4-0")


def test_parse_classes_takes_the_data_sets_class_names():
    """A CSV's classes are names ('big cat'): --classes took label numbers only, and the
    error did not say which number each name had."""
    names = ("big cat", "dog", "3")
    assert parse_classes("big cat, dog", names) == (0, 1)
    assert parse_classes("0,dog", names) == (0, 1)
    assert parse_classes("2", names) == (2,)  # a number is a label first: class '3' is 2
    with pytest.raises(ValueError, match=r"or class names \(0 'big cat', 1 'dog', 2 '3'\), got"):
        parse_classes("big kat", names)
    with pytest.raises(ValueError, match=r"^classes must look like 0-4 or 5,7,9, got 'dog'$"):
        parse_classes("dog")


def test_class_subset_relabels_in_given_order():
    digits = load_dataset("digits")
    subset = class_subset(digits, (5, 6, 7, 8, 9))
    assert len(subset) == int(np.isin(digits.y, range(5, 10)).sum())
    assert subset.classes == ("5", "6", "7", "8", "9")
    np.testing.assert_array_equal(subset.y, digits.y[digits.y >= 5] - 5)
    with pytest.raises(ValueError, match=r"classes must be labels in 0\.\.9, got 10 outside"):
        class_subset(digits, (3, 10))


def test_classes_out_of_range_are_named_as_spans_in_one_short_line():
    digits = load_dataset("digits")
    with pytest.raises(ValueError) as err:
        class_subset(digits, parse_classes("0-99"))
    assert str(err.value) == "classes must be labels in 0..9, got 10-99 outside them"


def test_a_huge_class_range_is_refused_before_it_is_spelled_out():
    # 0-4000000000 used to build a set of four billion ints
    with pytest.raises(ValueError, match="'0-4000000000' spans more than 100000 labels"):
        parse_classes("0-4000000000")
    assert len(parse_classes("0-99999")) == 100_000


def test_rotation_pretext_rotates_and_labels():
    x = np.arange(2 * 9, dtype=np.float32).reshape(2, 1, 3, 3)
    ds = Dataset("toy", x, np.zeros(2, dtype=np.int64), ("a",), "image")
    pretext = rotation_pretext(ds, np.array([1]))
    assert len(pretext) == 4
    np.testing.assert_array_equal(pretext.y, [0, 1, 2, 3])
    np.testing.assert_array_equal(pretext.x[1, 0], np.rot90(x[1, 0]))
    np.testing.assert_array_equal(pretext.x[2, 0], x[1, 0][::-1, ::-1])


def test_source_save_load_roundtrip(tmp_path):
    digits = class_subset(load_dataset("digits"), range(2))
    source = pretrain(digits, TINY, device="cpu")
    source.save(tmp_path / "s.pt")
    loaded = Source.load(tmp_path / "s.pt")
    assert loaded.classes == 2 and loaded.in_shape == (1, 8, 8) and loaded.config == TINY
    x = torch.as_tensor(digits.x[:5])
    a, b = source.build().eval(), load_pretrained(str(tmp_path / "s.pt")).model.eval()
    torch.testing.assert_close(a(x), b(x))


def test_load_pretrained_bare_state_dict_needs_config(tmp_path):
    from nooverfit.models import build_model

    state = build_model(TINY, (1, 8, 8), 3).state_dict()
    torch.save(state, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="bare state dict"):
        load_pretrained(str(tmp_path / "model.pt"))
    model = load_pretrained(str(tmp_path / "model.pt"), config=TINY, in_shape=(1, 8, 8)).model
    assert model[-1].out_features == 3


def test_load_torchvision_from_local_weights_file(tmp_path):
    import torchvision

    torch.manual_seed(0)
    reference = torchvision.models.resnet18(weights=None)
    torch.save(reference.state_dict(), tmp_path / "r18.pth")
    pretrained = load_pretrained(f"torchvision:resnet18:{tmp_path / 'r18.pth'}")
    for k, v in reference.state_dict().items():
        assert torch.equal(pretrained.model.state_dict()[k], v)
    ds = Dataset("toy", np.zeros((20, 1, 8, 8), np.float32), np.arange(20) % 2, ("a", "b"),
                 "image")  # fmt: skip
    data = prepare(ds, make_split(ds.y, test=4, val=4, seed=0), device="cpu")
    transfer = transfer_model(pretrained, data, strategy="head")
    assert transfer.trainable() == ["conv1.weight", "fc.weight", "fc.bias"]
    assert transfer.model(torch.zeros(3, 1, 8, 8)).shape == (3, 2)


def test_load_torchvision_offline_without_weights_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    expected = tmp_path / "hub" / "checkpoints" / "mobilenet_v3_small-047dcff4.pth"
    assert hub_weights_path("mobilenet_v3_small") == expected
    with pytest.raises(FileNotFoundError) as err:
        load_torchvision("mobilenet_v3_small")
    message = str(err.value)
    assert "\n" not in message and str(expected.parent) in message and expected.name in message
    with pytest.raises(ValueError, match="unknown torchvision model"):
        load_torchvision("resnet9000")


def test_transfer_runs_scratch_and_strategies():
    digits = load_dataset("digits")
    source = pretrain(class_subset(digits, range(3)), TINY, device="cpu")
    target = class_subset(digits, (5, 6))
    data = prepare(target, make_split(target.y, test=0.5, val=20, seed=0), device="cpu")
    base = TINY.replace(train_per_class=3)
    results = transfer_runs(data, source=source, strategies=("head", "io"), base_config=base)
    assert [r.config.label for r in results] == ["scratch", "transfer:head", "transfer:io"]
    assert all(len(r.history) == 2 for r in results)
    # head keeps the pretrained conv; scratch does not
    conv = source.state["0.weight"]
    assert torch.equal(results[1].state["0.weight"], conv)
    assert not torch.equal(results[0].state["0.weight"], conv)
    assert results[1].state["5.weight"].shape[0] == 2


def test_source_save_refuses_an_existing_file_unless_overwrite(tmp_path):
    """Source.save replaced an earlier source silently (pretrain's CLI checked, the library
    call did not)."""
    from nooverfit.errors import OutputExists

    first = Source(TINY, (1, 8, 8), 2, {}, "first")
    first.save(tmp_path / "s.pt")
    before = (tmp_path / "s.pt").read_bytes()
    with pytest.raises(OutputExists, match=r"s\.pt already exists.*--overwrite"):
        Source(TINY, (1, 8, 8), 3, {}, "second").save(tmp_path / "s.pt")
    assert (tmp_path / "s.pt").read_bytes() == before  # nothing lost
    Source(TINY, (1, 8, 8), 3, {}, "second").save(tmp_path / "s.pt", overwrite=True)
    assert Source.load(tmp_path / "s.pt").task == "second"
