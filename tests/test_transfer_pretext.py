import math

import numpy as np
import pytest
import torch

from nooverfit.config import RunConfig
from nooverfit.data import Dataset, load_dataset, make_split, prepare
from nooverfit.data.split import Split
from nooverfit.models import build_model
from nooverfit.transfer import (
    Source,
    as_pretrained,
    contrastive_pretrain,
    nt_xent,
    train_contrastive,
    transfer_model,
    unlabeled_pool,
)

TINY = RunConfig(model="cnn", width=8, depth=1, batchnorm=True, augment=1.0, batch_size=32,
                 epochs=3, lr=3e-3)  # fmt: skip


def _reference_nt_xent(z1: np.ndarray, z2: np.ndarray, t: float) -> float:
    z = np.concatenate([z1, z2])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    b, total = len(z1), 0.0
    for i in range(2 * b):
        partner = (i + b) % (2 * b)
        logits = [z[i] @ z[j] / t for j in range(2 * b) if j != i]
        total += math.log(sum(math.exp(v) for v in logits)) - z[i] @ z[partner] / t
    return total / (2 * b)


def test_nt_xent_matches_hand_computed_reference():
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    got = nt_xent(torch.tensor(z1), torch.tensor(z2), temperature=0.3).item()
    assert got == pytest.approx(_reference_nt_xent(z1, z2, 0.3), rel=1e-9)


def test_nt_xent_is_low_when_partners_agree():
    z = torch.eye(4) * 3
    aligned = nt_xent(z, z.clone(), temperature=0.1)
    swapped = nt_xent(z, z[[1, 0, 3, 2]], temperature=0.1)
    assert aligned.item() < 0.01 < 5 < swapped.item()
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(z, z, temperature=0)
    with pytest.raises(ValueError, match="two"):
        nt_xent(z[:1], z[:1])


def test_unlabeled_pool_excludes_val_test_and_given_indices():
    y = np.repeat(np.arange(5), 40)
    split = make_split(y, test=0.5, val=25, seed=3)
    labelled = split.train(y, train_per_class=2)
    pool = unlabeled_pool(split, exclude=labelled)
    assert not np.intersect1d(pool, split.val).size and not np.intersect1d(pool, split.test).size
    assert not np.intersect1d(pool, labelled).size
    assert len(pool) == len(y) - len(split.val) - len(split.test) - len(labelled)
    np.testing.assert_array_equal(unlabeled_pool(split), np.sort(split.pool))
    broken = Split(pool=np.array([0, 1, 2]), val=np.array([2]), test=np.array([3]), seed=0)
    with pytest.raises(ValueError, match="overlaps"):
        unlabeled_pool(broken)


def test_train_contrastive_loss_falls():
    x = torch.as_tensor(load_dataset("digits").x[:128])
    model = build_model(TINY, (1, 8, 8), 16)
    losses = train_contrastive(model, x, TINY.replace(epochs=8), temperature=0.5)
    assert len(losses) == 8
    assert losses[-1] < losses[0] - 0.3
    with pytest.raises(ValueError, match="strength"):
        train_contrastive(model, x, TINY, strength=0.0)


def test_contrastive_pretrain_seeded_roundtrip_and_transfer(tmp_path):
    digits = load_dataset("digits")
    split = make_split(digits.y, test=0.5, val=50, seed=0)
    pool = unlabeled_pool(split)[:96]
    a = contrastive_pretrain(digits, TINY, index=pool, dim=16, device="cpu")
    b = contrastive_pretrain(digits, TINY, index=pool, dim=16, device="cpu")
    assert a.task == "contrastive:digits" and a.classes == 16 and a.in_shape == (1, 8, 8)
    assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)
    a.save(tmp_path / "c.pt")
    loaded = Source.load(tmp_path / "c.pt")
    assert loaded.config == a.config and all(
        torch.equal(loaded.state[k], a.state[k]) for k in a.state
    )
    data = prepare(digits, split, device="cpu")
    transfer = transfer_model(as_pretrained(loaded), data, strategy="head")
    assert transfer.model(data.x[:3]).shape == (3, 10)
    assert torch.equal(transfer.model.state_dict()["0.weight"], a.state["0.weight"])


def test_contrastive_pretrain_rejects_non_images_and_no_augmentation():
    tab = Dataset("t", np.zeros((10, 3), np.float32), np.arange(10) % 2, ("a", "b"), "tabular")
    with pytest.raises(ValueError, match="needs images"):
        contrastive_pretrain(tab, TINY)
    digits = load_dataset("digits")
    with pytest.raises(ValueError, match="augment > 0"):
        contrastive_pretrain(digits, TINY.replace(augment=0.0), index=np.arange(8))
