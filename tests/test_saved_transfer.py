"""A study whose recommendation is a transfer network saves a model that loads: the card
names the source, and loading prepares the source's architecture again for the study's
classes and inputs, then loads the saved weights into it."""

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
    pretrained = as_pretrained(str(root / "source.pt"), config=config, in_shape=data.in_shape)
    network = transfer_model(pretrained, data, strategy="io", seed=0).model
    with torch.no_grad():  # weights unlike a fresh preparation's, as training leaves them
        for p in network.parameters():
            p.add_(0.01 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    folder = root / "study"
    folder.mkdir()
    torch.save(network.state_dict(), folder / "best_model.pt")
    card = model_card(
        target,
        [(config, data)],
        name="transfer:io",
        ensemble=False,
        source=str(root / "source.pt"),
    )
    save_card(card, folder / "best_model.pt")
    return folder, network.eval(), target, card


def test_a_saved_transfer_network_predicts_as_the_trained_one(saved):
    folder, network, target, _ = saved
    x = target.x[:50]
    with torch.no_grad():
        expected = torch.softmax(network(torch.as_tensor(x, dtype=torch.float32)), dim=1).numpy()
    model = load_study_model(folder)
    assert np.allclose(model.predict_proba(x), expected, atol=1e-6)
    assert list(model.predict(x)) == [target.classes[i] for i in expected.argmax(1)]


def test_a_transfer_card_without_its_source_file_is_refused_in_one_line(saved, tmp_path):
    folder, _, _, card = saved
    moved = tmp_path / "study"
    moved.mkdir()
    (moved / "best_model.pt").write_bytes((folder / "best_model.pt").read_bytes())
    save_card({**card, "source": str(tmp_path / "gone.pt")}, moved / "best_model.pt")
    with pytest.raises(BadInput, match=r"gone\.pt, which does not exist here"):
        load_study_model(moved)
    save_card({**card, "source": None}, moved / "best_model.pt")
    with pytest.raises(BadInput, match="names no source"):
        load_study_model(moved)
