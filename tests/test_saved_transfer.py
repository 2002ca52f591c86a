"""A study whose recommendation is a transfer network saves a model that loads: the card
records the source's architecture, and loading prepares it again for the study's classes
and inputs, then loads the saved weights into it (the source's file is not needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import load_dataset
from nooverfit.data.split import split_dataset
from nooverfit.data.tensors import prepare
from nooverfit.errors import BadInput
from nooverfit.saved_model import load_study_model, model_card, save_card
from nooverfit.transfer.architecture import pretrained, record
from nooverfit.transfer.backbones import Pretrained
from nooverfit.transfer.pretrain import class_subset, pretrain
from nooverfit.transfer.runs import as_pretrained, transfer_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A folder holding a transfer network's weights and card, the network, and its data."""
    root = tmp_path_factory.mktemp("transfer")
    digits = load_dataset("digits")
    source = pretrain(class_subset(digits, range(5)), RunConfig(width=8, epochs=1))
    source.save(root / "source.pt")
    target = class_subset(digits, range(5, 10))
    data = prepare(target, split_dataset(target, seed=0), device="cpu")
    config = RunConfig(width=8, label="transfer:io", seed=0)
    loaded = as_pretrained(str(root / "source.pt"), config=config, in_shape=data.in_shape)
    network = transfer_model(loaded, data, strategy="io", seed=0).model
    with torch.no_grad():  # weights unlike a fresh preparation's, as training leaves them
        for p in network.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    folder = root / "study"
    folder.mkdir()
    torch.save(network.state_dict(), folder / "best_model.pt")
    architecture = record(str(root / "source.pt"), config, data.in_shape)
    card = model_card(
        target, [(config, data)], name="transfer:io", ensemble=False, source=architecture
    )
    save_card(card, folder / "best_model.pt")
    (root / "source.pt").unlink()  # the architecture is in the card: the file is not needed
    return folder, network.eval(), target, card


def test_a_saved_transfer_network_predicts_as_the_trained_one(saved):
    folder, network, target, _ = saved
    x = target.x[:50]
    with torch.no_grad():
        expected = torch.softmax(network(torch.as_tensor(x, dtype=torch.float32)), dim=1).numpy()
    model = load_study_model(folder)
    assert np.allclose(model.predict_proba(x), expected, atol=1e-6)
    assert list(model.predict(x)) == [target.classes[i] for i in expected.argmax(1)]


def test_a_transfer_card_without_an_architecture_is_refused_in_one_line(saved, tmp_path):
    folder, _, _, card = saved
    moved = tmp_path / "study"
    moved.mkdir()
    (moved / "best_model.pt").write_bytes((folder / "best_model.pt").read_bytes())
    save_card({**card, "source": None}, moved / "best_model.pt")
    with pytest.raises(BadInput, match="records no source architecture"):
        load_study_model(moved)
    save_card({**card, "source": {"kind": "onnx"}}, moved / "best_model.pt")
    with pytest.raises(BadInput, match="cannot be rebuilt"):
        load_study_model(moved)


def test_the_architecture_record_of_each_kind_of_source(tmp_path):
    digits = load_dataset("digits")
    source = pretrain(class_subset(digits, range(3)), RunConfig(width=8, epochs=1))
    source.save(tmp_path / "s.pt")
    config = RunConfig(width=8)
    from_object = record(source, config, (64,))
    assert from_object == record(str(tmp_path / "s.pt"), config, (64,))
    assert from_object["classes"] == 3 and from_object["config"]["width"] == 8
    # the rebuilt network has the source's parameter shapes (its weights are not read)
    rebuilt = pretrained(from_object).model.state_dict()
    assert {k: v.shape for k, v in rebuilt.items()} == {
        k: v.shape for k, v in source.state.items()
    }
    # a bare state dict: the run's model family, the output count read from its last layer
    torch.save(source.state, tmp_path / "bare.pt")
    bare = record(str(tmp_path / "bare.pt"), config, (64,))
    assert bare["classes"] == 3 and bare["in_shape"] == [64]
    assert record("torchvision:resnet18:/nowhere.pt", config, (3, 32, 32)) == {
        "kind": "torchvision",
        "name": "resnet18",
        "task": "torchvision:resnet18:/nowhere.pt",
    }
    # a network loaded in Python: nothing records its architecture
    assert record(Pretrained(torch.nn.Linear(2, 2), (2,), "mine"), config, (2,)) is None
